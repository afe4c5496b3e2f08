"""Erasure in the deconfliction service: an erased lead leaves the target index, an erased
operation leaves its JIT's operation index, and neither comes back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import sealing
from events.catalogue import CATALOGUE
from events.codec import InvalidEvent, decode, encode, envelop
from events.deconfliction import (
    ForgetOperation,
    ForgetSource,
    MoveOperation,
    OperationConflictDetected,
    OperationKind,
    OperationPlace,
    PersonRegistered,
    PlanOperation,
    TokenRegistered,
)
from events.envelope import Addressed, Envelope, Event
from events.leads import EntityObserved
from events.outcomes import Rejected
from events.retention import DataCategory, ReviewDue, SubjectErased, SubjectKind
from services.deconfliction.agents import (
    ERASURE_ACTOR,
    INDEX_CATALOGUE,
    DeconflictionWorker,
    partition_of,
)
from services.deconfliction.domain import (
    Holder,
    OperationIndex,
    PersonBlock,
    TokenHolders,
    decide_operation,
    evolve_operation,
    forget_operation,
    forget_source,
)
from services.deconfliction.settings import DeconflictionSettings
from services.deconfliction.tokens import TokenKeys
from services.kit.settings import Settings

from .builders import (
    BG,
    DESKS,
    JIT,
    NL,
    OTHER_JIT,
    RO,
    T0,
    Index,
    actor,
    person,
    phone,
    registration_command,
    tokenise,
)

# --- the target index ---------------------------------------------------------------------------


def _holders_of(index: Index, team: str) -> set[str]:
    entries: list[TokenHolders | PersonBlock] = [*index.tokens.values(), *index.blocks.values()]
    return {h.registration_id for entry in entries for h in entry.holders if h.team == team}


def _forget(index: Index, *, jit: str, source_ref: str) -> None:
    """Forget a source in every entry, as the index partitions do together."""
    for token, holders in list(index.tokens.items()):
        kept = forget_source(holders, jit=jit, source_ref=source_ref)
        if kept is None:
            del index.tokens[token]
        else:
            assert isinstance(kept, TokenHolders)
            index.tokens[token] = kept
    for block, persons in list(index.blocks.items()):
        left = forget_source(persons, jit=jit, source_ref=source_ref)
        if left is None:
            del index.blocks[block]
        else:
            assert isinstance(left, PersonBlock)
            index.blocks[block] = left


def test_forgetting_a_lead_drops_its_holders_and_keeps_the_other_teams() -> None:
    """An erased lead's holders leave the token entry; another team's holder stays."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", [phone()])))
    index.feed(tokenise(registration_command(RO, "lead-ro", [phone()])))
    [(token, holders)] = index.tokens.items()
    kept = forget_source(holders, jit=JIT, source_ref="lead-nl")
    assert isinstance(kept, TokenHolders)
    assert kept.token == token
    assert [h.team for h in kept.holders] == [RO]


def test_forgetting_the_only_holder_empties_the_entry() -> None:
    """An entry held only by the erased lead becomes None: the wiring deletes it."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", [phone()])))
    [holders] = index.tokens.values()
    assert forget_source(holders, jit=JIT, source_ref="lead-nl") is None


def test_forgetting_another_source_leaves_the_entry_as_it_is() -> None:
    """An entry without the erased lead is returned unchanged (the wiring writes nothing)."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", [phone()])))
    [holders] = index.tokens.values()
    assert forget_source(holders, jit=JIT, source_ref="lead-other") is holders


def test_the_same_source_ref_in_another_jit_is_not_forgotten() -> None:
    """A source ref is unique within its JIT only: another JIT's lead of that id stays."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()]), jit=JIT))
    index.feed(tokenise(registration_command(RO, "lead-1", [phone()]), jit=OTHER_JIT))
    for holders in index.tokens.values():
        kept = forget_source(holders, jit=JIT, source_ref="lead-1")
        assert kept is None or all(h.jit == OTHER_JIT for h in kept.holders)
    assert {h.jit for e in index.tokens.values() for h in e.holders} == {JIT, OTHER_JIT}


def test_forgetting_a_lead_drops_its_persons_from_their_birth_date_block() -> None:
    """An erased lead's persons leave their block; another team's person born that day stays."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", persons=[person("Ion Popescu")])))
    index.feed(tokenise(registration_command(RO, "lead-ro", persons=[person("Ion Popescu")])))
    [(block, persons)] = index.blocks.items()
    kept = forget_source(persons, jit=JIT, source_ref="lead-nl")
    assert isinstance(kept, PersonBlock)
    assert kept.block_token == block
    assert [h.team for h in kept.holders] == [RO]


