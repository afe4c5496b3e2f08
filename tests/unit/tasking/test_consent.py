"""Consent for victim referrals: no referral without it, and withdrawal stops the referral."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from events.envelope import Actor, Addressed
from events.outcomes import Rejected
from events.tasking import (
    ConsentDecision,
    ConsentRecord,
    ConsentRecorded,
    ReferralService,
    ReferralStopped,
    TaskStatus,
    VictimReferral,
)
from services.tasking.domain import decide

from .builders import (
    KINDS,
    NOW,
    OBSERVER,
    RCV,
    RECEIVER,
    REQ,
    REQUESTER,
    accept,
    apply,
    consent,
    events_of,
    record_consent,
    referral,
    request,
    task_in,
)

WITHDRAWN = ConsentDecision.WITHDRAWN


def _refused(details: VictimReferral) -> Rejected:
    with pytest.raises(Rejected) as refused:
        decide(None, request(details), now=NOW)
    return refused.value


def test_referral_without_consent_is_422_naming_consent() -> None:
    """A victim referral that carries no consent record is refused, naming the consent field."""
    refused = _refused(VictimReferral(service=ReferralService.MEDICAL_CARE))
    assert refused.status == 422
    assert "consent" in refused.reason
    assert [e.field for e in refused.errors] == ["details.consent"]


def test_referral_with_withdrawn_consent_is_422() -> None:
    """A referral cannot be made on a record of consent withdrawn."""
    refused = _refused(referral(consent(WITHDRAWN)))
    assert refused.status == 422
    assert [e.field for e in refused.errors] == ["details.consent"]
    assert "withdrawn" in refused.reason


def test_referral_with_consent_dated_in_the_future_is_422() -> None:
    """Consent cannot be recorded as given after the time of the request."""
    refused = _refused(referral(consent(at=NOW + timedelta(minutes=5))))
    assert refused.status == 422
    assert [e.field for e in refused.errors] == ["details.consent.at"]


@pytest.mark.parametrize("service", list(ReferralService))
def test_referral_with_given_consent_is_requested(service: ReferralService) -> None:
    """A referral to any protection service with consent given is requested and keeps the record."""
    state, _ = apply(None, request(VictimReferral(service=service, consent=consent())))
    assert state.status == TaskStatus.REQUESTED
    assert state.consents == (consent(),)
    assert state.consent == consent()


def test_consent_names_no_one() -> None:
    """Who gave consent is a reference; a name with spaces is refused by the model."""
    with pytest.raises(ValidationError) as invalid:
        ConsentRecord(
            decision=ConsentDecision.GIVEN,
            by="Maria Popescu",
            at=NOW,
            purposes=("referral",),
        )
    assert invalid.value.errors()[0]["loc"] == ("by",)


def test_consent_says_for_what() -> None:
    """A consent record without purposes is refused."""
    with pytest.raises(ValidationError) as invalid:
        ConsentRecord(decision=ConsentDecision.GIVEN, by="victim-1", at=NOW, purposes=())
    assert invalid.value.errors()[0]["loc"] == ("purposes",)


@pytest.mark.parametrize(
    "status",
    [
        TaskStatus.REQUESTED,
        TaskStatus.ACCEPTED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.BLOCKED,
    ],
)
@pytest.mark.parametrize("by", [REQ, RCV], ids=["requester", "receiver"])
def test_withdrawal_stops_an_open_referral(status: TaskStatus, by: Actor) -> None:
    """Withdrawn consent records the withdrawal and stops the referral, told to every team."""
    state = task_in(status)
    new, outcome = apply(state, record_consent(by, WITHDRAWN))
    recorded, stopped = events_of(outcome)
    assert isinstance(recorded, ConsentRecorded)
    assert recorded.consent.decision == WITHDRAWN
    assert isinstance(stopped, ReferralStopped)
    assert stopped.previous_status == status
    assert new.status == TaskStatus.STOPPED
    assert new.consent is not None and new.consent.decision == WITHDRAWN
    assert new.closed_at == NOW
    for item in outcome:
        assert isinstance(item, Addressed) and item.releasable_to is not None
        assert {item.originator, *item.releasable_to} == {REQUESTER, RECEIVER, OBSERVER}


@pytest.mark.parametrize(
    "status",
    [
        TaskStatus.COMPLETED,
        TaskStatus.DECLINED,
        TaskStatus.CANCELLED,
        TaskStatus.STOPPED,
    ],
)
def test_withdrawal_after_the_end_is_recorded_without_a_stop(
    status: TaskStatus,
) -> None:
    """A withdrawal after the referral ended is recorded and told, but there is nothing to stop."""
    state = task_in(status)
    new, outcome = apply(state, record_consent(decision=WITHDRAWN))
    assert [type(e) for e in events_of(outcome)] == [ConsentRecorded]
    assert new.status == status
    assert new.consents[-1].decision == WITHDRAWN


def test_consent_given_again_does_not_restart_a_stopped_referral() -> None:
    """A stopped referral stays stopped; a new referral is a new task."""
    state = task_in(TaskStatus.STOPPED)
    new, _ = apply(state, record_consent(decision=ConsentDecision.GIVEN))
    assert new.status == TaskStatus.STOPPED
    assert [c.decision for c in new.consents] == ["given", "withdrawn", "given"]
    with pytest.raises(Rejected) as refused:
        decide(new, accept(), now=NOW)
    assert refused.value.status == 409
    assert "stopped" in refused.value.reason


@pytest.mark.parametrize(
    "kind", ["investigative_action", "information_request", "legal_assistance"]
)
def test_consent_is_only_for_referrals(kind: str) -> None:
    """Recording consent on a task that is not a victim referral is refused with 422."""
    state = task_in(TaskStatus.REQUESTED, KINDS[kind])
    with pytest.raises(Rejected) as refused:
        decide(state, record_consent(), now=NOW)
    assert refused.value.status == 422
    assert "consent" in refused.value.reason


def test_consent_recorded_in_the_future_is_422() -> None:
    """A consent change cannot be dated after the moment it is recorded."""
    state = task_in(TaskStatus.ACCEPTED)
    future = record_consent().model_copy(
        update={"consent": consent(WITHDRAWN, at=NOW + timedelta(hours=1))}
    )
    with pytest.raises(Rejected) as refused:
        decide(state, future, now=NOW)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["consent.at"]
