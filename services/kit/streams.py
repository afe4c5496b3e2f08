"""faust wiring shared by the services: the app, raw topics, decoding with a dead-letter path,
and the command processor that runs a pure ``decide``/``evolve`` domain over a keyed table.

One writer per aggregate: commands are keyed by aggregate id, so one partition (and one worker)
owns an aggregate; its state lives in a changelog-backed table co-partitioned with the commands.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import faust
import faust.streams as faust_streams
from confluent_kafka.admin import NewTopic
from mode import Service
from mode.utils.times import want_seconds
from pydantic import BaseModel, ValidationError

from events import sealing
from events.codec import ErasedEvent, InvalidEvent, decode, envelop, sealed_subject
from events.envelope import Addressed, Command, Envelope, Event
from events.outcomes import CommandAccepted, CommandRejected, FieldError, Rejected
from events.retention import SubjectErased, SubjectKind
from events.topics import RETENTION_EVENTS, TopicSpec
from services.kit.kafka import (
    Headers,
    Publisher,
    create_topics,
    dead_letter_record,
    dead_letter_topic,
    faust_app,
    record_headers,
)
from services.kit.keys import KafkaKeyRing, install_key_ring, prepare_keys
from services.kit.logging import get_logger
from services.kit.recovery import SeekFirstTableManager, SnapshotTransport
from services.kit.runtime import POLICY, Refused, in_batches
from services.kit.settings import Settings

log = get_logger()

S = TypeVar("S", bound=BaseModel)

OUTCOME_TYPES = frozenset({CommandAccepted.type, CommandRejected.type})

EVENT_ID_NAMESPACE = uuid.UUID("6f1d7a52-3c55-4b55-9a7e-1b9e4f7c2d10")


def derived_id(cause_id: str, index: int) -> str:
    """A deterministic id for the index-th event caused by a record.

    Reprocessing the same record after a crash yields the same ids, so every consumer can
    drop the repeat by id: effectively-once on top of at-least-once delivery.
    """
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause_id}/{index}"))


def create_app(service: str, settings: Settings, **overrides: Any) -> faust.App:
    """A faust app with Interlock's defaults: one consumer group per service, raw values,
    acks from all replicas, offsets committed only after the outputs are flushed."""
    options: dict[str, Any] = {
        "store": "memory://",
        "topic_partitions": settings.partitions,
        "topic_replication_factor": 1,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "producer_acks": -1,
        "producer_linger": 0.002,
        "processing_guarantee": settings.processing_guarantee,
        "consumer_auto_offset_reset": "earliest",
        "broker_commit_interval": 0.5,
        "broker_session_timeout": 10.0,
        "broker_heartbeat_interval": 2.0,
        "web_enabled": False,
        "table_cleanup_interval": 30.0,
        "stream_wait_empty": False,
        "topic_disable_leader": True,
        "datadir": f".data/faust/{settings.topic_prefix}{service}",
        "TableManager": SeekFirstTableManager,
    }
    options.update(overrides)
    Path(options["datadir"]).mkdir(parents=True, exist_ok=True)
    app: faust.App = faust_app(settings, f"{settings.topic_prefix}interlock-{service}", **options)
    install_key_ring(settings)
    app.transport = SnapshotTransport(app.conf.broker_consumer, app)

    class Outbox(Service):
        """Flushes the worker's event producer when the worker stops."""

        async def on_stop(self) -> None:
            publisher = _outboxes.pop(app, None)
            if publisher is not None:
                await asyncio.to_thread(publisher.close)

    app.service(Outbox)

    @app.task  # type: ignore[untyped-decorator]
    async def announce_ready() -> None:
        """Say "ready" once partitions are assigned and tables recovered, not merely started."""
        while (  # noqa: ASYNC110 - faust exposes these as flags, not as events to await
            app.rebalancing
            or not app.consumer.assignment()
            or not app.tables.recovery.completed.is_set()
        ):
            await asyncio.sleep(0.1)
        log.info("service ready", role=service, partitions=len(app.consumer.assignment()))
        ready_dir = os.environ.get("INTERLOCK_READY_DIR")
        if ready_dir:
            await asyncio.to_thread(_mark_ready, Path(ready_dir), service)

    return app


