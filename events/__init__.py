"""Interlock's typed event catalogue: envelope, payload models per bounded context, registry, codec.

Nothing here performs I/O; services depend on this package, never on each other.
"""
