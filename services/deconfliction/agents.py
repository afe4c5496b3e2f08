"""The deconfliction worker's faust wiring around the pure domain.

Five agents, one writer per table entry, every table co-partitioned with the topic that feeds it:

1. ``register_entities`` reads ``interlock.leads.events`` in small batches: each
   ``EntityObserved`` becomes the team's ``TokenRegistered``/``PersonRegistered`` events (raw
   values are tokenised in memory and dropped), published to ``interlock.deconfliction.events``
   (told to the registering team) and to the internal index topic keyed by token, which
   repartitions them to the token's owner.
2. ``handle_commands`` reads ``interlock.deconfliction.commands``: registrations (stateless, as
   above), hit decisions keyed by hit id (hit table) and operation commands keyed by JIT id
   (operation index table), each answered with an outcome for the gateway.
3. ``index_registrations`` reads the index topic: ``register``/``register_person`` against the
   token and birth-date block tables; candidate hits go to the internal hit topic keyed by hit
   id. The candidates are confirmed by the broker *before* the token's state is written, so a
   crash in between replays the registration against the old state and finds the same hit ids.
   Expiry ticks drop entries under retired key versions; erasure commands drop an erased lead's
   holders (and refuse its later registrations) or an erased operation (see 5).
4. ``admit_hits`` reads the hit topic: a candidate that ``admit`` calls news is published to
   ``interlock.deconfliction.events`` (confirmed) and then recorded in the hit table, so the
   same pair found under two tokens during a key rotation, or replayed after a crash, is told
   once.
5. ``erase_subject`` reads ``interlock.retention.events``: a ``SubjectErased`` of a lead becomes
   one internal ``ForgetSource`` to every partition of the index topic (the lead's tokens are
   spread over all of them, and only a partition's owner may write its entries); one of an
   operation becomes a ``ForgetOperation`` to the index partition of the JIT, which owns the
   JIT's operation index because the index and command topics are co-partitioned. Hit states
   keep no registration id, source or value, so an erasure leaves them.

Records are acknowledged only after their outputs are confirmed and their state written; a
record nobody can handle goes to the dead-letter topic with the reason and the stream goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any, Literal, cast

import faust
from aiokafka.partitioner import murmur2
from faust.types import TableT, TopicT
from pydantic import BaseModel

from events.catalogue import CATALOGUE, Catalogue
from events.codec import ErasedEvent, InvalidEvent, decode, encode, envelop, partition_key
from events.deconfliction import (
    INTERNAL_ENTRIES,
    CancelOperation,
    DeclineHitDetails,
    DeconflictionHit,
    DeskContact,
    ExpireTokens,
    ForgetOperation,
    ForgetSource,
    MoveOperation,
    PersonRegistered,
    PlanOperation,
    RegisterBlindTokens,
    RegisterIdentifiers,
    ReleaseHitDetails,
    ResolveOperationConflict,
    RoleConflictDetected,
    TokenRegistered,
)
from events.envelope import Actor, Addressed, Command, Envelope, Event, new_id
from events.leads import EntityObserved
from events.outcomes import CommandRejected, FieldError
from events.retention import SubjectErased, SubjectKind
from events.topics import (
    DECONFLICTION_COMMANDS,
    DECONFLICTION_HITS,
    DECONFLICTION_INDEX,
    LEAD_EVENTS,
    RETENTION_EVENTS,
)
from services.deconfliction import domain
from services.deconfliction.contacts import Contacts
from services.deconfliction.domain import (
    HitState,
    OperationIndex,
    PersonBlock,
    TokenHolders,
)
from services.deconfliction.settings import DeconflictionSettings, load_deconfliction_settings
from services.deconfliction.tokens import TokenKeys
from services.kit.keys import shred
from services.kit.logging import get_logger
from services.kit.runtime import POLICY, in_batches
from services.kit.settings import Settings
from services.kit.streams import (
    OUTCOME_TYPES,
    DeadLetters,
    Domain,
    Outputs,
    addressed_envelope,
    create_app,
    decode_or_explain,
    derived_id,
    header_envelope,
    outbox,
    raw_topic,
    run_decide,
    state_from_json,
    state_to_json,
)

log = get_logger()

SOURCE = "/interlock/deconfliction"
PLATFORM_TEAM = "EU-INTERLOCK"
"""The originator of the worker's own internal records (expiry ticks): the platform."""
TICK_ACTOR = Actor(member="deconfliction-expiry", team=PLATFORM_TEAM)
TICK_KEY = b"expire-tokens"
ERASURE_ACTOR = Actor(member="deconfliction-erasure", team=PLATFORM_TEAM)

