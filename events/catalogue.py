"""The catalogue as data: event type → payload model → topic → partition key.

Services, provisioning, the codec and the contract generator all read this one table, so a type
string, a topic name or a key choice is written exactly once. The entry and look-up types live in
``events/registry.py``; the context modules declare their entries with them.
"""

from __future__ import annotations

from events import (
    alerts,
    audit,
    deconfliction,
    directory,
    evaluation,
    evidence,
    leads,
    messaging,
    outcomes,
    retention,
    tasking,
)
from events.registry import Catalogue, CatalogueEntry, KeyField, UnknownType

__all__ = [
    "CATALOGUE",
    "INTERNAL",
    "Catalogue",
    "CatalogueEntry",
    "KeyField",
    "UnknownType",
]

CATALOGUE = Catalogue(
    [
        *directory.ENTRIES,
        *outcomes.ENTRIES,
        *leads.ENTRIES,
        *deconfliction.ENTRIES,
        *alerts.ENTRIES,
        *tasking.ENTRIES,
        *evidence.ENTRIES,
        *messaging.ENTRIES,
        *retention.ENTRIES,
        *audit.ENTRIES,
        *evaluation.ENTRIES,
    ]
)

INTERNAL = Catalogue([*deconfliction.INTERNAL_ENTRIES])
"""Types a service writes only to itself, on an internal topic (deconfliction's index timers and
erasures): never accepted from a team or a national system, documented so the wire has no
undocumented record."""
