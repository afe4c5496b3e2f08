"""The indicators worker: event topics in, facts written to Neo4j in batches.

Offsets are acknowledged only after a batch's facts are written; every write is a ``MERGE`` on
the event id, so a crash replays safely. An unreadable record goes to the dead-letter topic
with the reason; a record whose subject was erased is passed over (its facts are gone too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import faust
from neo4j import AsyncDriver
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from events.envelope import Envelope
from events.evaluation import EvaluationNoteWritten, note_subject
from events.retention import SubjectErased
from events.topics import (
    ALERT_EVENTS,
    AUDIT,
    DECONFLICTION_EVENTS,
    EVALUATION_COMMANDS,
    EVALUATION_EVENTS,
    LEAD_EVENTS,
    RETENTION_EVENTS,
    TASK_EVENTS,
    TopicSpec,
)
from services.indicators import notes
from services.indicators.facts import Fact, fact_of
from services.indicators.store import ensure_schema, write_facts
from services.kit.graphdb import async_driver
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.streams import (
    DeadLetters,
    Domain,
    command_processor,
    create_app,
    decode_or_explain,
    raw_topic,
)

log = get_logger()

BATCH = 1000
BATCH_WITHIN = 0.05

COUNTED_TOPICS: tuple[TopicSpec, ...] = (
    ALERT_EVENTS,
    DECONFLICTION_EVENTS,
    TASK_EVENTS,
    LEAD_EVENTS,
    RETENTION_EVENTS,
    AUDIT,
    EVALUATION_EVENTS,
)
"""The topics the indicators are computed from (and a rebuild replays), logical names."""


SOURCE = "/interlock/indicators"

NOTES = Domain(
    name="evaluation_note",
    state_model=notes.NoteState,
    decide=notes.decide,
    evolve=notes.evolve,
    source=SOURCE,
)


def note_row(e: EvaluationNoteWritten) -> dict[str, Any]:
    """An assessment as the report reads it."""
    return {
        "id": note_subject(e.jit, e.section.value, e.period_from, e.period_to),
        "jit": e.jit,
        "section": e.section.value,
        "period_from": e.period_from.isoformat(),
        "period_to": e.period_to.isoformat(),
        "text": e.text,
        "by": e.by,
        "team": e.team,
        "at": e.at.isoformat(),
        "version": e.version,
    }


def facts_of(envelopes: Sequence[Envelope]) -> tuple[list[Fact], list[str], list[dict[str, Any]]]:
    """A batch's facts, the subjects it erases, and the assessments written."""
    facts: list[Fact] = []
    erased: list[str] = []
    written: list[dict[str, Any]] = []
    for env in envelopes:
        if isinstance(env.data, EvaluationNoteWritten):
            written.append(note_row(env.data))
        fact = fact_of(env)
        if fact is not None:
            facts.append(fact)
        if isinstance(env.data, SubjectErased):
            erased.append(env.data.subject_id)
    return facts, erased, written


async def write_until_done(driver: AsyncDriver, envelopes: Sequence[Envelope]) -> None:
    """Write a batch's facts, waiting out an unavailable database (nothing acked meanwhile)."""
    facts, erased, written = facts_of(envelopes)
    delay = 0.5
    while True:
        try:
            await write_facts(driver, facts, erased, written)
            return
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            log.warning("graph unavailable; retrying", error=type(exc).__name__, delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


def build(settings: Settings) -> faust.App:
    """The indicators worker: one consumer group, facts in Neo4j."""
    app = create_app("indicators", settings)
    command_processor(app, settings, domain=NOTES, commands=EVALUATION_COMMANDS)
    state: dict[str, Any] = {}
    dead = DeadLetters(app, settings, "indicators")
    topics = [raw_topic(app, settings, t) for t in COUNTED_TOPICS]
    channel = app.topic(
        *[t.get_topic_name() for t in topics], key_serializer="raw", value_serializer="raw"
    )

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

    async def count(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            envelopes: list[Envelope] = []
            for event in batch:
                env, error, _ = decode_or_explain(event.value)
                if env is None:
                    assert error is not None
                    await dead.refuse(event, error)
                    continue
                envelopes.append(env)
            await write_until_done(await graph(), envelopes)
            for event in batch:
                event.ack()

    app.agent(channel, name=f"{app.conf.id}.count")(count)
    return app
