"""Projection lag for ``/health`` and metrics: newest record time on the projected topics minus
the newest projected record time, per partition (the checkpoints the projection writes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from events.topics import TopicSpec
from services.kit.logs import LastRecords, last_records
from services.kit.settings import Settings
from services.projection.graph import PROJECTED_TOPICS
from services.projection.views import GraphViews


def projection_group(settings: Settings) -> str:
    """The projection's consumer group, under which its checkpoints are kept."""
    return f"{settings.topic_prefix}interlock-projection"


def topic_ends(
    settings: Settings,
    topics: Sequence[TopicSpec] = PROJECTED_TOPICS,
    *,
    timeout: float = 5.0,
) -> LastRecords:
    """Per (topic, partition) projected: the high watermark and the timestamp (ms) of the last
    record."""
    return last_records(settings, [settings.topic(t.name) for t in topics], timeout=timeout)


async def projection_lag(settings: Settings, views: GraphViews) -> dict[str, Any]:
    """The projection's lag in seconds and records behind, per partition and at worst.

    For the gateway's ``/health``: ``lag_seconds`` is None when a partition has records but
    nothing was ever projected from it.
    """
    ends = await asyncio.to_thread(topic_ends, settings)
    return await views.projection_lag(group=projection_group(settings), ends=ends)
