"""The tasking service: cross-team tasks, legal-assistance requests and victim referrals.

``domain`` holds the pure lifecycle (decide/evolve/due); the faust wiring and HTTP router live
beside it and call it.
"""
