"""Retention policies: the owning team's, else the JIT's, else the built-in default."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.directory import RetentionPolicySet, retention_record_key
from events.retention import DEFAULT_KEEP_DAYS, DEFAULT_REVIEW_DAYS, DataCategory
from services.retention.domain import Policies

from .builders import JIT, OTHER, OWNER, policy

LEADS = DataCategory.LEADS


def test_a_team_policy_overrides_the_jit_policy_for_that_team_only() -> None:
    """The owning team's period governs its subjects; other teams keep the JIT's."""
    policies = Policies([policy(LEADS, 400, review_days=20), policy(LEADS, 90, team=OWNER)])
    assert policies.period(JIT, OWNER, LEADS) == (90, 30)
    assert policies.period(JIT, OTHER, LEADS) == (400, 20)


def test_without_any_policy_the_built_in_default_applies() -> None:
    """No record for the JIT or the team: the documented default period and review."""
    policies = Policies([policy(LEADS, 400, jit="jit-other")])
    for category in DataCategory:
        assert policies.period(JIT, OWNER, category) == (
            DEFAULT_KEEP_DAYS[category],
            DEFAULT_REVIEW_DAYS,
        )
    assert DEFAULT_KEEP_DAYS[DataCategory.VICTIMS] == 180
    assert DEFAULT_KEEP_DAYS[DataCategory.OPERATIONS] == 365
    three_years = (LEADS, DataCategory.PERSONS, DataCategory.TASKS)
    assert {DEFAULT_KEEP_DAYS[c] for c in three_years} == {1095}


def test_a_policy_for_another_category_does_not_apply() -> None:
    """A victims policy leaves the persons category at its default."""
    policies = Policies([policy(DataCategory.VICTIMS, 30, team=OWNER)])
    assert policies.period(JIT, OWNER, DataCategory.PERSONS)[0] == 1095


def test_a_later_record_for_the_same_key_replaces_the_earlier() -> None:
    """Setting a policy again replaces it, as on the compacted directory topic."""
    first = Policies().with_record(policy(LEADS, 400, team=OWNER))
    second = first.with_record(policy(LEADS, 200, team=OWNER, review_days=5))
    assert len(second) == 1
    assert second.period(JIT, OWNER, LEADS) == (200, 5)
    assert first.period(JIT, OWNER, LEADS) == (400, 30), "with_record must not mutate"


def test_a_tombstone_falls_back_to_the_jit_policy() -> None:
    """Removing a team's record by its key lets the JIT-wide policy govern again."""
    team = policy(LEADS, 90, team=OWNER)
    policies = Policies([policy(LEADS, 400), team]).without(team.key)
    assert policies.period(JIT, OWNER, LEADS) == (400, 30)
    assert team.key not in policies


def test_policies_are_a_read_only_mapping_by_directory_key() -> None:
    """Policies is keyed like the directory topic and cannot be changed in place."""
    record = policy(LEADS, 90, team=OWNER)
    policies = Policies([record])
    assert policies[retention_record_key(JIT, OWNER, LEADS)] is record
    with pytest.raises(TypeError):
        policies[record.key] = record  # type: ignore[index]


def test_record_keys_name_the_jit_the_team_or_star_and_the_category() -> None:
    """One directory key per JIT, team (``*`` JIT-wide) and category."""
    assert retention_record_key("jit-1", None, "victims") == "retention:jit-1:*:victims"
    assert retention_record_key("jit-1", OWNER, LEADS) == "retention:jit-1:NL-KLPD:leads"
    assert policy(LEADS, 9).key == "retention:jit-ceres:*:leads"


@pytest.mark.parametrize(
    ("field", "value"),
    [("keep_days", 0), ("keep_days", 36_501), ("review_days", -1), ("review_days", 366)],
)
def test_periods_out_of_bounds_are_refused(field: str, value: int) -> None:
    """keep_days is 1..36 500 and review_days 0..365, reported at the field."""
    fields = {
        "jit_id": JIT,
        "team": None,
        "category": "leads",
        "keep_days": 10,
        "review_days": 0,
        "set_by": "m1",
    }
    with pytest.raises(ValidationError) as caught:
        RetentionPolicySet.model_validate({**fields, field: value})
    assert caught.value.errors()[0]["loc"] == (field,)
    assert RetentionPolicySet.model_validate(fields).team is None


def test_a_policy_must_say_whether_it_is_jit_wide() -> None:
    """``team`` is required (null for the JIT-wide policy) so a team policy is never widened."""
    with pytest.raises(ValidationError) as caught:
        RetentionPolicySet.model_validate(
            {"jit_id": JIT, "category": "leads", "keep_days": 10, "review_days": 0, "set_by": "m"}
        )
    assert caught.value.errors()[0]["loc"] == ("team",)