def test_a_third_team_after_an_erasure_hits_the_remaining_team_only() -> None:
    """After NL's lead is erased, BG's same phone and person hit RO's registrations only."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", [phone()], [person("Ion Popescu")])))
    index.feed(tokenise(registration_command(RO, "lead-ro", [phone()], [person("Ion Popescu")])))
    erased = _holders_of(index, NL)
    assert erased
    _forget(index, jit=JIT, source_ref="lead-nl")
    assert _holders_of(index, NL) == set()
    hits = index.feed(
        tokenise(registration_command(BG, "lead-bg", [phone()], [person("Ion Popescu")]))
    )
    assert hits
    for hit in hits:
        sides = {hit.event.registering.team, hit.event.holding.team}  # type: ignore[attr-defined]
        assert sides == {BG, RO}
        ids = {
            hit.event.registering.registration_id,  # type: ignore[attr-defined]
            hit.event.holding.registration_id,  # type: ignore[attr-defined]
        }
        assert not ids & erased


_ids = st.sampled_from(["lead-1", "lead-2", "lead-3"])
_jits = st.sampled_from([JIT, OTHER_JIT])


@given(
    holders=st.lists(st.tuples(_jits, _ids, st.sampled_from([NL, RO, BG])), max_size=12),
    jit=_jits,
    source_ref=_ids,
)
def test_forget_source_keeps_exactly_the_other_holders_in_order(
    holders: list[tuple[str, str, str]], jit: str, source_ref: str
) -> None:
    """Whatever the holders, forgetting keeps exactly those of other sources, in their order."""
    entry = TokenHolders(
        token="t" * 43,
        holders=tuple(
            Holder(
                registration_id=f"00000000-0000-4000-8000-{n:012d}",
                jit=j,
                team=team,
                kind="phone",
                source_ref=ref,
                key_version=1,
                registered_at=T0,
            )
            for n, (j, ref, team) in enumerate(holders)
        ),
    )
    expected = [h for h in entry.holders if (h.jit, h.source_ref) != (jit, source_ref)]
    kept = forget_source(entry, jit=jit, source_ref=source_ref)
    assert (list(kept.holders) if kept is not None else []) == expected


# --- operations -----------------------------------------------------------------------------------

START = T0 + timedelta(days=1)
CENTRE = (44.4268, 26.1025)


def _place(north_m: float = 0.0, radius: float = 300.0) -> OperationPlace:
    lat = CENTRE[0] + north_m / 111_195.0
    return OperationPlace(
        latitude=lat,
        longitude=CENTRE[1],
        radius_m=radius,
        starts_at=START,
        ends_at=START + timedelta(hours=4),
    )


@dataclass
class _Operations:
    """A JIT's operation index driven through decide and evolve, as the wiring does."""

    state: OperationIndex | None = None
    told: list[Addressed] = field(default_factory=list)

    def run(self, command: PlanOperation | MoveOperation) -> list[Addressed]:
        out = decide_operation(self.state, command, jit=JIT, now=T0, desks=DESKS)
        told = [i for i in out if isinstance(i, Addressed)]
        for item in told:
            assert isinstance(item.event, Event)
            self.state = evolve_operation(self.state, item.event, jit=JIT)
        return told

    def plan(self, team: str, op_id: str, where: OperationPlace) -> list[OperationConflictDetected]:
        told = self.run(
            PlanOperation(
                actor=actor(team), operation_id=op_id, kind=OperationKind.SEARCH, place=where
            )
        )
        return [i.event for i in told if isinstance(i.event, OperationConflictDetected)]


