"""Facts → indicators: every indicator of ``docs/indicators.md``, computed by pure functions.

``measure(facts, start=, end=, team=)`` reads the facts of one JIT (see ``facts.py``) and
answers the indicators of the items *opened* in ``[start, end)`` — an alert raised, a hit
detected, a task requested, a lead submitted — whatever the time their closing step came
(an acknowledgement after ``end`` still gives the alert its time to acknowledge: the answer is
"as of now"). With ``team``, only the items that team is a party to count.

Durations are in seconds; a distribution is ``{n, p50, p90, max}`` with nearest-rank
percentiles (the p-th percentile of n sorted values is the ⌈p·n/100⌉-th), so every figure is a
value that was actually measured. Nothing here imports Kafka, Neo4j, FastAPI or faust.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.indicators.facts import Fact

Stats = dict[str, float | int | None]
Report = dict[str, Any]

PRIORITIES = ("P1", "P2", "P3", "P4")


def parse(value: Any) -> datetime:
    found = datetime.fromisoformat(str(value))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def nearest_rank(values: Sequence[float], p: float) -> float:
    """The p-th percentile by nearest rank: the ⌈p·n/100⌉-th smallest value."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def stats(values: Sequence[float]) -> Stats:
    """``{n, p50, p90, max}`` of durations in seconds; the figures are None when n is 0."""
    if not values:
        return {"n": 0, "p50": None, "p90": None, "max": None}
    return {
        "n": len(values),
        "p50": round(nearest_rank(values, 50), 3),
        "p90": round(nearest_rank(values, 90), 3),
        "max": round(max(values), 3),
    }


def listed(fact: Fact, key: str) -> list[str]:
    """A list field of a fact (empty when absent)."""
    value = fact.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def week_of(at: datetime) -> str:
    """The ISO week of a time, ``2026-W49``."""
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Item:
    """One thing an indicator counts (an alert, a hit, a task …) and the facts about it."""

    ref: str
    opened: Fact | None = None
    steps: list[Fact] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        assert self.opened is not None
        return parse(self.opened["at"])

    def teams(self) -> set[str]:
        assert self.opened is not None
        found = self.opened.get("teams")
        if isinstance(found, list):
            return set(found)
        team = self.opened.get("team")
        return {team} if isinstance(team, str) else set()

    def first(self, kind: str, **match: Any) -> Fact | None:
        """The earliest step of ``kind`` (matching ``match``), by time."""
        found = [
            s
            for s in self.steps
            if s["kind"] == kind and all(s.get(k) == v for k, v in match.items())
        ]
        return min(found, key=lambda s: str(s["at"])) if found else None

    def has(self, kind: str) -> bool:
        return any(s["kind"] == kind for s in self.steps)


class Ledger:
    """The facts of one JIT, grouped into items by what they are about."""

    OPENING = {
        "alert.raised": "alerts",
        "hit.detected": "hits",
        "role_conflict.detected": "role_conflicts",
        "op_conflict.detected": "op_conflicts",
        "task.requested": "tasks",
        "lead.submitted": "leads",
        "operation.planned": "operations",
    }
    STEPS = {
        "alert.routed": "alerts",
        "alert.acknowledged": "alerts",
        "alert.escalated": "alerts",
        "alert.repaged": "alerts",
        "alert.resolved": "alerts",
        "hit.released": "hits",
        "hit.declined": "hits",
        "op_conflict.handled": "op_conflicts",
        "task.accepted": "tasks",
        "task.declined": "tasks",
        "task.completed": "tasks",
        "task.cancelled": "tasks",
        "task.consent": "tasks",
        "task.overdue": "tasks",
        "lead.triaged": "leads",
        "lead.actioned": "leads",
    }

    def __init__(self, facts: Iterable[Fact]) -> None:
        self.items: dict[str, dict[str, Item]] = defaultdict(dict)
        self.singles: dict[str, list[Fact]] = defaultdict(list)
        seen: set[Any] = set()
        for fact in sorted(facts, key=lambda f: (str(f["at"]), str(f["id"]))):
            if fact["id"] in seen:
                continue
            seen.add(fact["id"])
            kind = str(fact["kind"])
            ref = str(fact["ref"])
            if kind in self.OPENING:
                item = self.items[self.OPENING[kind]].setdefault(ref, Item(ref))
                if item.opened is None:
                    item.opened = fact
            elif kind in self.STEPS:
                self.items[self.STEPS[kind]].setdefault(ref, Item(ref)).steps.append(fact)
            else:
                self.singles[kind].append(fact)

    def opened(self, group: str, start: datetime, end: datetime, team: str | None) -> list[Item]:
        """Items of ``group`` opened in ``[start, end)`` (that ``team`` is a party to)."""
        return [
            item
            for item in self.items[group].values()
            if item.opened is not None
            and start <= item.at < end
            and (team is None or team in item.teams())
        ]

    def facts(self, kind: str, start: datetime, end: datetime, team: str | None) -> list[Fact]:
        return [
            f
            for f in self.singles[kind]
            if start <= parse(f["at"]) < end and (team is None or f.get("team") == team)
        ]


