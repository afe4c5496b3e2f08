"""The dashboard's charts, built from the indicators JSON the viewer's token gets from the API.

Each chart carries its own data table (shown beside it, for screen readers and for checking)
and its CSV; the chart, the table and the CSV are made from the same rows, so they can never
disagree. Nothing here reads the store: what the API withheld (another team, a small victim
cell) is simply not in the JSON.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None

SUPPRESSED = "< 5"
"""How a suppressed cell reads in a table and a CSV (see docs/indicators.md)."""


@dataclass
class Chart:
    """One chart: its series over ``labels``, and the table (``columns`` × ``rows``) behind it."""

    key: str
    title: str
    kind: str
    unit: str
    labels: list[str]
    series: list[tuple[str, list[Cell]]]
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def spec(self) -> dict[str, Any]:
        """What the browser's Chart.js needs (``null`` leaves a gap for a suppressed cell)."""
        return {
            "type": self.kind,
            "unit": self.unit,
            "labels": self.labels,
            "series": [
                {"name": name, "values": [v if isinstance(v, int | float) else None for v in vs]}
                for name, vs in self.series
            ],
        }

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()


def minutes(value: Any) -> float | None:
    return round(float(value) / 60, 1) if isinstance(value, int | float) else None


def hours(value: Any) -> float | None:
    return round(float(value) / 3600, 1) if isinstance(value, int | float) else None


def shown(value: Any, suppressed: bool = False) -> Cell:
    """A table cell: the number, or ``< 5`` for a suppressed cell."""
    if value is None and suppressed:
        return SUPPRESSED
    return value if isinstance(value, int | float | str) else None


def weekly(report: dict[str, Any]) -> Chart:
    weeks = report.get("weekly", [])
    names = ("alerts", "hits", "tasks", "referrals", "leads")
    hidden = {p for p in report.get("suppressed", []) if p.startswith("weekly.")}
    rows = [
        [w["week"], *(shown(w[n], f"weekly.{w['week']}.{n}" in hidden) for n in names)]
        for w in weeks
    ]
    return Chart(
        key="weekly",
        title="Trend per week: what opened",
        kind="line",
        unit="count",
        labels=[w["week"] for w in weeks],
        series=[(n, [w[n] for w in weeks]) for n in names],
        columns=["week", *names],
        rows=rows,
    )


def _stats_bars(key: str, title: str, by: dict[str, Any], label: str, scale: str) -> Chart:
    convert = minutes if scale == "minutes" else hours
    labels = list(by)
    p50 = [convert(by[k]["p50"]) for k in labels]
    p90 = [convert(by[k]["p90"]) for k in labels]
    return Chart(
        key=key,
        title=title,
        kind="bar",
        unit=scale,
        labels=labels,
        series=[("p50", list(p50)), ("p90", list(p90))],
        columns=[label, "n", f"p50 ({scale})", f"p90 ({scale})", f"max ({scale})"],
        rows=[
            [k, by[k]["n"], convert(by[k]["p50"]), convert(by[k]["p90"]), convert(by[k]["max"])]
            for k in labels
        ],
    )


def acknowledge_by_priority(report: dict[str, Any]) -> Chart:
    alerts = report["jit_aggregate"]["alerts"]
    return _stats_bars(
        "ack-priority",
        "Time to acknowledge an alert, by priority (JIT)",
        alerts["time_to_acknowledge_by_priority"],
        "priority",
        "minutes",
    )


def acknowledge_by_desk(report: dict[str, Any]) -> Chart:
    alerts = report["jit_aggregate"]["alerts"]
    return _stats_bars(
        "ack-desk",
        "Time to acknowledge an alert, by desk (JIT)",
        alerts["time_to_acknowledge_by_desk"],
        "desk",
        "minutes",
    )


def task_times(report: dict[str, Any]) -> Chart:
    tasks = report["jit_aggregate"]["tasks"]
    by = {"to accept": tasks["time_to_accept"], "to complete": tasks["time_to_complete"]}
    for row in tasks["legal_assistance"]:
        name = f"{row['instrument']} {row['requesting_team']} → {row['executing_team']}"
        by[name] = row["turnaround"]
    return _stats_bars(
        "task-times",
        "Tasks: time to accept and complete; MLA/EIO turnaround by requesting → executing team",
        by,
        "measure",
        "hours",
    )


def per_team(report: dict[str, Any]) -> Chart:
    """Breakdown per team (the teams this viewer may see) next to the JIT's aggregate."""
    scopes = [("JIT (all teams)", report["jit_aggregate"]), *sorted(report["teams"].items())]
    figures = (
        ("alerts raised", "alerts", "raised"),
        ("tasks requested", "tasks", "requested"),
        ("tasks completed", "tasks", "completed"),
        ("tasks overdue", "tasks", "overdue"),
        ("target hits", "deconfliction", "hits"),
        ("leads submitted", "leads", "submitted"),
    )

    def value(sections: dict[str, Any], section: str, name: str) -> Cell:
        found = sections[section][name]
        return shown(found["target"] if isinstance(found, dict) else found)

    return Chart(
        key="per-team",
        title="Breakdown per team",
        kind="bar",
        unit="count",
        labels=[name for name, _ in scopes],
        series=[(label, [value(s, sec, n) for _, s in scopes]) for label, sec, n in figures],
        columns=["scope", *(label for label, _, _ in figures)],
        rows=[[name, *(value(s, sec, n) for _, sec, n in figures)] for name, s in scopes],
        note="Your team and the JIT's aggregate; a coordinator sees every team.",
    )


def hits(report: dict[str, Any]) -> Chart:
    d = report["jit_aggregate"]["deconfliction"]
    kinds = ["target", "operation", "role"]
    return Chart(
        key="hits",
        title="Deconfliction hits by kind (JIT)",
        kind="bar",
        unit="count",
        labels=kinds,
        series=[("hits", [d["hits"][k] for k in kinds])],
        columns=["kind", "hits"],
        rows=[[k, d["hits"][k]] for k in kinds],
    )


def leads_by_grading(report: dict[str, Any]) -> Chart:
    grading = report["jit_aggregate"]["leads"]["by_grading"]
    return Chart(
        key="leads-grading",
        title="Leads by source grading (reliability × credibility, JIT)",
        kind="bar",
        unit="count",
        labels=list(grading),
        series=[("leads", list(grading.values()))],
        columns=["grading", "leads"],
        rows=[[k, v] for k, v in grading.items()],
    )


CHARTS = (
    weekly,
    per_team,
    acknowledge_by_priority,
    acknowledge_by_desk,
    task_times,
    hits,
    leads_by_grading,
)


def charts(report: dict[str, Any]) -> list[Chart]:
    """Every chart of the dashboard, in page order."""
    return [make(report) for make in CHARTS]


def chart(report: dict[str, Any], key: str) -> Chart | None:
    return next((c for c in charts(report) if c.key == key), None)