def _two_in_conflict() -> _Operations:
    ops = _Operations()
    assert ops.plan(NL, "op-nl", _place()) == []
    assert len(ops.plan(RO, "op-ro", _place(north_m=500))) == 1
    return ops


def test_an_erased_operation_leaves_the_index_with_its_cells_and_conflicts() -> None:
    """Erasing an operation removes its record, its H3 cells and its conflicts; the other
    team's operation stays indexed."""
    ops = _two_in_conflict()
    assert ops.state is not None and ops.state.conflicts
    after = forget_operation(ops.state, jit=JIT, operation_id="op-nl")
    assert set(after.operations) == {"op-ro"}
    assert all("op-nl" not in held for held in after.cell_to_operations.values())
    assert set(after.cell_to_operations) == set(ops.state.operations["op-ro"].cells)
    assert after.conflicts == {}
    assert after.erased_operations == ("op-nl",)
    assert after.version == ops.state.version + 1


def test_a_plan_meeting_only_the_erased_operation_conflicts_with_nothing() -> None:
    """A third team's operation overlapping only the erased one's place raises no conflict,
    while one overlapping the remaining operation still does."""
    ops = _two_in_conflict()
    assert ops.state is not None
    ops.state = forget_operation(ops.state, jit=JIT, operation_id="op-nl")
    assert ops.plan(BG, "op-bg-south", _place(north_m=-500)) == []
    [conflict] = ops.plan(BG, "op-bg-north", _place(north_m=900))
    assert {s.operation_id for s in conflict.sides} == {"op-bg-north", "op-ro"}


def test_an_erased_operation_cannot_be_planned_again_or_moved() -> None:
    """A replayed plan of an erased operation is 410, and so is a move of it."""
    ops = _two_in_conflict()
    assert ops.state is not None
    ops.state = forget_operation(ops.state, jit=JIT, operation_id="op-nl")
    with pytest.raises(Rejected) as replayed:
        ops.plan(NL, "op-nl", _place())
    assert replayed.value.status == 410
    with pytest.raises(Rejected) as moved:
        ops.run(MoveOperation(actor=actor(NL), operation_id="op-nl", radius_m=10))
    assert moved.value.status == 410
    with pytest.raises(Rejected) as unknown:
        ops.run(MoveOperation(actor=actor(NL), operation_id="op-none", radius_m=10))
    assert unknown.value.status == 404


def test_forgetting_an_operation_twice_changes_nothing_the_second_time() -> None:
    """A replayed erasure leaves the index as the first one left it."""
    ops = _two_in_conflict()
    once = forget_operation(ops.state, jit=JIT, operation_id="op-nl")
    assert forget_operation(once, jit=JIT, operation_id="op-nl") is once


def test_an_erasure_before_the_plan_keeps_the_plan_out() -> None:
    """An erasure that overtakes its operation's plan still refuses the plan (410)."""
    ops = _Operations(state=forget_operation(None, jit=JIT, operation_id="op-late"))
    assert ops.state is not None and ops.state.jit == JIT
    with pytest.raises(Rejected) as late:
        ops.plan(NL, "op-late", _place())
    assert late.value.status == 410


def test_an_index_stored_before_erasure_existed_still_reads() -> None:
    """A JIT's operation index stored without the erased list reads as none erased."""
    ops = _two_in_conflict()
    assert ops.state is not None
    stored = ops.state.model_dump(mode="json")
    del stored["erased_operations"]
    assert OperationIndex.model_validate(stored).erased_operations == ()


# --- the wiring -----------------------------------------------------------------------------------

PARTITIONS = 3


class _Topic:
    """Stands for a faust topic: only its name is used."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class _Outbox:
    """Records what is sent, and confirms it at once."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes, int | None]] = []

    def send_records(
        self, records: list[tuple[str, bytes | None, bytes, int | None]]
    ) -> asyncio.Future[None]:
        self.records.extend(records)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@dataclass
class _Message:
    partition: int
    value: bytes
    key: bytes | None = None
    topic: str = "unit.topic"
    offset: int = 0


@dataclass
class _Record:
    message: _Message

    @property
    def value(self) -> bytes:
        return self.message.value