def declare_changelogs(app: faust.App, settings: Settings, timeout: float = 60) -> list[str]:
    """Create every table's changelog topic, led, before the worker joins its group.

    faust declares them itself while starting, but a topic created a moment before the group's
    assignment can be missing from the metadata the assignment is made from; faust then gives
    the changelog no partitions and every write of that table fails until a restart. The
    topics' settings come from faust's own transport, as its declaration would make them.
    """
    topics = []
    for table in app.tables.values():
        changelog = table.changelog_topic
        retention = int(want_seconds(changelog.retention) * 1000) if changelog.retention else None
        config = app.transport._topic_config(retention, changelog.compacting, changelog.deleting)
        config.update(changelog.config or {})
        config = {k: str(v) for k, v in config.items()}
        for name in changelog.topics:
            topics.append(
                NewTopic(
                    name,
                    num_partitions=changelog.partitions or app.conf.topic_partitions,
                    replication_factor=changelog.replicas or app.conf.topic_replication_factor,
                    config=config,
                )
            )
    return create_topics(settings, topics, timeout=timeout)


def _mark_ready(ready_dir: Path, service: str) -> None:
    ready_dir.mkdir(parents=True, exist_ok=True)
    (ready_dir / service).write_text(str(os.getpid()))


class _Headed(faust.Schema):  # type: ignore[misc]  # faust ships no type hints
    """Raw keys and values; a record sent gets its topic's headers (``record_headers``)."""

    def __init__(self, headers: Headers) -> None:
        super().__init__(key_serializer="raw", value_serializer="raw")
        self.headers = headers

    def on_dumps_value_prepare_headers(self, value: Any, headers: Any) -> Any:
        if isinstance(headers, dict):
            for name, content in self.headers:
                headers.setdefault(name, content)
            return headers
        present = {name for name, _ in headers or ()}
        return [*(headers or ()), *(h for h in self.headers if h[0] not in present)]


def raw_topic(app: faust.App, settings: Settings, spec: TopicSpec | str) -> faust.TopicT:
    name = spec if isinstance(spec, str) else settings.topic(spec.name)
    return app.topic(name, schema=_Headed(record_headers(name)), internal=False)


@dataclass
class Outputs:
    """What handling one record produced: events to publish and the new aggregate state."""

    envelopes: list[Envelope] = field(default_factory=list)
    state: Any = None
    state_changed: bool = False


class DeadLetters:
    """Sends records no one can handle to the dead-letter topic with the reason, confirmed by the
    broker before the record is acknowledged."""

    def __init__(self, app: faust.App, settings: Settings, service: str) -> None:
        self.app = app
        self.settings = settings
        self.service = service
        self.topic_name = dead_letter_topic(settings)

    async def refuse(self, event: faust.EventT, error: InvalidEvent) -> None:
        """Dead-letter an unreadable record, but pass over one whose subject was erased."""
        if isinstance(error, ErasedEvent):
            msg = event.message
            log.debug("erased record passed over", topic=msg.topic, offset=msg.offset)
            return
        await self.send(event, error.reason, error.fields)

    async def send(self, event: faust.EventT, reason: str, fields: Sequence[str] = ()) -> None:
        msg = event.message
        key, value = dead_letter_record(
            service=self.service,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            reason=reason,
            fields=fields,
        )
        records = [(self.topic_name, key, value, None)]
        publisher = outbox(self.app, self.settings)
        await POLICY.retrying("dead-letter", lambda: publisher.send_records(records))
        log.warning(
            "record dead-lettered",
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            reason=reason[:500],
        )


_outboxes: weakref.WeakKeyDictionary[faust.App, Publisher] = weakref.WeakKeyDictionary()


