"""Properties: whatever the policies and activity, erasure is due exactly from erase_after on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.retention import DataCategory, SubjectErased, SubjectKind
from services.retention.domain import Policies, SubjectRecord, due, erase_after, observe

from .builders import JIT, LEAD, OTHER, OWNER, events_of, policy

START = datetime(2024, 1, 1, tzinfo=UTC)

instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 3600).map(
    lambda s: START + timedelta(seconds=s)
)
categories = st.frozensets(st.sampled_from(DataCategory), min_size=1)
records = st.builds(
    policy,
    st.sampled_from(DataCategory),
    st.integers(min_value=1, max_value=36_500),
    team=st.sampled_from([None, OWNER, OTHER]),
    review_days=st.integers(min_value=0, max_value=365),
)
policy_sets = st.lists(records, max_size=12).map(Policies)


@st.composite
def subjects(draw: st.DrawFn) -> SubjectRecord:
    """A subject observed at a few random times with random categories, maybe extended."""
    record: SubjectRecord | None = None
    for at in draw(st.lists(instants, min_size=1, max_size=5)):
        record = observe(
            record,
            subject_id=LEAD,
            subject_kind=SubjectKind.LEAD,
            jit=JIT,
            owner_team=OWNER,
            categories=draw(categories),
            at=at,
        )
    assert record is not None
    extended = draw(st.integers(min_value=0, max_value=3_650))
    return record.model_copy(update={"extended_days": extended})


def _erases(record: SubjectRecord, policies: Policies, now: datetime) -> bool:
    return any(isinstance(e, SubjectErased) for e in events_of(due(record, policies, now=now)))


@settings(max_examples=300)
@given(subjects(), policy_sets, st.integers(min_value=1, max_value=10**9))
def test_erasure_is_never_due_before_erase_after(
    record: SubjectRecord, policies: Policies, early_seconds: int
) -> None:
    """However policies and activity combine, nothing is erased a moment early."""
    deadline = erase_after(record, policies)
    assert not _erases(record, policies, deadline - timedelta(seconds=early_seconds))
    assert deadline > record.last_activity


@settings(max_examples=300)
@given(subjects(), policy_sets, st.integers(min_value=0, max_value=10**9))
def test_erasure_is_always_due_at_or_after_erase_after(
    record: SubjectRecord, policies: Policies, late_seconds: int
) -> None:
    """From erase_after on, the subject is erased, once, and no reminder comes with it."""
    now = erase_after(record, policies) + timedelta(seconds=late_seconds)
    sent = events_of(due(record, policies, now=now))
    assert [type(e) for e in sent] == [SubjectErased]
    assert due(record.model_copy(update={"erased": True}), policies, now=now) == []


@settings(max_examples=200)
@given(subjects(), policy_sets)
def test_erase_after_is_the_shortest_category_period(
    record: SubjectRecord, policies: Policies
) -> None:
    """erase_after = last activity + the shortest of the subject's periods + its extensions."""
    shortest = min(policies.period(JIT, OWNER, c)[0] for c in record.categories)
    assert erase_after(record, policies) == record.last_activity + timedelta(
        days=shortest + record.extended_days
    )