def _worker(index_partitions: int = PARTITIONS, command_partitions: int = PARTITIONS) -> Any:
    """A worker with dicts for tables and stub topics: the erasure logic alone."""
    settings = Settings(topic_prefix="unit.", partitions=PARTITIONS)
    config = DeconflictionSettings()
    worker: Any = object.__new__(DeconflictionWorker)
    worker.settings = settings
    worker.config = config
    worker.keys = TokenKeys(b"k" * 32, config.key_ring())
    worker.token_to_holders = {}
    worker.block_to_persons = {}
    worker.jit_to_operations = {}
    worker.source_to_erasure = {}
    worker._operations = asyncio.Lock()
    worker.index_topic = _Topic(settings.topic("interlock.deconfliction.index"))
    worker.outbox = _Outbox()
    worker.dead = []

    async def dead_letter(event: Any, reason: str, fields: Any = ()) -> None:
        worker.dead.append(reason)

    worker._dead_letter = dead_letter
    counts = {
        settings.topic("interlock.deconfliction.index"): index_partitions,
        settings.topic("interlock.deconfliction.commands"): command_partitions,
    }

    class Consumer:
        def topic_partitions(self, name: str) -> int:
            return counts[name]

    class App:
        consumer = Consumer()

    worker.app = App()
    return worker


def _erasure(kind: SubjectKind, subject: str, jit: str = JIT) -> bytes:
    erased = SubjectErased(
        subject_id=subject,
        subject_kind=kind,
        at=T0,
        owner_team=NL,
        categories=(DataCategory.LEADS,),
        cause="request",
        by="nl-coordinator",
        reason="The owning team asked for the erasure.",
    )
    return encode(
        envelop(
            erased, subject=subject, jit=jit, originator=NL, source="/test", correlation_id="c-1"
        )
    )


def _sent(worker: Any) -> list[tuple[Envelope, bytes | None, int | None]]:
    return [
        (decode(value, INDEX_CATALOGUE), key, partition)
        for topic, key, value, partition in worker.outbox.records
        if topic == worker.index_topic.name
    ]


async def test_a_lead_erasure_reaches_every_index_partition_once() -> None:
    """An erased lead becomes one ForgetSource to each index partition, however few this
    worker owns; each is readable with the internal catalogue only."""
    worker = _worker()
    await worker.erase_subject(_Record(_Message(0, _erasure(SubjectKind.LEAD, "lead-nl"))))
    sent = _sent(worker)
    assert sorted(partition or 0 for _, _, partition in sent) == list(range(PARTITIONS))
    assert all(partition is not None for _, _, partition in sent)
    for envelope, key, _ in sent:
        assert envelope.data == ForgetSource(actor=ERASURE_ACTOR, jit=JIT, source_ref="lead-nl")
        assert envelope.jit == JIT
        assert key == b"lead-nl"
    assert len({envelope.id for envelope, _, _ in sent}) == PARTITIONS
    with pytest.raises(InvalidEvent, match="unknown event type"):
        decode(worker.outbox.records[0][2], CATALOGUE)


async def test_a_replayed_lead_erasure_sends_the_same_commands() -> None:
    """A retention record handled twice (a crash before its ack) sends the same ids again."""
    first, second = _worker(), _worker()
    raw = _erasure(SubjectKind.LEAD, "lead-nl")
    await first.erase_subject(_Record(_Message(0, raw)))
    await second.erase_subject(_Record(_Message(0, raw)))
    assert [e.id for e, _, _ in _sent(first)] == [e.id for e, _, _ in _sent(second)]


async def test_an_operation_erasure_goes_to_the_partition_owning_the_jit() -> None:
    """An erased operation becomes one ForgetOperation, keyed by JIT, to the JIT's partition
    (the partition of the command topic that owns the JIT's operation index)."""
    worker = _worker()
    await worker.erase_subject(_Record(_Message(0, _erasure(SubjectKind.OPERATION, "op-nl"))))
    [(envelope, key, partition)] = _sent(worker)
    assert envelope.data == ForgetOperation(actor=ERASURE_ACTOR, jit=JIT, operation_id="op-nl")
    assert key == JIT.encode()
    assert partition == partition_of(JIT.encode(), PARTITIONS)