def alerts(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    raised = ledger.opened("alerts", start, end, team)
    by_priority: dict[str, list[float]] = defaultdict(list)
    by_desk: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    never = escalated = escalations = repages = 0
    for alert in raised:
        assert alert.opened is not None
        ack = alert.first("alert.acknowledged")
        if ack is None:
            if alert.opened.get("expects_ack"):
                never += 1
        else:
            waited = seconds(parse(ack["at"]), alert.at)
            every.append(waited)
            by_priority[str(alert.opened["severity"])].append(waited)
            routed = alert.first("alert.routed", team=ack["team"])
            desk = str(routed["desk"]) if routed else str(ack["team"])
            by_desk[desk].append(waited)
        steps = [s for s in alert.steps if s["kind"] == "alert.escalated"]
        escalations += len(steps)
        escalated += 1 if steps else 0
        repages += sum(1 for s in alert.steps if s["kind"] == "alert.repaged")
    return {
        "raised": len(raised),
        "by_priority": {
            p: sum(1 for a in raised if a.opened and a.opened["severity"] == p) for p in PRIORITIES
        },
        "acknowledged": len(every),
        "never_acknowledged": never,
        "escalated": escalated,
        "escalations": escalations,
        "repages": repages,
        "time_to_acknowledge": stats(every),
        "time_to_acknowledge_by_priority": {p: stats(by_priority[p]) for p in PRIORITIES},
        "time_to_acknowledge_by_desk": {d: stats(v) for d, v in sorted(by_desk.items())},
    }


def deconfliction(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    hits = ledger.opened("hits", start, end, team)
    roles = ledger.opened("role_conflicts", start, end, team)
    conflicts = ledger.opened("op_conflicts", start, end, team)
    by_match: dict[str, int] = defaultdict(int)
    first: list[float] = []
    both: list[float] = []
    released = declined = 0
    for hit in hits:
        assert hit.opened is not None
        by_match[str(hit.opened["match"])] += 1
        decisions: dict[str, Fact] = {}
        for step in sorted(hit.steps, key=lambda s: str(s["at"])):
            decisions.setdefault(str(step["team"]), step)
        released += sum(1 for d in decisions.values() if d["kind"] == "hit.released")
        declined += sum(1 for d in decisions.values() if d["kind"] == "hit.declined")
        times = sorted(parse(d["at"]) for d in decisions.values())
        if times:
            first.append(seconds(times[0], hit.at))
        if hit.teams() <= set(decisions) and times:
            both.append(seconds(times[-1], hit.at))
    handled = []
    for conflict in conflicts:
        done = conflict.first("op_conflict.handled")
        if done is not None:
            handled.append(seconds(parse(done["at"]), conflict.at))
    decided = released + declined
    return {
        "hits": {"target": len(hits), "operation": len(conflicts), "role": len(roles)},
        "target_hits_by_match": dict(sorted(by_match.items())),
        "time_to_first_decision": stats(first),
        "time_to_both_decisions": stats(both),
        "decisions": {
            "released": released,
            "declined": declined,
            "released_share": share(released, decided),
            "declined_share": share(declined, decided),
        },
        "officer_safety": {
            "conflicts": len(conflicts),
            "handled": len(handled),
            "time_to_handled": stats(handled),
        },
    }


def tasks(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    requested = [
        t
        for t in ledger.opened("tasks", start, end, team)
        if t.opened and t.opened["task_kind"] != "victim_referral"
    ]
    to_accept: list[float] = []
    to_complete: list[float] = []
    counts = {"accepted": 0, "declined": 0, "completed": 0, "cancelled": 0, "overdue": 0}
    by_kind: dict[str, int] = defaultdict(int)
    legal: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for task in requested:
        assert task.opened is not None
        by_kind[str(task.opened["task_kind"])] += 1
        for step in ("accepted", "declined", "completed", "cancelled", "overdue"):
            counts[step] += 1 if task.has(f"task.{step}") else 0
        accepted = task.first("task.accepted")
        if accepted is not None:
            to_accept.append(seconds(parse(accepted["at"]), task.at))
        completed = task.first("task.completed")
        if completed is not None:
            to_complete.append(seconds(parse(completed["at"]), task.at))
        if task.opened["task_kind"] == "legal_assistance":
            key = (
                str(task.opened["team"]),
                str(task.opened["other"]),
                str(task.opened.get("instrument") or "MLA"),
            )
            legal[key].append(task)
    turnaround = []
    for (requesting, executing, tool), items in sorted(legal.items()):
        done = [
            seconds(parse(c["at"]), t.at)
            for t in items
            if (c := t.first("task.completed")) is not None
        ]
        turnaround.append(
            {
                "requesting_team": requesting,
                "executing_team": executing,
                "instrument": tool,
                "requested": len(items),
                "completed": len(done),
                "turnaround": stats(done),
            }
        )
    return {
        "requested": len(requested),
        **counts,
        "by_kind": dict(sorted(by_kind.items())),
        "time_to_accept": stats(to_accept),
        "time_to_complete": stats(to_complete),
        "overdue_rate": share(counts["overdue"], len(requested)),
        "legal_assistance": turnaround,
    }


def victims(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    referrals = [
        t
        for t in ledger.opened("tasks", start, end, team)
        if t.opened and t.opened["task_kind"] == "victim_referral"
    ]
    leads = ledger.items["leads"]
    with_consent = withdrawn = 0
    to_referral: list[float] = []
    for referral in referrals:
        assert referral.opened is not None
        decisions = [referral.opened.get("consent")] + [
            s["consent"] for s in referral.steps if s["kind"] == "task.consent"
        ]
        with_consent += 1 if "given" in decisions else 0
        withdrawn += 1 if "withdrawn" in decisions else 0
        linked = listed(referral.opened, "leads")
        received = [
            parse(lead.opened["received"])
            for ref in linked
            if isinstance(ref, str)
            and (lead := leads.get(ref)) is not None
            and lead.opened is not None
        ]
        if received:
            to_referral.append(seconds(referral.at, min(received)))
    conflicts = ledger.opened("role_conflicts", start, end, team)
    resolved_alerts = {
        conflict
        for alert in ledger.items["alerts"].values()
        if alert.opened is not None and alert.has("alert.resolved")
        for conflict in listed(alert.opened, "conflicts")
    }
    return {
        "referrals": len(referrals),
        "with_consent": with_consent,
        "withdrawn": withdrawn,
        "time_to_referral": stats(to_referral),
        "role_conflicts_raised": len(conflicts),
        "role_conflicts_resolved": sum(1 for c in conflicts if c.ref in resolved_alerts),
    }


def leads(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    submitted = ledger.opened("leads", start, end, team)
    registrations = {
        str(f["ref"]): str(f["lead"]) for f in ledger.singles["registration"] if f.get("lead")
    }
    hit_leads = {
        registrations[r]
        for hit in ledger.items["hits"].values()
        if hit.opened is not None
        for r in listed(hit.opened, "registrations")
        if r in registrations
    }
    task_leads = {
        lead
        for task in ledger.items["tasks"].values()
        if task.opened is not None
        for lead in listed(task.opened, "leads")
    }
    by_grading: dict[str, int] = defaultdict(int)
    by_source: dict[str, int] = defaultdict(int)
    to_triage: list[float] = []
    hit = task = operation = 0
    for lead in submitted:
        assert lead.opened is not None
        by_grading[str(lead.opened["grading"])] += 1
        by_source[str(lead.opened["source"])] += 1
        triaged = lead.first("lead.triaged")
        if triaged is not None:
            to_triage.append(seconds(parse(triaged["at"]), lead.at))
        hit += 1 if lead.ref in hit_leads else 0
        task += 1 if lead.ref in task_leads or lead.first("lead.actioned", link_kind="task") else 0
        operation += 1 if lead.first("lead.actioned", link_kind="operation") else 0
    return {
        "submitted": len(submitted),
        "by_grading": dict(sorted(by_grading.items())),
        "by_source": dict(sorted(by_source.items())),
        "time_to_triage": stats(to_triage),
        "led_to_hit": hit,
        "led_to_task": task,
        "led_to_operation": operation,
    }


def data_protection(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> Report:
    consultations = ledger.facts("consultation", start, end, team)
    erasures = ledger.facts("retention.erased", start, end, team)
    deadlines: dict[str, datetime] = {}
    for kind in ("retention.review", "retention.extended"):
        for f in ledger.singles[kind]:
            deadlines[str(f["ref"])] = max(
                parse(f["erase_after"]), deadlines.get(str(f["ref"]), parse(f["erase_after"]))
            )
    on_time = late = on_request = 0
    for erasure in erasures:
        if erasure.get("cause") == "request":
            on_request += 1
            continue
        deadline = deadlines.get(str(erasure["ref"]))
        if deadline is None or parse(erasure["at"]) <= deadline:
            on_time += 1
        else:
            late += 1
    return {
        "consultations": len(consultations),
        "with_justification": sum(1 for c in consultations if c.get("justified")),
        "erasures": len(erasures),
        "erasures_on_time": on_time,
        "erasures_late": late,
        "erasures_on_request": on_request,
        "retention_reviews": len(ledger.facts("retention.review", start, end, team)),
        "retention_extensions": len(ledger.facts("retention.extended", start, end, None)),
    }


def composition(ledger: Ledger, start: datetime, end: datetime) -> Report:
    """Which teams took part (opened anything) in the period."""
    teams: set[str] = set()
    for group in ledger.items.values():
        for item in group.values():
            if item.opened is not None and start <= item.at < end:
                teams |= item.teams()
    operations = ledger.opened("operations", start, end, None)
    by_kind: dict[str, int] = defaultdict(int)
    for op in operations:
        assert op.opened is not None
        by_kind[str(op.opened["operation"])] += 1
    return {
        "teams": sorted(teams),
        "operations_planned": len(operations),
        "operations_by_kind": dict(sorted(by_kind.items())),
    }


def weekly(ledger: Ledger, start: datetime, end: datetime, team: str | None) -> list[Report]:
    """Per ISO week of the period: how many alerts, hits, tasks, referrals and leads opened."""
    columns = ("alerts", "hits", "tasks", "referrals", "leads")
    rows: dict[str, dict[str, int]] = {}
    week = start - timedelta(days=start.weekday())
    while week < end:
        rows[week_of(week)] = dict.fromkeys(columns, 0)
        week += timedelta(days=7)
    for group in ("alerts", "hits", "leads", "tasks"):
        for item in ledger.opened(group, start, end, team):
            assert item.opened is not None
            column = group
            if group == "tasks" and item.opened["task_kind"] == "victim_referral":
                column = "referrals"
            rows.setdefault(week_of(item.at), dict.fromkeys(columns, 0))[column] += 1
    return [{"week": w, **counts} for w, counts in sorted(rows.items())]


SECTIONS = {
    "alerts": alerts,
    "deconfliction": deconfliction,
    "tasks": tasks,
    "victims": victims,
    "leads": leads,
    "data_protection": data_protection,
}


def measure(
    facts: Iterable[Fact], *, start: datetime, end: datetime, team: str | None = None
) -> Report:
    """Every indicator of the items opened in ``[start, end)`` (that ``team`` is a party to)."""
    ledger = Ledger(facts)
    return {name: section(ledger, start, end, team) for name, section in SECTIONS.items()}


def teams_in(facts: Iterable[Fact]) -> list[str]:
    """Every team a fact names."""
    found: set[str] = set()
    for fact in facts:
        for key in ("team", "other"):
            value = fact.get(key)
            if isinstance(value, str):
                found.add(value)
        listed = fact.get("teams")
        if isinstance(listed, list):
            found |= set(listed)
    return sorted(found)


def indicators(facts: Sequence[Fact], *, jit: str, start: datetime, end: datetime) -> Report:
    """The JIT's indicators for a period: the aggregate, each team's, weeks and composition.

    This is everything; what a viewer is shown of it is decided by ``scoping.disclose``.
    """
    ledger = Ledger(facts)
    teams = teams_in(facts)
    return {
        "jit": jit,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "composition": composition(ledger, start, end),
        "jit_aggregate": {n: s(ledger, start, end, None) for n, s in SECTIONS.items()},
        "teams": {t: {n: s(ledger, start, end, t) for n, s in SECTIONS.items()} for t in teams},
        "weekly": weekly(ledger, start, end, None),
    }
