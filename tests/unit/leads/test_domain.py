"""The leads aggregate: submission, idempotency, triage transitions and permissions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.envelope import Actor
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import (
    ActionLead,
    CloseLead,
    DiscardLead,
    EntityObserved,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadPriority,
    LeadStatus,
    LeadSubmitted,
    LeadTriaged,
    SubmitLead,
    TriageLead,
    identifier_entity_id,
    lead_id_for,
    person_entity_id,
)
from events.outcomes import Rejected
from services.leads.domain import LeadState, decide, evolve, rejected_events

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NL = Actor(member="anna", team="NL-KLPD", roles=("investigator",))
RO = Actor(member="ioana", team="RO-DIICOT", roles=("investigator",))
NL_DESK = Actor(member="joost", team="NL-KLPD", roles=("desk_officer",))


def submit(key: str = "k1", actor: Actor = NL, **extra: object) -> SubmitLead:
    return SubmitLead(
        actor=actor,
        lead_id=lead_id_for(actor.team, key),
        idempotency_key=key,
        source="ngo",
        received_at=NOW,
        summary="Workers housed at a farm",
        reliability="B",
        credibility="2",
        persons=(Person(name="Ion Popescu", role=PersonRole.SUSPECT),),
        identifiers=(
            Identifier(kind=IdentifierKind.PHONE, value="+40 721 555 123", person=0),
            Identifier(kind=IdentifierKind.EMAIL, value="Recruiter@Example.com"),
        ),
        **extra,  # type: ignore[arg-type]
    )


def fold(events: list, state: LeadState | None = None) -> LeadState:  # type: ignore[type-arg]
    for event in events:
        state = evolve(state, event)
    assert state is not None
    return state


def lead_in(status: LeadStatus) -> LeadState:
    state = fold(decide(None, submit(), now=NOW, jit="jit-1"))
    path = {
        LeadStatus.NEW: [],
        LeadStatus.TRIAGED: [
            TriageLead(actor=NL, lead_id=state.lead_id, assignee="anna", priority=LeadPriority.HIGH)
        ],
        LeadStatus.ACTIONED: [
            TriageLead(
                actor=NL, lead_id=state.lead_id, assignee="anna", priority=LeadPriority.HIGH
            ),
            ActionLead(actor=NL, lead_id=state.lead_id, link_kind="task", link_id="t-1"),
        ],
        LeadStatus.CLOSED: [
            TriageLead(
                actor=NL, lead_id=state.lead_id, assignee="anna", priority=LeadPriority.HIGH
            ),
            CloseLead(actor=NL, lead_id=state.lead_id, reason="done"),
        ],
        LeadStatus.DISCARDED: [DiscardLead(actor=NL, lead_id=state.lead_id, reason="noise")],
    }[status]
    for command in path:
        state = fold(decide(state, command, now=NOW), state)
    assert state.status is status
    return state


def test_submission_emits_the_lead_and_one_entity_per_person_and_identifier() -> None:
    """A lead with one person and two identifiers gives LeadSubmitted and three EntityObserved."""
    events = decide(None, submit(), now=NOW, jit="jit-1")
    assert [type(e) for e in events] == [
        LeadSubmitted,
        EntityObserved,
        EntityObserved,
        EntityObserved,
    ]
    submitted = events[0]
    assert isinstance(submitted, LeadSubmitted)
    assert submitted.team == "NL-KLPD"
    observed = [e for e in events if isinstance(e, EntityObserved)]
    person, phone, email = observed
    assert person.person is not None and person.role is PersonRole.SUSPECT
    assert phone.identifier is not None and phone.identifier.value == "+40721555123"
    assert phone.person_entity_id == person.entity_id == person_entity_id(submitted.lead_id, 0)
    assert email.identifier is not None and email.identifier.value == "recruiter@example.com"
    assert email.person_entity_id is None


def test_one_identifier_is_one_entity_across_leads_of_a_jit() -> None:
    """The same identifier in two leads (even two teams) is one entity id within a JIT."""
    a = decide(None, submit("a"), now=NOW, jit="jit-1")
    b = decide(None, submit("b", actor=RO), now=NOW, jit="jit-1")
    ids_a = {e.entity_id for e in a if isinstance(e, EntityObserved) and e.identifier}
    ids_b = {e.entity_id for e in b if isinstance(e, EntityObserved) and e.identifier}
    assert ids_a == ids_b
    other_jit = decide(None, submit("a"), now=NOW, jit="jit-2")
    assert ids_a.isdisjoint(e.entity_id for e in other_jit if isinstance(e, EntityObserved))


def test_repeated_submission_with_the_same_key_is_one_lead() -> None:
    """Submitting again with the same idempotency key emits nothing and is not an error."""
    state = fold(decide(None, submit(), now=NOW, jit="jit-1"))
    assert decide(state, submit(), now=NOW, jit="jit-1") == []


def test_lead_id_clash_from_another_submission_is_a_conflict() -> None:
    """A lead id already taken by a different key is refused with 409."""
    state = fold(decide(None, submit(), now=NOW, jit="jit-1"))
    clash = submit("other").model_copy(update={"lead_id": state.lead_id})
    with pytest.raises(Rejected) as refused:
        decide(state, clash, now=NOW, jit="jit-1")
    assert refused.value.status == 409


def test_lead_ids_are_stable_per_team_and_key() -> None:
    """The same team and key give the same id; another team's same key another id."""
    assert lead_id_for("NL-KLPD", "x") == lead_id_for("NL-KLPD", "x")
    assert lead_id_for("NL-KLPD", "x") != lead_id_for("RO-DIICOT", "x")
    assert identifier_entity_id("j", "phone::+1") != identifier_entity_id("j", "phone::+2")


