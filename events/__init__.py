"""Interlock's typed event catalogue: envelope, payload models per bounded context, registry, codec.

Nothing here performs I/O; services depend on this package, never on each other. The catalogue
is loaded first so that importing any context module on its own finds it complete.
"""

from events import catalogue as catalogue
