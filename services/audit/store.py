"""Reading the chained audit log back from its topic, in the order it was written."""

from __future__ import annotations

from collections.abc import Iterator

from events.topics import AUDIT_CHAIN
from services.kit.logs import read_partition
from services.kit.settings import Settings


def chain_values(settings: Settings, *, timeout: float = 30.0) -> Iterator[bytes]:
    """Every raw link on the chain topic, from the first to the last written when called."""
    return read_partition(
        settings, settings.topic(AUDIT_CHAIN.name), group="interlock-audit-reader", timeout=timeout
    )
