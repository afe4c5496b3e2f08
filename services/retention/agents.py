"""The retention service's faust wiring.

One agent reads, in order per subject, the events of the three contexts that collect data
(leads, tasks, operations) and the retention commands: every topic is keyed by subject id, so one
worker owns a subject's record and its events, commands and ticks never race. A timer sends a
``CheckRetention`` tick for each subject whose reminder or erasure is due. An erasure is published
(and confirmed) before the subject's key is destroyed and before the record says so, so a crash
in between replays the same erasure, which shreds the same key again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from events.codec import envelop
from events.deconfliction import OperationCancelled, OperationMoved, OperationPlanned
from events.envelope import Actor, Envelope, new_id
from events.leads import (
    EntityObserved,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadSubmitted,
    LeadTriaged,
)
from events.outcomes import CommandRejected
from events.retention import (
    CheckRetention,
    DataCategory,
    RetentionCommand,
    SubjectErased,
    SubjectKind,
)
from events.sealing import key_id
from events.tasking import TaskEvent, TaskRequested
from events.topics import (
    DECONFLICTION_EVENTS,
    LEAD_EVENTS,
    RETENTION_COMMANDS,
    TASK_EVENTS,
)
from services.kit.keys import install_key_ring
from services.kit.logging import get_logger
from services.kit.runtime import POLICY, Poison
from services.kit.settings import Settings
from services.kit.streams import (
    OUTCOME_TYPES,
    DeadLetters,
    Deadlines,
    Domain,
    addressed_envelope,
    create_app,
    decode_or_explain,
    header_envelope,
    publish,
    raw_topic,
    register_deadlines,
    run_decide,
    send_outcomes,
    state_from_json,
    state_to_json,
)
from services.retention import domain
from services.retention.domain import OPERATION_CATEGORIES, SubjectRecord
from services.retention.policies import PolicyBook
from services.retention.settings import RetentionSettings, load_retention_settings

log = get_logger()

SOURCE = "/interlock/retention"
TIMER_MEMBER = "retention-timer"
"""The member id retention ticks are issued as: the service itself, not a person."""

OBSERVED = (LEAD_EVENTS, TASK_EVENTS, DECONFLICTION_EVENTS)
"""The topics whose events make and keep subjects; all keyed by the subject's id."""

RETENTION = Domain(
    name="retention",
    state_model=SubjectRecord,
    decide=domain.decide,
    evolve=domain.evolve,
    source=SOURCE,
)


@dataclass(frozen=True)
class Observation:
    """What one event of another context says about its subject."""

    subject_id: str
    kind: SubjectKind
    categories: frozenset[DataCategory]


LEAD_FOLLOW_UPS = (LeadTriaged, LeadActioned, LeadClosed, LeadDiscarded, EntityObserved)
OPERATION_EVENTS = (OperationPlanned, OperationMoved, OperationCancelled)


def observation(event: Any) -> Observation | None:
    """The subject an event collects or uses data of; None for the events that do neither."""
    if isinstance(event, LeadSubmitted):
        return Observation(event.lead_id, SubjectKind.LEAD, domain.lead_categories(event))
    if isinstance(event, LEAD_FOLLOW_UPS):
        return Observation(event.lead_id, SubjectKind.LEAD, frozenset({DataCategory.LEADS}))
    if isinstance(event, TaskRequested):
        return Observation(event.task_id, SubjectKind.TASK, domain.task_categories(event))
    if isinstance(event, TaskEvent):
        return Observation(event.task_id, SubjectKind.TASK, frozenset({DataCategory.TASKS}))
    if isinstance(event, OPERATION_EVENTS):
        return Observation(event.operation_id, SubjectKind.OPERATION, OPERATION_CATEGORIES)
    return None


def retention_tick(subject_id: str, record: SubjectRecord, now: datetime) -> Envelope:
    """A tick for one subject, on its owner's behalf, to the subject's one writer."""
    return envelop(
        CheckRetention(
            subject_id=subject_id,
            subject_kind=record.subject_kind,
            actor=Actor(member=TIMER_MEMBER, team=record.owner_team),
        ),
        subject=subject_id,
        jit=record.jit,
        originator=record.owner_team,
        source=SOURCE,
        correlation_id=new_id(),
    )


