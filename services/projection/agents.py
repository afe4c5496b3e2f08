"""The projection's faust wiring: event topics in, batched graph writes out.

Offsets are acknowledged only after a batch is written, and the batch's checkpoint (newest
offset and record time per partition, for the projection lag) is written in the same
transaction as its effects. Every write is idempotent, so a crash replays safely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import faust
from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import (
    ClientError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from events.envelope import Envelope
from services.kit.graphdb import async_driver
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.streams import DeadLetters, create_app, decode_or_explain, raw_topic
from services.projection.graph import (
    CHECKPOINT,
    CONSTRAINTS,
    PROJECTED_TOPICS,
    Row,
    checkpoint_rows,
    plan,
)
from services.projection.lag import projection_group

log = get_logger()

__all__ = [
    "BATCH",
    "PROJECTED_TOPICS",
    "build",
    "ensure_schema",
    "projection_group",
    "write",
    "write_until_done",
]

BATCH = 1000
BATCH_WITHIN = 0.05

Position = tuple[str, int, int, int]
"""(topic, partition, offset, record timestamp ms) of a record."""


async def ensure_schema(driver: AsyncDriver) -> None:
    async with driver.session() as session:
        for statement in CONSTRAINTS:
            await (await session.run(statement)).consume()


async def write(
    driver: AsyncDriver,
    envelopes: Sequence[Envelope],
    *,
    checkpoints: Sequence[Row] = (),
) -> None:
    """Write a batch in one managed transaction (retried on transient errors and deadlocks)."""
    groups = plan(envelopes)
    if not groups and not checkpoints:
        return

    async def work(tx: AsyncManagedTransaction) -> None:
        for cypher, rows in groups:
            await (await tx.run(cypher, rows=rows)).consume()
        if checkpoints:
            await (await tx.run(CHECKPOINT, rows=list(checkpoints))).consume()

    async with driver.session() as session:
        await session.execute_write(work)


async def write_until_done(
    driver: AsyncDriver,
    envelopes: Sequence[Envelope],
    *,
    checkpoints: Sequence[Row] = (),
) -> None:
    """Write, waiting out an unavailable database: the batch is not acknowledged meanwhile."""
    delay = 0.5
    while True:
        try:
            await write(driver, envelopes, checkpoints=checkpoints)
            return
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            log.warning("graph unavailable; retrying", error=type(exc).__name__, delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


async def write_or_isolate(
    driver: AsyncDriver,
    envelopes: Sequence[Envelope],
    *,
    checkpoints: Sequence[Row] = (),
) -> list[tuple[int, str]]:
    """Write a batch; if the graph refuses it, write its events one by one.

    Returns (index, reason) of the events the graph refused, for the dead-letter topic. The
    checkpoint is written with the batch, or after the events one by one.
    """
    try:
        await write_until_done(driver, envelopes, checkpoints=checkpoints)
        return []
    except (ClientError, ValueError, TypeError):
        log.exception("batch refused by the graph; writing its events one by one")
    refused: list[tuple[int, str]] = []
    for i, env in enumerate(envelopes):
        try:
            await write_until_done(driver, [env])
        except (ClientError, ValueError, TypeError) as exc:
            refused.append((i, f"graph refused {env.type}: {exc}"))
    await write_until_done(driver, [], checkpoints=checkpoints)
    return refused


def positions(batch: Iterable[faust.EventT[bytes]]) -> list[Position]:
    found = []
    for event in batch:
        msg = event.message
        found.append((msg.topic, msg.partition, msg.offset, int(msg.timestamp * 1000)))
    return found


def build(settings: Settings) -> faust.App:
    app = create_app("projection", settings)
    state: dict[str, Any] = {}
    dead = DeadLetters(app, settings, "projection")
    topics = [raw_topic(app, settings, t) for t in PROJECTED_TOPICS]
    channel = app.topic(
        *[t.get_topic_name() for t in topics],
        key_serializer="raw",
        value_serializer="raw",
    )
    group = projection_group(settings)

    async def graph() -> AsyncDriver:
        if "driver" not in state:
            driver = async_driver(settings)
            for attempt in range(60):
                try:
                    await ensure_schema(driver)
                    break
                except Exception as exc:  # noqa: BLE001 - any start-up failure is retried, logged
                    log.warning("neo4j not ready", attempt=attempt, error=type(exc).__name__)
                    await asyncio.sleep(1)
            state["driver"] = driver
        found: AsyncDriver = state["driver"]
        return found

    async def project(stream: faust.StreamT[bytes]) -> None:
        batches = stream.noack_take(BATCH, within=BATCH_WITHIN)
        async for batch in batches:
            await _project(list(batch))
            for event in batch:
                event.ack()

    async def _project(batch: list[faust.EventT[bytes]]) -> None:
        """Write one batch; its offsets are acknowledged only after this returns."""
        envelopes: list[Envelope] = []
        decoded: list[faust.EventT[bytes]] = []
        for event in batch:
            env, error, _ = decode_or_explain(event.value)
            if env is None:
                assert error is not None
                await dead.refuse(event, error)
                continue
            envelopes.append(env)
            decoded.append(event)
        driver = await graph()
        refused = await write_or_isolate(
            driver, envelopes, checkpoints=checkpoint_rows(group, positions(batch))
        )
        for index, reason in refused:
            await dead.send(decoded[index], reason)
        log.debug("batch projected", events=len(envelopes), refused=len(refused))

    app.agent(channel, name=f"{app.conf.id}.project")(project)
    return app