async def test_an_operation_erasure_is_dead_lettered_if_topics_are_not_co_partitioned() -> None:
    """With index and command topics of different sizes, the erasure is dead-lettered rather
    than sent to a partition that does not own the JIT's operation index."""
    worker = _worker(index_partitions=3, command_partitions=6)
    await worker.erase_subject(_Record(_Message(0, _erasure(SubjectKind.OPERATION, "op-nl"))))
    assert worker.outbox.records == []
    assert worker.dead and "partitions" in worker.dead[0]


async def test_other_retention_records_and_task_erasures_send_nothing() -> None:
    """A task erasure or a review reminder concerns nothing the deconfliction index holds."""
    worker = _worker()
    await worker.erase_subject(_Record(_Message(0, _erasure(SubjectKind.TASK, "task-1"))))
    review = ReviewDue(
        subject_id="lead-nl",
        subject_kind=SubjectKind.LEAD,
        at=T0,
        owner_team=NL,
        categories=(DataCategory.LEADS,),
        erase_after=T0 + timedelta(days=30),
    )
    raw = encode(
        envelop(review, subject="lead-nl", jit=JIT, originator=NL, source="/t", correlation_id="c")
    )
    await worker.erase_subject(_Record(_Message(0, raw)))
    assert worker.outbox.records == []
    assert worker.dead == []


def _index_record(payload: Any, partition: int, subject: str) -> _Record:
    envelope = envelop(
        payload,
        subject=subject,
        jit=JIT,
        originator="EU-INTERLOCK",
        source="/test",
        correlation_id="c-2",
        catalogue=INDEX_CATALOGUE,
    )
    return _Record(_Message(partition, encode(envelope, catalogue=INDEX_CATALOGUE)))


def _registration(event: TokenRegistered | PersonRegistered, partition: int) -> _Record:
    subject = event.token if isinstance(event, TokenRegistered) else event.block_token
    envelope = envelop(
        event, subject=subject, jit=JIT, originator=event.team, source="/t", correlation_id="c"
    )
    return _Record(_Message(partition, encode(envelope)))


def _loaded_worker() -> tuple[Any, Index]:
    """A worker whose tables hold NL's and RO's leads, each with twelve phones."""
    worker = _worker()
    index = Index()
    for team in (NL, RO):
        phones = [phone(f"+3161000{n:04d}") for n in range(12)]
        index.feed(tokenise(registration_command(team, f"lead-{team.lower()}", phones)))
    for token, holders in index.tokens.items():
        worker.token_to_holders[token.encode()] = holders.model_dump(mode="json")
    return worker, index


async def test_a_partition_forgets_its_own_entries_and_refuses_the_source_from_then_on() -> None:
    """ForgetSource on one partition drops that partition's holders of the lead only, and a
    later registration of the lead on that partition does not enter its index."""
    worker, _ = _loaded_worker()
    mine = {k for k in worker.token_to_holders if partition_of(k, PARTITIONS) == 1}
    assert mine and len(mine) < len(worker.token_to_holders)
    before = dict(worker.token_to_holders)
    forget = ForgetSource(actor=ERASURE_ACTOR, jit=JIT, source_ref="lead-nl-klpd")
    await worker.index_registration(_index_record(forget, 1, "lead-nl-klpd"))
    for key, value in worker.token_to_holders.items():
        teams = {h["team"] for h in value["holders"]}
        assert teams == ({RO} if key in mine else {NL, RO})
    assert set(worker.token_to_holders) == set(before)
    assert worker._erased(1, JIT, "lead-nl-klpd")
    assert not worker._erased(0, JIT, "lead-nl-klpd")
    assert not worker._erased(1, OTHER_JIT, "lead-nl-klpd")

    late = tokenise(registration_command(NL, "lead-nl-klpd", [phone("+31610009999")]))
    [token_event] = [e for e in late if isinstance(e, TokenRegistered)]
    await worker.index_registration(_registration(token_event, 1))
    assert token_event.token.encode() not in worker.token_to_holders