INDEX_CATALOGUE = Catalogue([*CATALOGUE, *INTERNAL_ENTRIES])
"""The public catalogue plus the service's internal types, to read its internal topics."""

ENTITY_BATCH = 500
ENTITY_BATCH_WAIT = 0.01
"""Lead events registered per batch, and how long a batch waits to fill (seconds)."""

HIT_COMMANDS = (ReleaseHitDetails, DeclineHitDetails)
OPERATION_COMMANDS = (PlanOperation, MoveOperation, CancelOperation, ResolveOperationConflict)
REGISTRATION_COMMANDS = (RegisterIdentifiers, RegisterBlindTokens)


class _Stateless(BaseModel):
    """Registrations keep no state of their own: the index does, once repartitioned by token."""


def _decide_registration(
    state: None, command: RegisterIdentifiers | RegisterBlindTokens, **context: Any
) -> list[Event | Addressed]:
    return domain.decide_registration(command, **context)


def _evolve_operation(state: OperationIndex | None, event: Event) -> OperationIndex:
    return domain.evolve_operation(state, event)


REGISTRATIONS: Domain[_Stateless] = Domain(
    name="registration",
    state_model=_Stateless,
    decide=_decide_registration,
    evolve=lambda state, event: None,  # type: ignore[arg-type, return-value]
    source=SOURCE,
)
HITS: Domain[HitState] = Domain(
    name="hit",
    state_model=HitState,
    decide=domain.decide_hit,
    evolve=domain.evolve_hit,
    source=SOURCE,
)
OPERATIONS: Domain[OperationIndex] = Domain(
    name="operation",
    state_model=OperationIndex,
    decide=domain.decide_operation,
    evolve=_evolve_operation,
    source=SOURCE,
)


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as faust's and the kit's producers
    use) gives a key: the table entries a partition's worker owns."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


Record = tuple[TopicT, bytes | None, bytes] | tuple[TopicT, bytes | None, bytes, int]
"""Topic, key and value; and the partition when the record must reach one partition's owner
whatever its key (internal commands to the index)."""


