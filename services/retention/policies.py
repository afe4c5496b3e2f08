"""The retention policies in force, read from the compacted directory topic.

The retention worker reads them to decide when subjects are due; the gateway to show a team its
periods and to refuse a careless shortening.
"""

from __future__ import annotations

import asyncio

from events.codec import decode
from events.directory import RetentionPolicySet
from events.topics import DIRECTORY
from services.kit.compacted import CompactedReader
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.retention.domain import Policies

log = get_logger()


class PolicyBook:
    """The retention policies in force, read from the compacted directory topic."""

    def __init__(self, settings: Settings) -> None:
        self.policies = Policies()
        self._reader = CompactedReader(
            settings, settings.topic(DIRECTORY.name), self._take, name="policies"
        )

    def start(self) -> None:
        self._reader.start()

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        name = key.decode("utf-8", "replace") if key else ""
        if not name.startswith("retention:"):
            return
        if value is None:
            self.policies = self.policies.without(name)
            return
        try:
            record = decode(value).data
        except ValueError as exc:
            log.warning("retention policy record skipped", key=name, reason=str(exc)[:200])
            return
        if isinstance(record, RetentionPolicySet):
            self.policies = self.policies.with_record(record)

    async def current(self) -> Policies:
        """The policies up to the directory's current end: a policy set a moment ago counts."""
        await asyncio.to_thread(self._reader.catch_up)
        return self.policies