TRANSITIONS = [
    (LeadStatus.NEW, "triage", LeadTriaged, LeadStatus.TRIAGED),
    (LeadStatus.TRIAGED, "triage", LeadTriaged, LeadStatus.TRIAGED),
    (LeadStatus.TRIAGED, "action", LeadActioned, LeadStatus.ACTIONED),
    (LeadStatus.ACTIONED, "action", LeadActioned, LeadStatus.ACTIONED),
    (LeadStatus.TRIAGED, "close", LeadClosed, LeadStatus.CLOSED),
    (LeadStatus.ACTIONED, "close", LeadClosed, LeadStatus.CLOSED),
    (LeadStatus.NEW, "discard", LeadDiscarded, LeadStatus.DISCARDED),
    (LeadStatus.TRIAGED, "discard", LeadDiscarded, LeadStatus.DISCARDED),
]


def command(name: str, lead_id: str, actor: Actor = NL):  # type: ignore[no-untyped-def]
    return {
        "triage": TriageLead(
            actor=actor, lead_id=lead_id, assignee="anna", priority=LeadPriority.URGENT
        ),
        "action": ActionLead(actor=actor, lead_id=lead_id, link_kind="operation", link_id="op-9"),
        "close": CloseLead(actor=actor, lead_id=lead_id, reason="arrests made"),
        "discard": DiscardLead(actor=actor, lead_id=lead_id, reason="duplicate report"),
    }[name]


@pytest.mark.parametrize(("start", "name", "event_type", "end"), TRANSITIONS)
def test_allowed_transitions(
    start: LeadStatus, name: str, event_type: type, end: LeadStatus
) -> None:
    """Every allowed transition emits its event and moves the lead to the next status."""
    state = lead_in(start)
    events = decide(state, command(name, state.lead_id), now=NOW)
    assert [type(e) for e in events] == [event_type]
    after = fold(events, state)
    assert after.status is end
    assert after.version == state.version + 1


ALLOWED = {(s, n) for s, n, _, _ in TRANSITIONS}


REFUSED = [
    (start, name)
    for start in LeadStatus
    for name in ("triage", "action", "close", "discard")
    if (start, name) not in ALLOWED
]


@pytest.mark.parametrize(("start", "name"), REFUSED)
def test_every_other_transition_is_a_conflict_naming_the_status(
    start: LeadStatus, name: str
) -> None:
    """A transition not allowed from the current status is refused with 409 and says why."""
    state = lead_in(start)
    with pytest.raises(Rejected) as refused:
        decide(state, command(name, state.lead_id), now=NOW)
    assert refused.value.status == 409
    assert start.value in refused.value.reason


def test_another_team_may_not_triage() -> None:
    """Only the originating team moves its lead; another team gets the 404 of an unknown lead,
    which names neither the owner nor whether the lead exists."""
    state = lead_in(LeadStatus.NEW)
    with pytest.raises(Rejected) as refused:
        decide(state, command("triage", state.lead_id, RO), now=NOW)
    assert (refused.value.status, refused.value.reason) == (404, f"no lead {state.lead_id}")


def test_a_role_without_triage_rights_may_not_triage() -> None:
    """A desk officer of the right team has no triage role: 403."""
    state = lead_in(LeadStatus.NEW)
    with pytest.raises(Rejected) as refused:
        decide(state, command("triage", state.lead_id, NL_DESK), now=NOW)
    assert refused.value.status == 403
    assert "roles" in refused.value.reason


def test_unknown_lead_is_not_found() -> None:
    """A transition on a lead that does not exist is a 404."""
    with pytest.raises(Rejected) as refused:
        decide(None, command("triage", "nope"), now=NOW)
    assert refused.value.status == 404


def test_linking_the_same_task_twice_is_a_conflict() -> None:
    """A lead already linked to a task cannot be linked to it again."""
    state = lead_in(LeadStatus.ACTIONED)
    again = ActionLead(actor=NL, lead_id=state.lead_id, link_kind="task", link_id="t-1")
    with pytest.raises(Rejected) as refused:
        decide(state, again, now=NOW)
    assert refused.value.status == 409


def test_state_round_trips_through_json() -> None:
    """The state kept in the faust table survives a JSON round trip unchanged."""
    state = lead_in(LeadStatus.ACTIONED)
    assert LeadState.model_validate(state.model_dump(mode="json")) == state


def test_refused_submissions_are_told_on_the_lead_topic() -> None:
    """A refused SubmitLead yields LeadRejected with the reason; other refusals yield nothing."""
    from events.codec import envelop

    cause = envelop(
        submit(), subject="l", jit="j", originator="NL-KLPD", source="/t", correlation_id="c"
    )
    told = rejected_events(cause, "bad", (), cause.data)
    assert len(told) == 1 and told[0].reason == "bad"  # type: ignore[attr-defined]
    triage = envelop(
        command("triage", "l"),
        subject="l",
        jit="j",
        originator="NL-KLPD",
        source="/t",
        correlation_id="c",
    )
    assert rejected_events(triage, "bad", (), triage.data) == []
