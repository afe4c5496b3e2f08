"""Projection lag for ``/health`` and metrics: newest record time on the projected topics minus
the newest projected record time, per partition (the checkpoints the projection writes)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from events.topics import TopicSpec
from services.kit.kafka import watermarks
from services.kit.settings import Settings
from services.projection.graph import PROJECTED_TOPICS
from services.projection.views import GraphViews

TopicEnds = dict[tuple[str, int], tuple[int, int | None]]


def projection_group(settings: Settings) -> str:
    """The projection's consumer group, under which its checkpoints are kept."""
    return f"{settings.topic_prefix}interlock-projection"


def topic_ends(
    settings: Settings,
    topics: Sequence[TopicSpec] = PROJECTED_TOPICS,
    *,
    timeout: float = 5.0,
) -> TopicEnds:
    """Per (topic, partition): the high watermark and the timestamp (ms) of the last record."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.topic_prefix}interlock-lag-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=timeout)
        ends: TopicEnds = {}
        wanted: list[TopicPartition] = []
        for spec in topics:
            name = settings.topic(spec.name)
            topic = metadata.topics.get(name)
            if topic is None or topic.error is not None:
                continue
            for partition in topic.partitions:
                low, high = watermarks(consumer, name, partition, timeout)
                ends[(name, partition)] = (high, None)
                if high > low:
                    wanted.append(TopicPartition(name, partition, high - 1))
        if wanted:
            consumer.assign(wanted)
            pending = {(tp.topic, tp.partition) for tp in wanted}
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=len(pending), timeout=0.5):
                    if msg.error() is not None:
                        continue
                    key = (str(msg.topic()), int(msg.partition() or 0))
                    if key in pending:
                        ends[key] = (ends[key][0], msg.timestamp()[1])
                        pending.discard(key)
        return ends
    finally:
        consumer.close()


async def projection_lag(settings: Settings, views: GraphViews) -> dict[str, Any]:
    """The projection's lag in seconds and records behind, per partition and at worst.

    For the gateway's ``/health``: ``lag_seconds`` is None when a partition has records but
    nothing was ever projected from it.
    """
    ends = await asyncio.to_thread(topic_ends, settings)
    return await views.projection_lag(group=projection_group(settings), ends=ends)