def outbox(app: faust.App, settings: Settings) -> Publisher:
    """The worker's producer of events: confluent-kafka's, whose sends are C calls.

    faust's own ``Topic.send`` cost about 0.2 ms of Python per record (a channel, a future
    message, aiokafka's accumulator), which bounded every worker that answers a command with
    several events; the tables' changelogs still go through faust.
    """
    publisher = _outboxes.get(app)
    if publisher is None:
        publisher = _outboxes[app] = Publisher(settings)
    return publisher


async def publish(
    app: faust.App, settings: Settings, envelopes: Sequence[Envelope], *, confirm: bool = False
) -> None:
    """Send envelopes to their topics; with ``confirm``, wait until the broker has them all."""
    if not envelopes:
        return
    await prepare_keys(envelopes)
    sent = outbox(app, settings).send(envelopes)
    if confirm:
        await sent
    else:
        sent.add_done_callback(_report_unconfirmed)


async def send_outcomes(app: faust.App, settings: Settings, outcomes: Sequence[Envelope]) -> None:
    """Send the outcomes of records whose state is written, confirmed before their records are
    acknowledged; outcomes the broker refuses for good are logged (the state stands, and the
    caller's status URL answers from it)."""
    try:
        await POLICY.retrying("outcomes", lambda: publish(app, settings, outcomes, confirm=True))
    except Refused as refusal:
        log.error("outcomes refused by the broker", count=len(outcomes), reason=str(refusal))


def _sealing_kids(envelopes: Sequence[Envelope]) -> list[str]:
    kids = []
    for envelope in envelopes:
        subject = sealed_subject(envelope)
        if subject is not None:
            kids.append(sealing.key_id(envelope.jit, subject))
    return kids


def known_destroyed(envelopes: Sequence[Envelope]) -> str | None:
    """The key one of ``envelopes`` would be sealed with, if this process knows it destroyed (its
    subject erased); no broker round trip."""
    ring = sealing.installed()
    if not isinstance(ring, KafkaKeyRing):
        return None
    return next((kid for kid in _sealing_kids(envelopes) if ring.destroyed(kid)), None)


async def any_destroyed(envelopes: Sequence[Envelope]) -> bool:
    """Whether a key of ``envelopes`` is destroyed, after creating the missing ones together (one
    round trip for a batch, as :func:`publish` would; a key ring that cannot be read raises as it
    would there)."""
    await prepare_keys(envelopes)
    ring = sealing.installed()
    if not isinstance(ring, KafkaKeyRing):
        return False
    return not ring.knows(_sealing_kids(envelopes))


def _report_unconfirmed(sent: asyncio.Future[None]) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        log.error("events not delivered", reason=str(sent.exception())[:300])


def header_envelope(wire: dict[str, Any]) -> Envelope | None:
    """The envelope attributes of a record whose payload is invalid, to address a rejection."""
    try:
        return Envelope.model_validate({**wire, "data": None})
    except ValidationError:
        return None


@dataclass(frozen=True)
class Domain(Generic[S]):
    """A pure aggregate: ``decide`` and ``evolve`` over a pydantic state model."""

    name: str
    state_model: type[S]
    decide: Callable[..., list[Event | Addressed]]
    evolve: Callable[[S | None, Event], S]
    source: str
    rejected_events: Callable[[Envelope | None, str, tuple[FieldError, ...], Any], list[Event]] = (
        lambda *_: []
    )
    """Domain events to emit when a command is refused (LeadRejected for command-topic leads)."""


