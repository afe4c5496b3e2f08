"""The web UI for JIT members and rapid-response desks: server-rendered pages under ``/ui``.

Pages read through the gateway's own team-scoped JSON endpoints (in process), and the browser
sends commands to those same endpoints, so the UI can show or do nothing the API would refuse.
"""