def build(settings: Settings, retention: RetentionSettings | None = None) -> faust.App:
    """The retention worker: one writer per subject; the key custodian of erasures."""
    retention = retention or load_retention_settings()
    app = create_app("retention", settings)
    ring = install_key_ring(settings)
    book = PolicyBook(settings)
    dead = DeadLetters(app, settings, app.conf.id)
    table = app.Table("retention_subjects", partitions=settings.partitions, key_type=bytes)
    topics = [raw_topic(app, settings, t) for t in (*OBSERVED, RETENTION_COMMANDS)]
    commands_topic = settings.topic(RETENTION_COMMANDS.name)
    channel = app.topic(
        *[t.get_topic_name() for t in topics], key_serializer="raw", value_serializer="raw"
    )

    @app.task  # type: ignore[untyped-decorator]
    async def read_policies() -> None:
        book.start()

    async def handle(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.noack().events():
            await POLICY.guarded(
                "retention record",
                lambda event=event: route(event),  # type: ignore[misc]
                lambda reason, fields, event=event: dead.send(event, reason, fields),  # type: ignore[misc]
            )
            event.ack()

    async def route(event: faust.EventT[bytes]) -> None:
        if event.message.topic == commands_topic:
            await command(event)
        else:
            await observe(event)

    async def observe(event: faust.EventT[bytes]) -> None:
        cause, error, _ = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await dead.refuse(event, error)
            return
        seen = observation(cause.data)
        if seen is None:
            return
        key = seen.subject_id.encode()
        record = state_from_json(SubjectRecord, table.get(key))
        if record is not None and record.erased:
            return
        try:
            new = domain.observe(
                record,
                subject_id=seen.subject_id,
                subject_kind=seen.kind,
                jit=cause.jit,
                owner_team=cause.originator,
                categories=seen.categories,
                at=cause.time,
                audience=cause.audience,
            )
        except ValueError as exc:
            raise Poison(f"not observed: {exc}") from exc
        if new != record:
            table[key] = state_to_json(new)

    async def command(event: faust.EventT[bytes]) -> None:
        cause, error, wire = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await dead.refuse(event, error)
            header = header_envelope(wire) if wire else None
            if header is not None:
                refused = CommandRejected(
                    command_type=header.type,
                    command_id=header.id,
                    status=422,
                    reason=error.reason,
                )
                await send_outcomes(
                    app, settings, [addressed_envelope(header, refused, SOURCE, 0, 0)]
                )
            return
        data = cause.data
        if not isinstance(data, RetentionCommand):
            await misaddressed(event, cause, f"{cause.type} is not a retention command", "type")
            return
        if cause.subject != data.subject_id:
            reason = f"subject {cause.subject} is not the command's subject_id {data.subject_id}"
            await misaddressed(event, cause, reason, "subject")
            return
        key = data.subject_id.encode()
        record = state_from_json(SubjectRecord, table.get(key))
        policies = await book.current()
        outputs = run_decide(
            RETENTION,
            cause,
            record,
            now=datetime.now(UTC),
            context={"policies": policies, "jit": cause.jit},
        )
        events = [e for e in outputs.envelopes if e.type not in OUTCOME_TYPES]
        if outputs.state_changed:
            await POLICY.retrying(
                "retention events", lambda: publish(app, settings, events, confirm=True)
            )
            for env in events:
                if isinstance(env.data, SubjectErased):
                    await asyncio.to_thread(ring.destroy, key_id(env.jit, env.data.subject_id))
                    log.info(
                        "subject erased",
                        subject=env.data.subject_id,
                        kind=env.data.subject_kind.value,
                        cause=env.data.cause,
                    )
            table[key] = state_to_json(outputs.state)
            await send_outcomes(app, settings, [e for e in outputs.envelopes if e not in events])
        else:
            await send_outcomes(app, settings, outputs.envelopes)

    async def misaddressed(
        event: faust.EventT[bytes], cause: Envelope, reason: str, field: str
    ) -> None:
        """A command this service cannot apply: dead-lettered, and refused to its sender."""
        await dead.send(event, reason, [field])
        refused = CommandRejected(
            command_type=cause.type, command_id=cause.id, status=422, reason=reason
        )
        await send_outcomes(app, settings, [addressed_envelope(cause, refused, SOURCE, 0, 0)])

    app.agent(channel, name=f"{app.conf.id}.subjects")(handle)
    register_deadlines(
        app,
        settings,
        table,
        RETENTION,
        Deadlines(
            next_due=lambda record: domain.next_due(record, book.policies),
            tick=retention_tick,
            interval=retention.check_seconds,
        ),
    )
    return app