def run_decide(
    domain: Domain[S],
    cause: Envelope,
    state: S | None,
    *,
    now: datetime,
    context: dict[str, Any] | None = None,
) -> Outputs:
    """Apply one command to its aggregate: events with deterministic ids, the new state, and the
    outcome for the gateway. A refusal writes nothing but the outcome (and any rejection event)."""
    command = cause.data
    assert isinstance(command, Command)
    version = getattr(state, "version", 0) if state is not None else 0
    try:
        if command.actor.team != cause.originator:
            raise Rejected(
                403,
                f"actor team {command.actor.team} is not the originator {cause.originator}",
            )
        decided = domain.decide(state, command, now=now, **(context or {}))
    except Rejected as refusal:
        extra = domain.rejected_events(cause, refusal.reason, refusal.errors, command)
        envs = [
            addressed_envelope(cause, e, domain.source, i, version)
            for i, e in enumerate(extra, start=1)
        ]
        outcome = CommandRejected(
            command_type=cause.type,
            command_id=cause.id,
            status=refusal.status,
            reason=refusal.reason,
            errors=refusal.errors,
        )
        envs.append(addressed_envelope(cause, outcome, domain.source, 0, version))
        return Outputs(envelopes=envs, state=state, state_changed=False)
    envs = []
    new_state = state
    for i, item in enumerate(decided, start=1):
        event = item.event if isinstance(item, Addressed) else item
        new_state = domain.evolve(new_state, event)
        env = addressed_envelope(
            cause, item, domain.source, i, getattr(new_state, "version", version + i)
        )
        envs.append(env)
    envs.append(
        addressed_envelope(
            cause,
            CommandAccepted(
                command_type=cause.type,
                command_id=cause.id,
                events=tuple(e.id for e in envs),
            ),
            domain.source,
            0,
            version,
        )
    )
    return Outputs(envelopes=envs, state=new_state, state_changed=bool(decided))


def addressed_envelope(
    cause: Envelope, item: Event | Addressed, source: str, index: int, version: int
) -> Envelope:
    event = item.event if isinstance(item, Addressed) else item
    addressed = item if isinstance(item, Addressed) else Addressed(event)
    env = envelop(
        event,
        subject=addressed.subject or cause.subject,
        jit=cause.jit,
        originator=addressed.originator or cause.originator,
        source=source,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
        releasable_to=cause.releasable_to
        if addressed.releasable_to is None
        else addressed.releasable_to,
        handling=addressed.handling or cause.handling_label,
        aggregate_version=version,
    )
    return env.model_copy(update={"id": derived_id(cause.id, index)})


def decode_or_explain(
    raw: bytes | None,
) -> tuple[Envelope | None, InvalidEvent | None, dict[str, Any] | None]:
    """Decode a record; on failure return the error and whatever JSON object could be read."""
    try:
        return decode(raw), None, None
    except InvalidEvent as exc:
        try:
            wire = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            wire = None
        return None, exc, wire if isinstance(wire, dict) else None


ERASED_MARK = "__erased__"


def erased_marker(erasure: SubjectErased) -> dict[str, Any]:
    """What an aggregate's table entry becomes when its subject is erased: ids and times only.

    A tombstone would let a repeated submission (same idempotency key, same id) bring the
    subject back; the marker answers it 410 instead.
    """
    return {ERASED_MARK: {"at": erasure.at.isoformat(), "cause": erasure.cause}}


def is_erased(value: Any) -> bool:
    return isinstance(value, dict) and ERASED_MARK in value


def state_from_json(model: type[S], value: Any) -> S | None:
    if value is None or is_erased(value):
        return None
    return model.model_validate(value)


def state_to_json(state: BaseModel | None) -> Any:
    return None if state is None else state.model_dump(mode="json")


@dataclass(frozen=True)
class Deadlines(Generic[S]):
    """Deadlines kept in aggregate state, checked by a periodic timer.

    A table may only be written while handling a record of its partition, so the timer does not
    act itself: it writes a tick command for each aggregate that is due, keyed like any other
    command, and the aggregate's one writer applies it. Deadlines live in the state, so they
    survive a restart; a tick that arrives twice finds nothing more due.
    """

    next_due: Callable[[S], datetime | None]
    tick: Callable[[str, S, datetime], Envelope]
    interval: float = 1.0


def write_as_of(event: faust.EventT, table: faust.Table, key: bytes, value: Any) -> None:
    """Write a table entry after the stream has moved on from the record that caused it.

    faust takes a table write's changelog partition from the stream's current record, which a
    batch no longer has; this sets it to the record the write belongs to for the one write.
    """
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        table[key] = value
    finally:
        faust_streams._current_event.reset(token)


COMMAND_BATCH = 500
COMMAND_BATCH_WITHIN = 0.005
"""A command waits at most 5 ms for others to share its broker round trip."""