async def test_a_forgotten_entry_left_empty_is_deleted() -> None:
    """A token held only by the erased lead is deleted from the table, not left empty."""
    worker = _worker()
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-nl", [phone()])))
    [(token, holders)] = index.tokens.items()
    worker.token_to_holders[token.encode()] = holders.model_dump(mode="json")
    partition = partition_of(token.encode(), PARTITIONS)
    forget = ForgetSource(actor=ERASURE_ACTOR, jit=JIT, source_ref="lead-nl")
    await worker.index_registration(_index_record(forget, partition, "lead-nl"))
    assert worker.token_to_holders == {}


async def test_a_forget_operation_on_its_owning_partition_takes_the_operation_out() -> None:
    """ForgetOperation on the JIT's partition drops the operation from the stored index."""
    worker = _worker()
    ops = _two_in_conflict()
    assert ops.state is not None
    worker.jit_to_operations[JIT.encode()] = ops.state.model_dump(mode="json")
    forget = ForgetOperation(actor=ERASURE_ACTOR, jit=JIT, operation_id="op-nl")
    owner = partition_of(JIT.encode(), PARTITIONS)
    await worker.index_registration(_index_record(forget, owner, JIT))
    stored = OperationIndex.model_validate(worker.jit_to_operations[JIT.encode()])
    assert set(stored.operations) == {"op-ro"}
    assert stored.erased_operations == ("op-nl",)


async def test_a_forget_operation_on_another_partition_writes_nothing() -> None:
    """ForgetOperation that reached a partition not owning the JIT's index is dead-lettered
    and the index entry is left to its owner."""
    worker = _worker()
    ops = _two_in_conflict()
    assert ops.state is not None
    stored = ops.state.model_dump(mode="json")
    worker.jit_to_operations[JIT.encode()] = stored
    forget = ForgetOperation(actor=ERASURE_ACTOR, jit=JIT, operation_id="op-nl")
    other = (partition_of(JIT.encode(), PARTITIONS) + 1) % PARTITIONS
    await worker.index_registration(_index_record(forget, other, JIT))
    assert worker.jit_to_operations[JIT.encode()] == stored
    assert worker.dead and "co-partitioned" in worker.dead[0]


class _ShreddedRing:
    """A key ring whose keys seal but were destroyed before anyone opened them."""

    def sealing_key(self, kid: str) -> bytes:
        return b"s" * 32

    def opening_key(self, kid: str) -> bytes | None:
        return None


async def test_a_lead_event_of_an_erased_lead_registers_nothing_and_is_not_dead_lettered() -> None:
    """A lead event sealed with a destroyed key is passed over: no registration, no dead letter."""
    worker = _worker()
    observed = EntityObserved(lead_id="lead-nl", entity_id="entity-1", identifier=phone())
    sealing.install(_ShreddedRing())
    try:
        raw = encode(
            envelop(
                observed, subject="lead-nl", jit=JIT, originator=NL, source="/t", correlation_id="c"
            )
        )
        assert b"application/jose" in raw
        assert await worker.entity_registrations(_Record(_Message(0, raw))) == []
    finally:
        sealing.install(None)
    assert worker.dead == []


def test_the_erasure_commands_are_internal() -> None:
    """ForgetSource and ForgetOperation are not in the public catalogue: no team can send them."""
    public = {entry.model for entry in CATALOGUE}
    assert ForgetSource not in public and ForgetOperation not in public
    assert INDEX_CATALOGUE.entry_for(ForgetSource).topic.name == "interlock.deconfliction.index"
    assert INDEX_CATALOGUE.entry_for(ForgetOperation).topic.name == "interlock.deconfliction.index"


def test_the_erasure_commands_carry_ids_only() -> None:
    """The internal commands name a JIT and an id, never personal data; an id is checked."""
    assert set(ForgetSource.model_fields) == {"actor", "jit", "source_ref"}
    assert set(ForgetOperation.model_fields) == {"actor", "jit", "operation_id"}
    with pytest.raises(ValueError, match="source_ref"):
        ForgetSource(actor=ERASURE_ACTOR, jit=JIT, source_ref="a/b")
