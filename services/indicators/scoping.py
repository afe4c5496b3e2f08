"""What a viewer is shown of a JIT's indicators, by the disclosure policy's rule 5
(``services.kit.disclosure``: ``may_see_figures``, ``small_cell``, ``MIN_CELL``), for every
channel that shows them (the JSON API, the dashboard and its CSV files, the evaluation report,
which all read the API).

- A team sees its own indicators and the JIT's aggregate. The per-team breakdown of the other
  teams is shown only to a coordinator of the JIT (who writes the evaluation), and asking for
  another team's indicators without that role is refused.
- No channel shows a record behind a number: indicators are counts, shares and durations.
- Small cells are suppressed: a victim figure (referrals, consent, withdrawals, time to
  referral, role conflicts) counted over fewer than ``MIN_CELL`` items, outside the viewer's
  own team, is replaced by ``None`` and its path listed in ``suppressed``, so no victim can be
  singled out by a count of one or two. The weekly referral column follows the same rule.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from services.kit import disclosure
from services.kit.disclosure import MIN_CELL, small_cell

__all__ = ["MIN_CELL", "NotPermitted", "Viewer", "disclose", "may_view"]

SENSITIVE_SECTIONS = ("victims",)


class NotPermitted(Exception):
    """The viewer may not see the indicators asked for; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    team: str
    jits: frozenset[str]
    roles: frozenset[str]

    def coordinates(self) -> bool:
        return "coordinator" in self.roles


def may_view(viewer: Viewer, jit: str, team: str | None) -> None:
    """Refuse (``NotPermitted``) a viewer outside the JIT, or one asking for another team."""
    if jit not in viewer.jits:
        raise NotPermitted(f"team {viewer.team} is not a member of JIT {jit}")
    if team is not None and not disclosure.may_see_figures(
        disclosure.Viewer(team=viewer.team), team, coordinator=viewer.coordinates()
    ):
        raise NotPermitted(
            f"team {viewer.team} may see its own indicators and the JIT's, not {team}'s"
        )


def suppress_section(section: dict[str, Any], path: str, suppressed: list[str]) -> dict[str, Any]:
    """A victims section with every cell over 1–4 items replaced by None (paths listed)."""
    out: dict[str, Any] = {}
    for key, value in section.items():
        where = f"{path}.{key}"
        if isinstance(value, dict) and "n" in value and "p50" in value:
            if small_cell(value["n"]):
                out[key] = dict.fromkeys(value)
                suppressed.append(where)
            else:
                out[key] = value
        elif small_cell(value):
            out[key] = None
            suppressed.append(where)
        else:
            out[key] = value
    return out


def disclose(report: dict[str, Any], viewer: Viewer, *, team: str | None = None) -> dict[str, Any]:
    """The part of ``domain.indicators(...)`` that ``viewer`` may see, with small cells
    suppressed. ``team`` narrows the breakdown to one team (the viewer's own by default)."""
    may_view(viewer, str(report["jit"]), team)
    shown = copy.deepcopy(report)
    suppressed: list[str] = []
    asked = set(shown["teams"]) if team is None else {team}
    who = disclosure.Viewer(team=viewer.team)
    shown["teams"] = {
        t: v
        for t, v in shown["teams"].items()
        if t in asked and disclosure.may_see_figures(who, t, coordinator=viewer.coordinates())
    }
    for name in SENSITIVE_SECTIONS:
        aggregate = shown["jit_aggregate"]
        aggregate[name] = suppress_section(aggregate[name], f"jit_aggregate.{name}", suppressed)
        for t, sections in shown["teams"].items():
            if t != viewer.team:
                sections[name] = suppress_section(sections[name], f"teams.{t}.{name}", suppressed)
    for row in shown["weekly"]:
        if small_cell(row.get("referrals")):
            row["referrals"] = None
            suppressed.append(f"weekly.{row['week']}.referrals")
    shown["viewer_team"] = viewer.team
    shown["min_cell"] = MIN_CELL
    shown["suppressed"] = suppressed
    return shown