@dataclass
class _Batch:
    """What a batch of commands produced, written in the order that makes a crash harmless."""

    states: dict[bytes, Any] = field(default_factory=dict)
    """Each touched aggregate's newest state; later commands of the batch decide against it."""
    causes: dict[bytes, faust.EventT] = field(default_factory=dict)
    """The record that wrote each state: its partition is the changelog's."""
    events: list[Envelope] = field(default_factory=list)
    """Confirmed by the broker before any state is written."""
    then: list[Envelope] = field(default_factory=list)
    """Outcomes and refusals, sent once the events are in."""


def command_processor(
    app: faust.App,
    settings: Settings,
    *,
    domain: Domain[S],
    commands: TopicSpec,
    context: Callable[[Envelope], dict[str, Any]] | None = None,
    deadlines: Deadlines[S] | None = None,
    key: Callable[[Envelope], str] = lambda cause: cause.subject,
    erasable: SubjectKind | None = None,
) -> faust.Table:
    """Register an agent that applies each command on ``commands`` to its aggregate's state.

    Commands are taken in batches (up to 500, or what arrived within 5 ms): their events are
    confirmed by the broker in one round trip, then the states are written, then the outcomes
    sent, then the records acknowledged. A crash anywhere replays the batch against the old
    states, which re-emits the same events under the same ids. ``key`` names the table entry a
    command works on (its subject by default). With ``erasable``, a ``SubjectErased`` of that kind
    replaces the aggregate's state by an erasure marker, and every later command on it is
    answered 410. Returns the table (aggregate id → state JSON).
    """
    table = app.Table(
        f"{domain.name}_to_state",
        partitions=settings.partitions,
        key_type=bytes,
    )
    topic = raw_topic(app, settings, commands)
    dead = DeadLetters(app, settings, app.conf.id)

    async def handle(stream: faust.StreamT[bytes]) -> Any:
        async for records in stream.noack_take(COMMAND_BATCH, within=COMMAND_BATCH_WITHIN):
            await in_batches(records, run_batch, refused)
            for event in records:
                event.ack()

    async def decide(records: Sequence[faust.EventT]) -> _Batch:
        batch = _Batch()
        for event in records:
            await POLICY.guarded(
                f"{domain.name} command",
                lambda event=event: _decide_one(event, batch),  # type: ignore[misc]
                lambda reason, fields, event=event: dead.send(event, reason, fields),  # type: ignore[misc]
            )
        return batch

    async def run_batch(records: Sequence[faust.EventT]) -> None:
        """Decide, confirm the events, write the states, send the outcomes: in that order."""
        batch = await decide(records)
        if await POLICY.retrying(f"{domain.name} keys", lambda: any_destroyed(batch.events)):
            # a subject was erased while a command about it was on its way: decide the batch
            # again, now that the destroyed key is known, so that command is refused (410)
            # instead of failing the batch on every replay
            batch = await decide(records)
        await POLICY.retrying(
            f"{domain.name} events",
            lambda: publish(app, settings, batch.events, confirm=True),
        )
        for entry_key, value in batch.states.items():
            write_as_of(batch.causes[entry_key], table, entry_key, value)
        await send_outcomes(app, settings, batch.then)

    async def refused(event: faust.EventT, reason: str) -> None:
        await dead.send(event, reason)

    async def _decide_one(event: faust.EventT, batch: _Batch) -> None:
        """Decide one command record into the batch (a poison record is dead-lettered)."""
        cause, error, wire = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await dead.refuse(event, error)
            header = header_envelope(wire) if wire else None
            if header is not None:
                extra = domain.rejected_events(
                    header,
                    error.reason,
                    tuple(FieldError(field=f, message=error.reason) for f in error.fields),
                    None,
                )
                outcome = CommandRejected(
                    command_type=header.type,
                    command_id=header.id,
                    status=422,
                    reason=error.reason,
                    errors=tuple(FieldError(field=f, message=error.reason) for f in error.fields),
                )
                batch.then += [
                    addressed_envelope(header, e, domain.source, i, 0)
                    for i, e in enumerate([outcome, *extra])
                ]
            return
        if not isinstance(cause.data, Command):
            await dead.send(event, f"{cause.type} is an event, not a command", ["type"])
            return
        entry_key = key(cause).encode()
        stored = batch.states[entry_key] if entry_key in batch.states else table.get(entry_key)
        if is_erased(stored):
            erased = stored[ERASED_MARK]
            gone = CommandRejected(
                command_type=cause.type,
                command_id=cause.id,
                status=410,
                reason=f"{key(cause)} was erased on {erased['at']} ({erased['cause']}); "
                "nothing of it is kept",
            )
            batch.then.append(addressed_envelope(cause, gone, domain.source, 0, 0))
            return
        state = state_from_json(domain.state_model, stored)
        outputs = run_decide(
            domain,
            cause,
            state,
            now=datetime.now(UTC),
            context=context(cause) if context else None,
        )
        if outputs.state_changed:
            events = [e for e in outputs.envelopes if e.type not in OUTCOME_TYPES]
            destroyed = known_destroyed(events)
            if destroyed is not None:
                # its subject was erased while the command was on its way: nothing more is
                # written about it (sealing would fail the whole batch, again on every replay)
                gone = CommandRejected(
                    command_type=cause.type,
                    command_id=cause.id,
                    status=410,
                    reason=f"{key(cause)}: its subject was erased (key {destroyed} destroyed); "
                    "nothing more is written about it",
                )
                batch.then.append(addressed_envelope(cause, gone, domain.source, 0, 0))
                return
            batch.events += events
            batch.states[entry_key] = state_to_json(outputs.state)
            batch.causes[entry_key] = event
            batch.then += [e for e in outputs.envelopes if e not in events]
        else:
            batch.then += outputs.envelopes
        log.debug(
            "command decided",
            event_id=cause.id,
            correlation_id=cause.correlation_id,
            team=cause.originator,
            type=cause.type,
        )

    app.agent(topic, name=f"{app.conf.id}.{domain.name}-commands")(handle)
    if erasable is not None:
        _register_erasure(app, settings, table, domain, erasable)
    if deadlines is not None:
        register_deadlines(app, settings, table, domain, deadlines)
    return table


