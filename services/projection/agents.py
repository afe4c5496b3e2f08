"""The projection's faust wiring: event topics in, batched graph writes out.

Offsets are committed only after a batch is written (faust acks a batch's events when the
loop body has returned), and every write is idempotent, so a crash replays safely.
"""

from __future__ import annotations

import asyncio
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
from events.topics import LEAD_EVENTS, TopicSpec
from services.kit.graphdb import async_driver
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.streams import DeadLetters, create_app, decode_or_explain, raw_topic
from services.projection.graph import CONSTRAINTS, plan

log = get_logger()

PROJECTED_TOPICS: tuple[TopicSpec, ...] = (LEAD_EVENTS,)
BATCH = 1000
BATCH_WITHIN = 0.05


async def ensure_schema(driver: AsyncDriver) -> None:
    async with driver.session() as session:
        for statement in CONSTRAINTS:
            await session.run(statement)


async def write(driver: AsyncDriver, envelopes: list[Envelope]) -> None:
    """Write a batch in one managed transaction (retried on transient errors and deadlocks)."""
    groups = plan(envelopes)
    if not groups:
        return

    async def work(tx: AsyncManagedTransaction) -> None:
        for cypher, rows in groups:
            await (await tx.run(cypher, rows=rows)).consume()

    async with driver.session() as session:
        await session.execute_write(work)


async def write_until_done(driver: AsyncDriver, envelopes: list[Envelope]) -> None:
    """Write, waiting out an unavailable database: the batch is not acknowledged meanwhile."""
    delay = 0.5
    while True:
        try:
            await write(driver, envelopes)
            return
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            log.warning(
                "graph unavailable; retrying", error=type(exc).__name__, delay=delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


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

    async def graph() -> AsyncDriver:
        if "driver" not in state:
            driver = async_driver(settings)
            for attempt in range(60):
                try:
                    await ensure_schema(driver)
                    break
                except Exception as exc:
                    log.warning(
                        "neo4j not ready", attempt=attempt, error=type(exc).__name__
                    )
                    await asyncio.sleep(1)
            state["driver"] = driver
        found: AsyncDriver = state["driver"]
        return found

    @app.agent(channel, name=f"{app.conf.id}.project")
    async def project(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            await _project(list(batch))
            for event in batch:
                event.ack()

    async def _project(batch: list[faust.EventT]) -> None:
        """Write one batch; its offsets are acknowledged only after this returns."""
        envelopes: list[Envelope] = []
        decoded: list[faust.EventT] = []
        for event in batch:
            env, error, _ = decode_or_explain(event.value)
            if env is None:
                assert error is not None
                await dead.send(event, error.reason, error.fields)
                continue
            envelopes.append(env)
            decoded.append(event)
        driver = await graph()
        try:
            await write_until_done(driver, envelopes)
        except (ClientError, ValueError, TypeError):
            log.exception("batch refused by the graph; writing its events one by one")
            for env, event in zip(envelopes, decoded, strict=True):
                try:
                    await write_until_done(driver, [env])
                except (ClientError, ValueError, TypeError) as exc:
                    await dead.send(event, f"graph refused {env.type}: {exc}")

    return app
