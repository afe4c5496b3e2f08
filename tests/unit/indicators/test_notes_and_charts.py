"""The evaluation notes aggregate (coordinators only, a rewrite is a new version) and the
dashboard's charts (table, chart and CSV from the same rows; suppressed cells read ``< 5``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.envelope import Actor
from events.evaluation import EvaluationSection, WriteEvaluationNote
from events.outcomes import Rejected
from services.indicators import notes
from services.indicators.domain import indicators
from services.indicators.facts import fact_of
from services.indicators.scoping import Viewer, disclose
from services.web.charts import SUPPRESSED, chart, charts, weekly
from tests.support.indicators_script import NL, PERIOD, scripted_jit

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def write(*roles: str, text: str = "Desks answered within minutes.") -> WriteEvaluationNote:
    return WriteEvaluationNote(
        actor=Actor(member="anna", team=NL, roles=roles),
        jit="jit-a",
        section=EvaluationSection.COOPERATION,
        period_from=date(2026, 11, 1),
        period_to=date(2026, 11, 30),
        text=text,
    )


def test_a_coordinator_writes_and_rewrites_a_note() -> None:
    """The first text is version 1; writing again is version 2 of the same note."""
    [first] = notes.decide(None, write("coordinator"), now=NOW)
    state = notes.evolve(None, first)  # type: ignore[arg-type]
    [second] = notes.decide(state, write("coordinator", text="Better."), now=NOW)
    assert (first.version, second.version) == (1, 2)  # type: ignore[union-attr]
    assert second.text == "Better." and second.by == "anna"  # type: ignore[union-attr]


def test_only_a_coordinator_writes_the_assessment() -> None:
    """An investigator's note is refused with 403."""
    with pytest.raises(Rejected) as refused:
        notes.decide(None, write("investigator"), now=NOW)
    assert refused.value.status == 403


def test_a_reversed_period_is_invalid() -> None:
    """period_to before period_from is refused by the command model."""
    with pytest.raises(ValueError, match="period_to is before period_from"):
        WriteEvaluationNote(
            actor=Actor(member="anna", team=NL, roles=("coordinator",)),
            jit="jit-a",
            section=EvaluationSection.LESSONS,
            period_from=date(2026, 11, 30),
            period_to=date(2026, 11, 1),
            text="x",
        )


@pytest.fixture(scope="module")
def shown() -> dict:
    facts = [f for env in scripted_jit("jit-a") if (f := fact_of(env)) is not None]
    report = indicators(facts, jit="jit-a", start=PERIOD[0], end=PERIOD[1])
    return disclose(report, Viewer(team=NL, jits=frozenset({"jit-a"}), roles=frozenset()))


def test_every_chart_has_a_table_and_a_csv_of_the_same_rows(shown: dict) -> None:
    """The CSV is the table: a header of the columns, then one line per row."""
    for c in charts(shown):
        lines = c.csv().strip().split("\n")
        assert lines[0] == ",".join(c.columns)
        assert len(lines) == len(c.rows) + 1
        assert len(c.spec()["labels"]) == len(c.rows)


def test_acknowledgement_bars_are_in_minutes(shown: dict) -> None:
    """P1's 60 s / 180 s p50 / p90 read 1.0 / 3.0 minutes in the chart, the table and the CSV."""
    ack = chart(shown, "ack-priority")
    assert ack is not None
    assert ack.rows[0] == ["P1", 3, 1.0, 3.0, 3.0]
    assert "P1,3,1.0,3.0,3.0" in ack.csv()
    assert ack.spec()["series"][0] == {"name": "p50", "values": [1.0, 10.0, None, None]}


def test_the_breakdown_shows_only_what_the_viewer_may_see(shown: dict) -> None:
    """An NL investigator's per-team chart has the JIT's aggregate and NL, nobody else."""
    per_team = chart(shown, "per-team")
    assert per_team is not None
    assert per_team.labels == ["JIT (all teams)", NL]


def test_a_suppressed_weekly_cell_reads_as_under_five() -> None:
    """A weekly referral count withheld by the rule is ``< 5`` in the table and empty in CSV."""
    report = {
        "weekly": [
            {"week": "2026-W45", "alerts": 1, "hits": 0, "tasks": 0, "referrals": None, "leads": 0}
        ],
        "suppressed": ["weekly.2026-W45.referrals"],
    }
    table = weekly(report)
    assert table.rows[0][4] == SUPPRESSED
    assert table.spec()["series"][3]["values"] == [None]