def _register_erasure(
    app: faust.App, settings: Settings, table: faust.Table, domain: Domain[S], kind: SubjectKind
) -> None:
    """Drop the state of erased subjects. The retention topic is keyed by subject id, like the
    command topic, so each erasure reaches the one writer of that aggregate's table entry."""

    async def forget(stream: faust.StreamT[bytes]) -> Any:
        async for event in stream.noack().events():
            erasure, _, _ = decode_or_explain(event.value)
            if (
                erasure is not None
                and isinstance(erasure.data, SubjectErased)
                and erasure.data.subject_kind is kind
            ):
                table[erasure.data.subject_id.encode()] = erased_marker(erasure.data)
                log.info("state erased", subject=erasure.data.subject_id, aggregate=domain.name)
            event.ack()

    topic = raw_topic(app, settings, RETENTION_EVENTS)
    app.agent(topic, name=f"{app.conf.id}.{domain.name}-erasure")(forget)


def register_deadlines(
    app: faust.App,
    settings: Settings,
    table: faust.Table,
    domain: Domain[S],
    deadlines: Deadlines[S],
) -> None:
    ticked: dict[str, float] = {}

    async def check_deadlines() -> None:
        now = datetime.now(UTC)
        loop_time = now.timestamp()
        due: list[Envelope] = []
        for raw_key, value in list(table.items()):
            state = state_from_json(domain.state_model, value)
            if state is None:
                continue
            when = deadlines.next_due(state)
            if when is None or when > now:
                continue
            subject = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            if loop_time - ticked.get(subject, 0.0) < max(5 * deadlines.interval, 2.0):
                continue
            ticked[subject] = loop_time
            due.append(deadlines.tick(subject, state, now))
        if due:
            await publish(app, settings, due)

    app.timer(deadlines.interval, name=f"{app.conf.id}.{domain.name}-deadlines")(check_deadlines)