class DeconflictionWorker:
    """The worker's tables, topics and agents; built once per process by :func:`build`."""

    def __init__(self, app: faust.App, settings: Settings, config: DeconflictionSettings) -> None:
        self.app = app
        self.settings = settings
        self.config = config
        self.keys = TokenKeys(
            settings.deconfliction_secret.get_secret_value().encode("utf-8"), config.key_ring()
        )
        self.directory = Contacts(settings)
        self.dead = DeadLetters(app, settings, app.conf.id)
        self.token_to_holders = self._table("token_to_holders")
        self.block_to_persons = self._table("block_to_persons")
        self.hit_to_state = self._table("hit_to_state")
        self.jit_to_operations = self._table("jit_to_operations")
        self.source_to_erasure = self._table("source_to_erasure")
        """Per index partition, the erased sources (JIT and lead id, nothing else) whose
        registrations that partition refuses from now on."""
        self._operations = asyncio.Lock()
        """Held while an operation index entry is read, decided on and written: a command and
        an erasure of the JIT's operations (two agents) never interleave a read and a write."""
        self._topics: dict[str, TopicT] = {}
        self.outbox = outbox(app, settings)
        self.commands_topic = self._topic(settings.topic(DECONFLICTION_COMMANDS.name))
        self.index_topic = self._topic(settings.topic(DECONFLICTION_INDEX.name))
        self.hits_topic = self._topic(settings.topic(DECONFLICTION_HITS.name))
        self._admitting: dict[str, asyncio.Event] = {}
        """Hits being published by ``admit_hits``: a release that overtakes the table write
        waits for it instead of answering 404."""
        self._swept: dict[int, tuple[int, ...]] = {}
        """Index partitions already swept under the live key versions they were swept with."""

        prefix = app.conf.id
        app.agent(raw_topic(app, settings, LEAD_EVENTS), name=f"{prefix}.register-entities")(
            self.register_entities
        )
        app.agent(self.commands_topic, name=f"{prefix}.deconfliction-commands")(
            self._consumer(self.handle_command)
        )
        app.agent(self.index_topic, name=f"{prefix}.index-registrations")(
            self._consumer(self.index_registration)
        )
        app.agent(self.hits_topic, name=f"{prefix}.admit-hits")(self._consumer(self.admit_hit))
        app.agent(raw_topic(app, settings, RETENTION_EVENTS), name=f"{prefix}.erase-subjects")(
            self._consumer(self.erase_subject)
        )
        app.timer(config.expiry_check_seconds, name=f"{prefix}.expire-tokens")(self.tick_expiry)
        app.task(self._start_directory)

    # --- plumbing -------------------------------------------------------------------------------

    def _table(self, name: str) -> TableT[bytes, Any]:
        return cast(
            TableT[bytes, Any],
            self.app.Table(name, partitions=self.settings.partitions, key_type=bytes),
        )

    def _topic(self, name: str) -> TopicT:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = raw_topic(self.app, self.settings, name)
        return topic

    def _home(self, envelope: Envelope) -> Record:
        """An envelope to its catalogued topic, keyed as the catalogue says."""
        name = self.settings.topic(CATALOGUE.entry(envelope.type).topic.name)
        return self._topic(name), partition_key(envelope), encode(envelope)

    def _to(self, topic: TopicT, envelope: Envelope) -> Record:
        return topic, envelope.subject.encode(), encode(envelope)

    async def _send(self, records: Sequence[Record]) -> None:
        """Write records and wait until the broker has them all, under the kit's failure policy
        (retried while retriable, up to its bound; a refusal dead-letters the cause)."""
        outgoing = [
            (topic.get_topic_name(), key, value, placed[0] if placed else None)
            for topic, key, value, *placed in records
        ]
        await POLICY.retrying("deconfliction outputs", lambda: self.outbox.send_records(outgoing))

    def _consumer(
        self, handle: Callable[[faust.EventT], Awaitable[None]]
    ) -> Callable[[faust.StreamT[bytes]], Awaitable[None]]:
        """An agent body: each record handled under the kit's failure policy, then
        acknowledged."""

        async def consume(stream: faust.StreamT[bytes]) -> None:
            await self.directory.wait_ready()
            async for event in stream.noack().events():
                await self._guarded(handle, event)
                event.ack()

        consume.__name__ = handle.__name__
        return consume

    async def _guarded(
        self, handle: Callable[[faust.EventT], Awaitable[Any]], event: faust.EventT
    ) -> Any:
        """Handle one record: poison is dead-lettered, anything unexpected stops the worker."""
        return await POLICY.guarded(
            event.message.topic,
            lambda: handle(event),
            lambda reason, fields: self._dead_letter(event, reason, fields),
        )

    async def _dead_letter(
        self, event: faust.EventT, reason: str, fields: Sequence[str] = ()
    ) -> None:
        """Dead-letter a record with the reason (confirmed; retried under the policy)."""
        await self.dead.send(event, reason, fields)

    async def _start_directory(self) -> None:
        self.directory.start()

    async def _await_directory(self, jit: str | None, teams: Sequence[str] = ()) -> None:
        """Give the directory view a moment to catch up when it lacks the JIT or a desk."""
        if not self.directory.knows(jit, teams):
            await self.directory.sync(self.config.directory_wait_seconds)

    # --- 1. leads → registrations ----------------------------------------------------------------

    async def register_entities(self, stream: faust.StreamT[bytes]) -> None:
        """Register what leads mention, a batch of lead events at a time: the batch's tokens
        are published together and confirmed, then its records acknowledged in order. It
        holds no state, so a batch needs no table writes (which would need each record's
        partition as the current event)."""
        await self.directory.wait_ready()
        async for batch in stream.noack_take(ENTITY_BATCH, within=ENTITY_BATCH_WAIT):
            events = cast(list[faust.EventT], batch)
            await in_batches(events, self._register_batch, self._dead_letter)
            for event in events:
                event.ack()

    async def _register_batch(self, events: Sequence[faust.EventT]) -> None:
        envelopes: list[Envelope] = []
        for event in events:
            envelopes += await self._guarded(self.entity_registrations, event) or []
        await self._publish_registrations(envelopes)

    async def entity_registrations(self, event: faust.EventT) -> list[Envelope]:
        """The registrations of what one lead event mentions, as the lead's team, in its JIT."""
        cause, error, _ = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            if not isinstance(error, ErasedEvent):
                await self._dead_letter(event, error.reason, error.fields)
            return []
        if not isinstance(cause.data, EntityObserved):
            return []
        await self._await_directory(cause.jit)
        items = domain.registrations_from_entity(
            cause.data,
            jit=cause.jit,
            team=cause.originator,
            keys=self.keys,
            now=datetime.now(UTC),
            cross_jit=self.directory.cross_jit(cause.jit),
        )
        return [addressed_envelope(cause, item, SOURCE, i, 0) for i, item in enumerate(items, 1)]

    async def _publish_registrations(self, envelopes: Sequence[Envelope]) -> None:
        """Tell the team its registrations and hand them, keyed by token, to the index."""
        if envelopes:
            await self._send(
                [
                    *(self._home(e) for e in envelopes),
                    *(self._to(self.index_topic, e) for e in envelopes),
                ]
            )

    # --- 2. commands -----------------------------------------------------------------------------

    async def handle_command(self, event: faust.EventT) -> None:
        """Apply one command and answer it with an outcome."""
        cause, error, wire = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await self._dead_letter(event, error.reason, error.fields)
            header = header_envelope(wire) if wire else None
            if header is not None:
                await self._reject(header, 422, error.reason, error.fields)
            return
        command = cause.data
        if not isinstance(command, Command):
            await self._dead_letter(event, f"{cause.type} is an event, not a command", ["type"])
            return
        if isinstance(command, REGISTRATION_COMMANDS):
            await self._register(cause)
        elif isinstance(command, HIT_COMMANDS):
            await self._apply(event, cause, HITS, self.hit_to_state, key=command.hit_id)
        elif isinstance(command, OPERATION_COMMANDS):
            await self._apply(event, cause, OPERATIONS, self.jit_to_operations, key=cause.jit)
        else:
            reason = f"{cause.type} is not a deconfliction command"
            await self._dead_letter(event, reason, ["type"])
            await self._reject(cause, 422, reason, ["type"])

    async def _reject(
        self, cause: Envelope, status: Literal[422], reason: str, fields: Sequence[str] = ()
    ) -> None:
        errors = tuple(FieldError(field=f, message=reason) for f in fields)
        outcome = CommandRejected(
            command_type=cause.type,
            command_id=cause.id,
            status=status,
            reason=reason,
            errors=errors,
        )
        await self._send([self._home(addressed_envelope(cause, outcome, SOURCE, 0, 0))])

    async def _register(self, cause: Envelope) -> None:
        """Tokenise a registration; the tokens go to the index, the outcome to the gateway."""
        await self._await_directory(cause.jit)
        outputs = run_decide(
            REGISTRATIONS,
            cause,
            None,
            now=datetime.now(UTC),
            context={
                "jit": cause.jit,
                "keys": self.keys,
                "members": self.directory.members(cause.jit),
                "cross_jit": self.directory.cross_jit(cause.jit),
            },
        )
        events, outcomes = _split(outputs)
        await self._publish_registrations(events)
        await self._send([self._home(e) for e in outcomes])

    async def _apply(
        self,
        event: faust.EventT,
        cause: Envelope,
        aggregate: Domain[Any],
        table: TableT[bytes, Any],
        *,
        key: str,
    ) -> None:
        """Run a command against its aggregate's entry: events first, confirmed, then the state,
        then the outcome (a crash in between replays it against the old state)."""
        entry = key.encode()
        if event.message.key != entry:
            # Only the partition of the aggregate's key owns its entry: forward it there.
            await self._send([(self.commands_topic, entry, event.value)])
            return
        guard: AbstractAsyncContextManager[Any] = (
            self._operations if aggregate is OPERATIONS else nullcontext()
        )
        async with guard:
            await self._apply_owned(cause, aggregate, table, entry=entry, key=key)

    async def _apply_owned(
        self,
        cause: Envelope,
        aggregate: Domain[Any],
        table: TableT[bytes, Any],
        *,
        entry: bytes,
        key: str,
    ) -> None:
        """``_apply`` on the partition that owns the aggregate's entry."""
        now = datetime.now(UTC)
        state = state_from_json(aggregate.state_model, table.get(entry))
        context: dict[str, Any] = {}
        if aggregate is HITS and state is None and key in self._admitting:
            await asyncio.wait_for(self._admitting[key].wait(), timeout=10)
            state = state_from_json(aggregate.state_model, table.get(entry))
        if aggregate is OPERATIONS:
            await self._await_directory(cause.jit, [cause.originator])
            if state is not None:
                state = domain.prune(state, now=now)
            context = {
                "jit": cause.jit,
                "desks": self.directory.desks(),
                "members": self.directory.members(cause.jit),
            }
        outputs = run_decide(aggregate, cause, state, now=now, context=context)
        events, outcomes = _split(outputs)
        if outputs.state_changed:
            await self._send([self._home(e) for e in events])
            table[entry] = state_to_json(outputs.state)
            await self._send([self._home(e) for e in outcomes])
        else:
            await self._send([self._home(e) for e in outputs.envelopes])

    # --- 3. the index ----------------------------------------------------------------------------

    async def index_registration(self, event: faust.EventT) -> None:
        """Enter one registration in its token's (or birth-date block's) entry and hand the
        hits it finds to their owners, before the entry is written."""
        try:
            cause = decode(event.value, INDEX_CATALOGUE)
        except InvalidEvent as exc:
            await self._dead_letter(event, exc.reason, exc.fields)
            return
        registration = cause.data
        now = datetime.now(UTC)
        live = self.keys.ring.live_versions(now)
        if isinstance(registration, ExpireTokens):
            self._sweep(event.message.partition, live)
            return
        if isinstance(registration, ForgetSource):
            self._forget_source(event.message.partition, registration, at=cause.time)
            return
        if isinstance(registration, ForgetOperation):
            await self._forget_operation(event, registration)
            return
        if not isinstance(registration, TokenRegistered | PersonRegistered):
            await self._dead_letter(event, f"{cause.type} does not belong on the index", ["type"])
            return
        if registration.key_version not in live:
            log.info("registration under a retired key version dropped", event_id=cause.id)
            return
        if self._erased(event.message.partition, registration.jit, registration.source_ref):
            log.info("registration of an erased source dropped", event_id=cause.id)
            return
        model: type[TokenHolders] | type[PersonBlock]
        if isinstance(registration, TokenRegistered):
            table, model, key = self.token_to_holders, TokenHolders, registration.token
        else:
            table, model, key = self.block_to_persons, PersonBlock, registration.block_token
        entry = key.encode()
        stored = state_from_json(model, table.get(entry))
        held = stored if stored is None else domain.expire(stored, live_versions=live)

        def match(desks: Mapping[str, DeskContact]) -> tuple[BaseModel, list[Addressed]]:
            if isinstance(registration, TokenRegistered):
                return domain.register(
                    cast(TokenHolders | None, held),
                    registration,
                    now=now,
                    desks=desks,
                    cross_jit_jits=self.directory.cross_jit_jits(),
                )
            return domain.register_person(
                cast(PersonBlock | None, held),
                registration,
                now=now,
                desks=desks,
                cross_jit_jits=self.directory.cross_jit_jits(),
                threshold=self.config.fuzzy_threshold,
            )

        new, hits = match(self.directory.desks())
        if any(_lacks_desk(hit) for hit in hits):
            await self.directory.sync(self.config.directory_wait_seconds)
            new, hits = match(self.directory.desks())
        if hits:
            candidates = [addressed_envelope(cause, h, SOURCE, i, 0) for i, h in enumerate(hits, 1)]
            await self._send([self._to(self.hits_topic, c) for c in candidates])
        if new != stored:
            table[entry] = state_to_json(new)

    def _sweep(self, partition: int, live: tuple[int, ...]) -> None:
        """Drop this partition's index holders under retired key versions (and empty entries)."""
        if self._swept.get(partition) == live:
            return
        partitions = self._index_partitions()
        dropped = 0
        indexes: tuple[tuple[TableT[bytes, Any], type[TokenHolders] | type[PersonBlock]], ...] = (
            (self.token_to_holders, TokenHolders),
            (self.block_to_persons, PersonBlock),
        )
        for table, model in indexes:
            for key in list(table.keys()):
                if partition_of(key, partitions) != partition:
                    continue
                value = table.get(key)
                if value is None or all(
                    h.get("key_version") in live for h in value.get("holders", ())
                ):
                    continue
                kept = domain.expire(model.model_validate(value), live_versions=live)
                dropped += 1
                if kept is None:
                    del table[key]
                else:
                    table[key] = state_to_json(kept)
        self._swept[partition] = live
        log.info("index swept of retired key versions", partition=partition, entries=dropped)

    def _index_partitions(self) -> int:
        name = self.settings.topic(DECONFLICTION_INDEX.name)
        count = self.app.consumer.topic_partitions(name)
        return count or min(DECONFLICTION_INDEX.partitions, self.settings.partitions)

    async def tick_expiry(self) -> None:
        """Send an expiry tick to each index partition of this worker not yet swept under the
        live key versions; the partition's agent does the sweep (only it may write there)."""
        ring = self.keys.ring
        live = ring.live_versions(datetime.now(UTC))
        if set(range(1, ring.current_version + 1)) <= set(live):
            return
        name = self.settings.topic(DECONFLICTION_INDEX.name)
        for tp in sorted(self.app.consumer.assignment()):
            if tp.topic != name or self._swept.get(tp.partition) == live:
                continue
            tick = envelop(
                ExpireTokens(actor=TICK_ACTOR),
                subject=TICK_KEY.decode(),
                jit="platform",
                originator=PLATFORM_TEAM,
                source=SOURCE,
                correlation_id=new_id(),
                catalogue=INDEX_CATALOGUE,
            )
            await self.index_topic.send(
                key=TICK_KEY, value=encode(tick, catalogue=INDEX_CATALOGUE), partition=tp.partition
            )

    def _forget_source(self, partition: int, forget: ForgetSource, *, at: datetime) -> None:
        """Drop this partition's index holders registered from an erased source (and entries
        left empty), then remember the erasure: a registration of the source that arrives later
        (a lead event read before its key was destroyed, a team's own registration under the
        lead's id) never enters the index again. Idempotent."""
        partitions = self._index_partitions()
        dropped = 0
        indexes: tuple[tuple[TableT[bytes, Any], type[TokenHolders] | type[PersonBlock]], ...] = (
            (self.token_to_holders, TokenHolders),
            (self.block_to_persons, PersonBlock),
        )
        for table, model in indexes:
            for key in list(table.keys()):
                value = table.get(key)
                if value is None or not any(
                    h.get("jit") == forget.jit and h.get("source_ref") == forget.source_ref
                    for h in value.get("holders", ())
                ):
                    continue
                if partition_of(key, partitions) != partition:
                    continue
                kept = domain.forget_source(
                    model.model_validate(value), jit=forget.jit, source_ref=forget.source_ref
                )
                dropped += 1
                if kept is None:
                    del table[key]
                else:
                    table[key] = state_to_json(kept)
        self.source_to_erasure[_erasure_key(partition, forget.jit, forget.source_ref)] = {
            "jit": forget.jit,
            "source_ref": forget.source_ref,
            "erased_at": at.isoformat(),
        }
        log.info(
            "erased source dropped from the index",
            jit=forget.jit,
            source_ref=forget.source_ref,
            partition=partition,
            entries=dropped,
        )

    def _erased(self, partition: int, jit: str, source_ref: str) -> bool:
        return self.source_to_erasure.get(_erasure_key(partition, jit, source_ref)) is not None

    async def _forget_operation(self, event: faust.EventT, forget: ForgetOperation) -> None:
        """Take an erased operation out of its JIT's operation index. The entry is owned by the
        command topic's partition of the same number, so it is written from that partition
        only: on any other (topics no longer co-partitioned) the command is dead-lettered.

        Its conflicts' keys are destroyed before the index forgets them, so that a crash in
        between replays the destruction instead of losing track of them."""
        entry = forget.jit.encode()
        owner = partition_of(entry, self._commands_partitions())
        if owner != event.message.partition:
            reason = (
                f"the operation index of the JIT belongs to partition {owner}, not to index "
                f"partition {event.message.partition}: the index and command topics are not "
                "co-partitioned"
            )
            await self._dead_letter(event, reason, ["jit"])
            return
        async with self._operations:
            stored = state_from_json(OperationIndex, self.jit_to_operations.get(entry))
            await shred(forget.jit, domain.conflicts_of(stored, forget.operation_id))
            new = domain.forget_operation(stored, jit=forget.jit, operation_id=forget.operation_id)
            if new != stored:
                self.jit_to_operations[entry] = state_to_json(new)
        log.info(
            "erased operation dropped from the index",
            jit=forget.jit,
            operation_id=forget.operation_id,
            partition=event.message.partition,
        )

    def _commands_partitions(self) -> int:
        name = self.settings.topic(DECONFLICTION_COMMANDS.name)
        count = self.app.consumer.topic_partitions(name)
        return count or min(DECONFLICTION_COMMANDS.partitions, self.settings.partitions)

    # --- 4. hits ---------------------------------------------------------------------------------

    async def admit_hit(self, event: faust.EventT) -> None:
        """Publish a candidate hit or role conflict if it is news, then record it."""
        try:
            cause = decode(event.value)
        except InvalidEvent as exc:
            await self._dead_letter(event, exc.reason, exc.fields)
            return
        candidate = cause.data
        if not isinstance(candidate, DeconflictionHit | RoleConflictDetected):
            await self._dead_letter(event, f"{cause.type} is not a hit", ["type"])
            return
        entry = candidate.hit_id.encode()
        state = state_from_json(HitState, self.hit_to_state.get(entry))
        if not domain.admit(state, candidate):
            return
        if isinstance(candidate, RoleConflictDetected) and state is None:
            await self._dead_letter(event, "a role conflict for a hit never told", ["hit_id"])
            return
        new = domain.evolve_hit(state, candidate)
        told = cause.model_copy(update={"aggregate_version": new.version})
        gate = self._admitting.setdefault(candidate.hit_id, asyncio.Event())
        try:
            await self._send([self._home(told)])
            self.hit_to_state[entry] = state_to_json(new)
        finally:
            gate.set()
            self._admitting.pop(candidate.hit_id, None)

    # --- 5. erasure ------------------------------------------------------------------------------

    async def erase_subject(self, event: faust.EventT) -> None:
        """Send an erased lead's or operation's internal commands to the index partitions that
        hold its entries: every partition for a lead (its tokens are spread by token), the JIT's
        for an operation. One worker reads each retention record, so the commands name their
        partition explicitly and reach every owner, not only this worker's partitions."""
        cause, error, _ = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            if not isinstance(error, ErasedEvent):
                await self._dead_letter(event, error.reason, error.fields)
            return
        erasure = cause.data
        if not isinstance(erasure, SubjectErased):
            return
        forget: ForgetSource | ForgetOperation
        if erasure.subject_kind is SubjectKind.LEAD:
            forget = ForgetSource(actor=ERASURE_ACTOR, jit=cause.jit, source_ref=erasure.subject_id)
            key = erasure.subject_id.encode()
            partitions = list(range(self._index_partitions()))
        elif erasure.subject_kind is SubjectKind.OPERATION:
            index, commands = self._index_partitions(), self._commands_partitions()
            if index != commands:
                reason = (
                    f"the index topic has {index} partitions and the command topic {commands}: "
                    "the operation's index entry cannot be reached; replay once they match"
                )
                log.error("operation erasure not applied", reason=reason, event_id=cause.id)
                await self._dead_letter(event, reason, ["subject_kind"])
                return
            forget = ForgetOperation(
                actor=ERASURE_ACTOR, jit=cause.jit, operation_id=erasure.subject_id
            )
            key = cause.jit.encode()
            partitions = [partition_of(key, index)]
        else:
            return
        records: list[Record] = []
        for i, partition in enumerate(partitions):
            command = envelop(
                forget,
                subject=erasure.subject_id,
                jit=cause.jit,
                originator=PLATFORM_TEAM,
                source=SOURCE,
                correlation_id=cause.correlation_id,
                causation_id=cause.id,
                catalogue=INDEX_CATALOGUE,
            ).model_copy(update={"id": derived_id(cause.id, i)})
            value = encode(command, catalogue=INDEX_CATALOGUE)
            records.append((self.index_topic, key, value, partition))
        await self._send(records)
        log.info(
            "erasure sent to the index",
            subject_kind=erasure.subject_kind.value,
            event_id=cause.id,
            partitions=len(partitions),
        )


def _erasure_key(partition: int, jit: str, source_ref: str) -> bytes:
    """The key of an erased source's record on one index partition ('/' is in no id)."""
    return f"{partition}/{jit}/{source_ref}".encode()


def _split(outputs: Outputs) -> tuple[list[Envelope], list[Envelope]]:
    events = [e for e in outputs.envelopes if e.type not in OUTCOME_TYPES]
    return events, [e for e in outputs.envelopes if e.type in OUTCOME_TYPES]


def _lacks_desk(hit: Addressed) -> bool:
    event = hit.event
    if isinstance(event, DeconflictionHit):
        return event.registering.desk is None or event.holding.desk is None
    if isinstance(event, RoleConflictDetected):
        return event.victim.desk is None or event.suspect.desk is None
    return False


def build(settings: Settings, config: DeconflictionSettings | None = None) -> faust.App:
    """The deconfliction worker: the blind target index, hits and operations in faust tables."""
    config = config or load_deconfliction_settings()
    app = create_app(
        "deconfliction",
        settings,
        store=config.store,
        broker_session_timeout=config.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, config.session_timeout_seconds / 3),
    )
    DeconflictionWorker(app, settings, config)
    return app
