"""Which rows each event becomes: coverage of the catalogue, scoping data, ordering (pure)."""

from __future__ import annotations

import json
import random
from datetime import date, datetime

from events.catalogue import CATALOGUE
from events.deconfliction import DeconflictionHit
from events.directory import DeskRegistered
from events.envelope import Event
from events.leads import EntityObserved, LeadClosed, LeadSubmitted
from services.projection.graph import (
    IGNORED,
    PROJECTED_TOPICS,
    STATEMENTS,
    activity,
    checkpoint_rows,
    identifier_rows,
    person_rows,
    plan,
)
from tests.unit.projection.builders import full_scenario


def test_every_event_type_on_a_projected_topic_is_written_or_deliberately_ignored() -> None:
    """A new event type on a projected topic fails here until the projection decides about it."""
    on_topics = {
        e.type
        for topic in PROJECTED_TOPICS
        for e in CATALOGUE.on_topic(topic)
        if issubclass(e.model, Event)
    }
    undecided = on_topics - set(STATEMENTS) - set(IGNORED)
    assert not undecided, f"decide how to project: {sorted(undecided)}"
    assert not set(STATEMENTS) & set(IGNORED)
    assert set(STATEMENTS) | set(IGNORED) <= on_topics


def test_the_scenario_holds_every_event_type_of_the_projected_topics() -> None:
    """The integration scenario exercises every projected (and every ignored) event type."""
    scenario = full_scenario(erasures=True)
    seen = {env.type for env in scenario.envelopes}
    assert set(STATEMENTS) <= seen
    assert set(IGNORED) <= seen


def test_every_projected_event_becomes_at_least_one_row() -> None:
    """No projected event of the scenario is silently dropped by its row functions."""
    for env in full_scenario(erasures=True).envelopes:
        if env.type in STATEMENTS:
            rows = [row for stmt in STATEMENTS[env.type] for row in stmt.rows(env)]
            assert rows, f"{env.type} wrote nothing"


def test_a_victims_identity_and_identifiers_are_scoped_to_the_originator() -> None:
    """A victim's identity_audience and her identifiers' audience are the originator alone."""
    scenario = full_scenario()
    a, b, _ = scenario.teams
    for env in scenario.envelopes:
        data = env.data
        if not isinstance(data, EntityObserved):
            continue
        assert env.audience == {a, b} or env.originator != a
        if data.person is not None and data.role is not None and data.role.value == "victim":
            (row,) = person_rows(env)
            assert row["audience"] == sorted(env.audience)
            assert row["identity_audience"] == [env.originator]
        if data.identifier is not None:
            (row,) = identifier_rows(env)
            victims = data.role is not None and data.role.value == "victim"
            assert row["audience"] == ([env.originator] if victims else sorted(env.audience))


def test_timeline_rows_carry_no_names_or_identifier_values() -> None:
    """Activity summaries are free of personal data: no person name, no identifier value."""
    scenario = full_scenario()
    secrets: set[str] = set()
    for env in scenario.envelopes:
        data = env.data
        if isinstance(data, LeadSubmitted):
            for p in data.persons:
                secrets |= {p.name, str(p.latin_name)}
            secrets |= {i.value for i in data.identifiers}
    text = json.dumps(
        [row for env in scenario.envelopes for row in activity(env)],
        default=str,
        ensure_ascii=False,
    )
    for secret in secrets:
        assert secret not in text


def test_a_desk_webhook_url_is_never_written() -> None:
    """The webhook URL of a desk may carry a token: no row holds it."""
    for env in full_scenario().envelopes:
        if isinstance(env.data, DeskRegistered):
            rows = [r for stmt in STATEMENTS[env.type] for r in stmt.rows(env)]
            assert "hooks.example.org" not in json.dumps(rows, default=str)


def test_rows_hold_no_time_but_the_events_own() -> None:
    """Every time written comes from the event, so a replay writes the same values."""
    scenario = full_scenario()
    allowed: set[datetime | date] = set()
    for env in scenario.envelopes:
        allowed.add(env.time)
        allowed |= {v for v in env.data.__dict__.values() if isinstance(v, datetime | date)}
    times = []
    for cypher, rows in plan(scenario.envelopes):
        del cypher
        for row in rows:
            times += [v for v in row.values() if isinstance(v, datetime)]
    assert times
    assert max(times) <= max(env.time for env in scenario.envelopes)


def test_gated_rows_are_ordered_by_node_then_version_whatever_the_arrival_order() -> None:
    """A lead's events shuffled across a batch are written oldest first per lead."""
    scenario = full_scenario()
    lead_events = [e for e in scenario.envelopes if isinstance(e.data, LeadSubmitted | LeadClosed)]
    shuffled = lead_events[:]
    random.Random(7).shuffle(shuffled)
    for envs in (lead_events, shuffled):
        groups = dict(plan(envs))
        (lead_rows,) = [rows for cypher, rows in groups.items() if "MERGE (n:Lead" in cypher]
        keys = [(r["id"], r["version"], r["time"]) for r in lead_rows]
        assert keys == sorted(keys)


def test_a_hit_is_ordered_by_time_because_several_aggregates_tell_it() -> None:
    """DeconflictionHit rows ignore aggregate_version (token and person aggregates differ)."""
    scenario = full_scenario()
    hit = next(e for e in scenario.envelopes if isinstance(e.data, DeconflictionHit))
    bumped = hit.model_copy(update={"aggregate_version": 99})
    (row,) = STATEMENTS[hit.type][0].rows(bumped)
    assert row["version"] == 0


def test_checkpoints_keep_the_newest_offset_and_time_per_partition() -> None:
    """One checkpoint row per partition, with the largest offset and record time of the batch."""
    rows = checkpoint_rows(
        "g", [("t", 0, 5, 100), ("t", 0, 7, 90), ("t", 1, 2, 50), ("u", 0, 1, 10)]
    )
    assert rows == [
        {"id": "g|t|0", "group": "g", "topic": "t", "partition": 0, "offset": 7, "record_ms": 100},
        {"id": "g|t|1", "group": "g", "topic": "t", "partition": 1, "offset": 2, "record_ms": 50},
        {"id": "g|u|0", "group": "g", "topic": "u", "partition": 0, "offset": 1, "record_ms": 10},
    ]


def test_plan_groups_a_batch_into_one_unwind_per_statement() -> None:
    """However many events, each statement runs once per batch."""
    scenario = full_scenario()
    groups = plan(scenario.envelopes)
    cyphers = [cypher for cypher, _ in groups]
    assert len(cyphers) == len(set(cyphers))
    assert sum(len(rows) for _, rows in groups) > len(groups)
