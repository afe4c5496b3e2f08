"""Which desks an alert pages: the JIT directory as the alerts service sees it, and desk rules.

Pure: :func:`jit_view` reads what the alerts domain needs of one JIT from the kit's directory
book (``services/kit/directory.py``, the one directory read model); the wiring keeps
:class:`DeskRule` values in a table; nothing here reads Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from events.alerts import AlertRouted, Category, EscalationTimes, RouteBasis, Severity
from events.directory import DeskRegistered, JitRegistered
from events.envelope import ID_PATTERN, TEAM_PATTERN

SAFETY_CATEGORIES = frozenset({Category.OFFICER_SAFETY, Category.VICTIM_AT_RISK})


class Desk(BaseModel):
    """A team's rapid-response desk and the team lead its alerts escalate to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str = Field(pattern=TEAM_PATTERN)
    desk_id: str = Field(pattern=ID_PATTERN)
    team_lead: str | None = Field(default=None, pattern=ID_PATTERN)


class DirectoryView(BaseModel):
    """What the alerts service needs to know of one JIT: its teams, desks and coordinator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jit: str = Field(pattern=ID_PATTERN)
    coordinator_team: str = Field(pattern=TEAM_PATTERN)
    member_teams: frozenset[str]
    desks: dict[str, Desk] = Field(default_factory=dict, description="Team → its desk.")

    def desk_of(self, team: str) -> Desk | None:
        """The team's desk, or None when the team has registered none."""
        return self.desks.get(team)

    @property
    def coordinator_desk(self) -> Desk | None:
        return self.desk_of(self.coordinator_team)


class Book(Protocol):
    """The directory as the alerts service asks it (the kit's ``DirectoryBook`` is one)."""

    @property
    def jits(self) -> Mapping[str, JitRegistered]: ...

    @property
    def desks(self) -> Mapping[str, DeskRegistered]: ...


def desk_id(team: str) -> str:
    """A desk's id: its directory record id (one desk per team)."""
    return f"desk:{team}"


def jit_view(book: Book, jit: str) -> DirectoryView | None:
    """What the alerts domain needs of ``jit``, or None for a JIT the directory lacks."""
    record = book.jits.get(jit)
    if record is None:
        return None
    desks = {
        team: Desk(team=team, desk_id=desk_id(team), team_lead=desk.team_lead)
        for team in record.member_teams
        if (desk := book.desks.get(team)) is not None
    }
    return DirectoryView(
        jit=record.jit_id,
        coordinator_team=record.coordinator_team,
        member_teams=frozenset(record.member_teams),
        desks=desks,
    )


def on_call(book: Book, team: str) -> tuple[str, ...]:
    """The addresses an e-mail page to the team's desk goes to: its on-call list, else the
    desk's own address; none when the team has no desk."""
    desk = book.desks.get(team)
    if desk is None:
        return ()
    return tuple(desk.on_call) or (desk.email,)


def knows(book: Book, jit: str, teams: Iterable[str] = ()) -> bool:
    """Whether the book has the JIT, and a desk for each of ``teams`` that is a member."""
    record = book.jits.get(jit)
    if record is None:
        return False
    members = set(record.member_teams)
    return all(t in book.desks for t in teams if t in members)


def webhook_url(book: Book, team: str) -> str | None:
    """The team desk's webhook URL, or None when it has none."""
    desk = book.desks.get(team)
    return str(desk.webhook_url) if desk is not None and desk.webhook_url else None


class DeskRule(BaseModel):
    """What a team's desk wants in one JIT (state of the rule table): which alerts page it
    (``categories`` and ``min_severity``, None until the desk sets them: everything pages it),
    and the escalation times the JIT coordinator set for it (None: the JIT's or the service's).

    The rule of ``team`` ``*`` (:data:`~events.alerts.JIT_WIDE`) holds the JIT's escalation
    times for every desk without its own.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=rf"^(?:{TEAM_PATTERN[1:-1]}|\*)$")
    categories: tuple[Category, ...] | None = Field(default=None, min_length=1)
    min_severity: Severity | None = None
    escalation: EscalationTimes | None = None
    set_by: str
    version: int = Field(default=1, ge=1)

    @property
    def filters(self) -> bool:
        """Whether the desk set which alerts page it."""
        return self.categories is not None and self.min_severity is not None

    def admits(self, severity: Severity, category: Category) -> bool:
        """Whether the rule lets an alert of this severity and category through."""
        if self.categories is None or self.min_severity is None:
            return True
        return category in self.categories and severity.at_least(self.min_severity)


def desk_rule_subject(jit: str, team: str) -> str:
    """The aggregate id of a desk rule: one rule per team per JIT."""
    return f"{jit}/{team}"


def is_safety_critical(severity: Severity, category: Category) -> bool:
    """A P1 alert about an officer's or a victim's safety."""
    return severity is Severity.P1 and category in SAFETY_CATEGORIES


def route(
    *,
    alert_id: str,
    severity: Severity,
    category: Category,
    target_teams: Iterable[str],
    rules: Mapping[str, DeskRule],
    directory: DirectoryView,
) -> list[AlertRouted]:
    """The desks that get the alert, one ``AlertRouted`` per paged target team.

    A desk without a rule gets everything; a desk with a rule gets what the rule admits. A P1
    officer-safety or victim-at-risk alert reaches every target desk whatever its rule: safety
    over noise, because a desk that filtered its categories months ago must not miss that an
    officer is about to walk into another team's operation or that a victim is in danger now.
    A target team with no registered desk gets no route (there is nobody to page); the alert
    still escalates to the coordinator's desk if it is safety-critical.
    """
    critical = is_safety_critical(severity, category)
    routed: list[AlertRouted] = []
    for team in sorted(set(target_teams)):
        desk = directory.desk_of(team)
        if desk is None:
            continue
        rule = rules.get(team)
        if rule is None or rule.jit != directory.jit or not rule.filters:
            basis = RouteBasis.DEFAULT
        elif rule.admits(severity, category):
            basis = RouteBasis.RULE
        elif critical:
            basis = RouteBasis.SAFETY
        else:
            continue
        routed.append(
            AlertRouted(
                alert_id=alert_id,
                team=team,
                desk=desk.desk_id,
                basis=basis,
                team_lead=desk.team_lead,
            )
        )
    return routed
