"""The alert lifecycle, pure: raise → route → acknowledge or escalate → resolve, de-duplicated.

Three kinds of state, each a frozen, JSON-serialisable pydantic model kept in a table:

- :class:`AlertState`, keyed by alert id: one alert's lifecycle and its escalation timer.
- :class:`DedupEntry`, keyed by :func:`dedup_subject` of (JIT, dedup key): which unresolved
  alert a repeat of a condition folds into, and when the condition was last seen.
- :class:`~services.alerts.routing.DeskRule`, keyed by
  :func:`~services.alerts.routing.desk_rule_subject`: what a desk wants to be paged for.

One writer per key
------------------
Deciding a ``RaiseAlert`` with a dedup key reads the dedup entry and may write a *different*
alert's state (the open alert the repeat folds into). Both writes must come from the one writer
that owns the dedup entry, so the wiring must consume alert commands partitioned by something
common to an alert, its dedup entry and its desk rules: the JIT (the envelope's ``jit``, which
every command carries). Within a JIT's partition the tables stay keyed by alert id, dedup subject
and rule subject. Acknowledge and resolve commands then land in the same partition as the raise,
so nothing races. The price: one JIT's alerts go through one partition, one worker. Alerts page
people, so a real JIT stays far below that limit; more JITs spread over more partitions.

Alternatives rejected: an alert id derived from (JIT, dedup key, time bucket) splits one
condition into two alerts at every bucket edge; a separate dedup stage keyed by dedup key needs
the resolution of an alert fed back to it, and a repeat in flight while the alert is resolved
is then lost or double-paged.

Time is passed in; deadlines live in the state, so :func:`due`, called from a periodic timer,
escalates correctly after a restart.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from events.alerts import (
    JIT_WIDE,
    AcknowledgeAlert,
    AlertAcknowledged,
    AlertDeduplicated,
    AlertDelivered,
    AlertEscalated,
    AlertLink,
    AlertRaised,
    AlertResolved,
    AlertRouted,
    Category,
    DeskEscalationSet,
    DeskRuleSet,
    EscalationTarget,
    EscalationTimes,
    RaiseAlert,
    ResolveAlert,
    RouteBasis,
    SetDeskEscalation,
    SetDeskRule,
    Severity,
    WebhookDeliveryFailed,
)
from events.directory import Role
from events.envelope import Actor, Addressed, Event
from events.handling import Handling
from events.outcomes import FieldError, Rejected
from services.alerts.routing import (
    DeskRule,
    DirectoryView,
    desk_rule_subject,
    is_safety_critical,
    route,
)

AlertCommand = RaiseAlert | AcknowledgeAlert | ResolveAlert
"""The commands on an alert; ``SetDeskRule`` goes to :func:`decide_rule`."""

ACKNOWLEDGING_ROLES = frozenset({Role.DESK_OFFICER, Role.TEAM_LEAD, Role.COORDINATOR})
RULE_SETTING_ROLES = frozenset({Role.DESK_OFFICER, Role.TEAM_LEAD, Role.COORDINATOR, Role.ADMIN})
RAISING_ROLES = frozenset(Role) - {Role.AUDITOR}
"""Everyone but an auditor may raise: auditors look, they do not act."""

FOLDED_IDS_KEPT = 32
"""How many folded raise ids a dedup entry remembers to make a retried raise count once."""

DESK_STEP, TEAM_LEAD_STEP, COORDINATOR_STEP = 0, 1, 2


@dataclass(frozen=True)
class EscalationPolicy:
    """The service's timing settings: acknowledgement deadline per severity, and the
    de-duplication window. P4 has no deadline: it never escalates, whatever the settings."""

    p1: timedelta = timedelta(minutes=5)
    p2: timedelta = timedelta(minutes=15)
    p3: timedelta = timedelta(hours=1)
    dedup_window: timedelta = timedelta(minutes=10)
    repage: timedelta = timedelta(minutes=5)
    """How often the last step of the chain is paged again while nobody acknowledges."""

    def __post_init__(self) -> None:
        for name in ("p1", "p2", "p3", "dedup_window", "repage"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")

    def with_times(self, times: EscalationTimes | None) -> EscalationPolicy:
        """This policy with a coordinator's times for one alert (the dedup window stays)."""
        if times is None:
            return self
        return replace(
            self,
            p1=timedelta(seconds=times.p1_seconds),
            p2=timedelta(seconds=times.p2_seconds),
            p3=timedelta(seconds=times.p3_seconds),
            repage=timedelta(seconds=times.repage_seconds),
        )

    def times(self) -> EscalationTimes:
        return EscalationTimes(
            p1_seconds=self.p1.total_seconds(),
            p2_seconds=self.p2.total_seconds(),
            p3_seconds=self.p3.total_seconds(),
            repage_seconds=self.repage.total_seconds(),
        )

    def deadline(self, severity: Severity) -> timedelta | None:
        """How long a step of the chain has to acknowledge an alert of this severity."""
        match severity:
            case Severity.P1:
                return self.p1
            case Severity.P2:
                return self.p2
            case Severity.P3:
                return self.p3
            case Severity.P4:
                return None
        assert_never(severity)


def escalation_for(
    rules: Mapping[str, DeskRule], target_teams: Iterable[str]
) -> EscalationTimes | None:
    """The escalation times an alert runs on: the shortest of those a coordinator set for its
    target desks, each time on its own (an alert paging two desks escalates as fast as the more
    urgent one wants); else the JIT's; else None, the service's defaults."""
    own = [
        rule.escalation
        for team in sorted(set(target_teams))
        if (rule := rules.get(team)) is not None and rule.escalation is not None
    ]
    if own:
        return EscalationTimes(
            p1_seconds=min(t.p1_seconds for t in own),
            p2_seconds=min(t.p2_seconds for t in own),
            p3_seconds=min(t.p3_seconds for t in own),
            repage_seconds=min(t.repage_seconds for t in own),
        )
    jit_wide = rules.get(JIT_WIDE)
    return jit_wide.escalation if jit_wide is not None else None


def describe_policy(policy: EscalationPolicy) -> dict[str, object]:
    """The escalation rules as a desk officer reads them (the desk page and the API show this)."""
    severities = []
    for severity in Severity:
        deadline = policy.deadline(severity)
        severities.append(
            {
                "severity": severity.value,
                "acknowledge_within_seconds": deadline.total_seconds() if deadline else None,
                "escalates": deadline is not None,
            }
        )
    return {
        "severities": severities,
        "chain": [
            {
                "step": DESK_STEP,
                "who": "the desks of the target teams (their desk rules apply; "
                "P1 officer safety and victim at risk always page)",
            },
            {"step": TEAM_LEAD_STEP, "who": "the team lead of each paged team that has one"},
            {"step": COORDINATOR_STEP, "who": "the desk of the JIT's coordinator team"},
        ],
        "repage_seconds": policy.repage.total_seconds(),
        "repage": "after the last step, its desk (or leads) are paged again at this interval "
        "until someone acknowledges",
        "dedup_window_seconds": policy.dedup_window.total_seconds(),
        "each_step": "each step has the severity's full deadline from when it is paged; a step "
        "with nobody to page is skipped",
    }


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Route(BaseModel):
    """A desk the alert was routed to, and that team's lead for the next step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str
    desk: str
    basis: RouteBasis
    team_lead: str | None = None


class AlertState(BaseModel):
    """One alert: what it says, whom it paged, where it is in its escalation chain.

    ``step`` is 0 at the desks, 1 at the team leads, 2 at the coordinator team's desk.
    ``acknowledge_by`` is the current step's deadline (None when nobody is expected to
    acknowledge); ``escalates_at`` is when :func:`due` moves to the next step (None when there is
    no next step or the alert is no longer open).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    jit: str
    severity: Severity
    category: Category
    target_teams: tuple[str, ...]
    summary: str
    links: tuple[AlertLink, ...] = ()
    dedup_key: str | None = None
    handling: Handling = Handling()
    originator: str
    raised_by: str
    coordinator_team: str
    coordinator_desk: str | None = None
    status: AlertStatus = AlertStatus.OPEN
    count: int = Field(default=1, ge=1)
    first_seen: datetime
    last_seen: datetime
    routes: tuple[Route, ...] = ()
    step: int = Field(default=DESK_STEP, ge=DESK_STEP, le=COORDINATOR_STEP)
    acknowledge_by: datetime | None = None
    escalates_at: datetime | None = None
    repeats: int = Field(default=0, ge=0)
    """How often the last step was paged again (see :func:`due`)."""
    escalation: EscalationTimes | None = None
    """The coordinator's times for this alert's chain; None: the service's."""
    acknowledged_by: str | None = None
    acknowledged_team: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    version: int = Field(default=1, ge=1)

    @property
    def releasable_to(self) -> frozenset[str]:
        """The teams the alert is released to: its targets, and the coordinator once paged."""
        teams = set(self.target_teams)
        if self.step >= COORDINATOR_STEP:
            teams.add(self.coordinator_team)
        return frozenset(teams)

    @property
    def audience(self) -> frozenset[str]:
        """Every team that may see the alert (the raising team and those it is released to)."""
        return self.releasable_to | {self.originator}

    @property
    def acknowledgers(self) -> frozenset[str]:
        """Teams whose desk may acknowledge: the targets, and the coordinator once paged."""
        return self.releasable_to

    @property
    def team_leads(self) -> tuple[Route, ...]:
        """The paged teams that have a lead to escalate to."""
        return tuple(r for r in self.routes if r.team_lead is not None)


class DedupEntry(BaseModel):
    """The unresolved alert a condition's repeats fold into, for one (JIT, dedup key).

    ``folded`` remembers the ids of the last raises folded in, so that a raise retried by an
    at-least-once producer is counted once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    jit: str
    dedup_key: str
    alert_id: str
    originator: str
    target_teams: tuple[str, ...]
    severity: Severity
    handling: Handling = Handling()
    count: int = Field(default=1, ge=1)
    first_seen: datetime
    last_seen: datetime
    folded: tuple[str, ...] = ()

    def folds(self, *, now: datetime, window: timedelta) -> bool:
        """Whether a repeat seen ``now`` is within the window of the last sighting (inclusive).

        The window slides with each repeat: a condition that keeps recurring keeps folding into
        the one alert, so a desk is paged once per episode, not once per window.
        """
        return now - self.last_seen <= window

    def covers(self, command: RaiseAlert) -> bool:
        """Whether the open alert already pages everyone a repeat would, at least as urgently.

        A repeat that adds a target team or is more urgent is not folded: it would otherwise
        silently fail to page the new team, or keep a P1 hidden behind a P3.
        """
        return set(command.target_teams) <= set(self.target_teams) and self.severity.at_least(
            command.severity
        )


def dedup_subject(jit: str, dedup_key: str) -> str:
    """The table key of a dedup entry: a digest, so a long key stays a short, safe Kafka key."""
    digest = hashlib.sha256(f"{len(jit)}:{jit}{dedup_key}".encode()).hexdigest()[:40]
    return f"dedup-{digest}"


_ALERT_ID_NAMESPACE = uuid.UUID("5d0f4f8e-8b7a-4c1e-9d36-2f7f0c6a1a57")


def alert_id_for(cause_id: str) -> str:
    """A stable id for an alert raised because of another event: a redelivery raises it once."""
    return f"alert-{uuid.uuid5(_ALERT_ID_NAMESPACE, cause_id)}"


def raise_for(
    cause_id: str,
    *,
    actor: Actor,
    jit: str,
    severity: Severity,
    category: Category,
    target_teams: Iterable[str],
    summary: str,
    links: Iterable[AlertLink] = (),
    dedup_key: str | None = None,
) -> RaiseAlert:
    """The command another context's event turns into; idempotent on the cause's event id."""
    return RaiseAlert(
        actor=actor,
        alert_id=alert_id_for(cause_id),
        jit=jit,
        severity=severity,
        category=category,
        target_teams=tuple(target_teams),
        summary=summary,
        links=tuple(links),
        dedup_key=dedup_key,
    )


def overdue_task_name(title: str | None, task_id: str) -> str:
    """How an overdue-task alert names its task: the title in quotes, the id only without one."""
    if title and title.strip():
        text = " ".join(title.split())
        return f"“{text[:77]}…”" if len(text) > 80 else f"“{text}”"
    return task_id


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _has_role(actor: Actor, roles: frozenset[Role]) -> bool:
    return any(r in roles for r in actor.roles)


def _addressed(state: AlertState, event: Event, *, to: Iterable[str] | None = None) -> Addressed:
    return Addressed(
        event,
        subject=state.alert_id,
        originator=state.originator,
        releasable_to=state.releasable_to if to is None else frozenset(to),
        handling=state.handling,
    )


def decide(
    state: AlertState | None,
    command: AlertCommand,
    *,
    now: datetime,
    policy: EscalationPolicy,
    directory: DirectoryView | None,
    rules: Mapping[str, DeskRule] | None = None,
    dedup: DedupEntry | None = None,
) -> list[Event | Addressed]:
    """Decide a command on one alert; ``dedup`` is the entry for a raise's (JIT, dedup key).

    ``state`` is the alert named by the command, ``directory`` the view of the alert's JIT and
    ``rules`` the desk rules of that JIT by team. Every event comes back ``Addressed`` to the
    alert's audience, because the cause's envelope (an acknowledging team's) is not it.
    """
    _require_aware(now)
    if isinstance(command, RaiseAlert):
        return _raise(
            state,
            command,
            now=now,
            policy=policy,
            directory=directory,
            rules=rules or {},
            dedup=dedup,
        )
    if isinstance(command, AcknowledgeAlert):
        return _acknowledge(state, command, now=now)
    if isinstance(command, ResolveAlert):
        return _resolve(state, command, now=now)
    assert_never(command)


def _same_raise(state: AlertState, command: RaiseAlert) -> bool:
    return (
        state.jit == command.jit
        and state.severity is command.severity
        and state.category is command.category
        and state.target_teams == command.target_teams
        and state.summary == command.summary
        and state.links == command.links
        and state.dedup_key == command.dedup_key
        and state.handling == command.handling
        and state.raised_by == command.actor.member
    )


def _raise(
    state: AlertState | None,
    command: RaiseAlert,
    *,
    now: datetime,
    policy: EscalationPolicy,
    directory: DirectoryView | None,
    rules: Mapping[str, DeskRule],
    dedup: DedupEntry | None,
) -> list[Event | Addressed]:
    actor = command.actor
    if directory is None or directory.jit != command.jit:
        raise Rejected(404, f"unknown JIT {command.jit}")
    if actor.team not in directory.member_teams:
        raise Rejected(403, f"team {actor.team} is not a member of JIT {command.jit}")
    if not _has_role(actor, RAISING_ROLES):
        raise Rejected(403, "raising an alert needs a member role other than auditor")
    outsiders = sorted(set(command.target_teams) - directory.member_teams)
    if outsiders:
        message = f"not members of JIT {command.jit}: {', '.join(outsiders)}"
        raise Rejected(422, message, (FieldError(field="target_teams", message=message),))
    if state is not None:
        if _same_raise(state, command):
            return []
        raise Rejected(409, f"alert {command.alert_id} was already raised with other content")

    if (
        command.dedup_key is not None
        and dedup is not None
        and dedup.jit == command.jit
        and dedup.dedup_key == command.dedup_key
    ):
        if command.alert_id in dedup.folded:
            return []
        if dedup.folds(now=now, window=policy.dedup_window) and dedup.covers(command):
            folded = AlertDeduplicated(
                alert_id=dedup.alert_id,
                duplicate_id=command.alert_id,
                count=dedup.count + 1,
                last_seen=now,
            )
            return [
                Addressed(
                    folded,
                    subject=dedup.alert_id,
                    originator=dedup.originator,
                    releasable_to=frozenset(dedup.target_teams),
                    handling=dedup.handling,
                )
            ]

    routed = route(
        alert_id=command.alert_id,
        severity=command.severity,
        category=command.category,
        target_teams=command.target_teams,
        rules=rules,
        directory=directory,
    )
    coordinator_desk = directory.coordinator_desk
    times = escalation_for(rules, command.target_teams)
    deadline = policy.with_times(times).deadline(command.severity)
    paged = bool(routed) or is_safety_critical(command.severity, command.category)
    acknowledge_by = now + deadline if deadline is not None and paged else None
    has_next_step = coordinator_desk is not None or any(r.team_lead for r in routed)
    raised = AlertRaised(
        alert_id=command.alert_id,
        jit=command.jit,
        severity=command.severity,
        category=command.category,
        target_teams=command.target_teams,
        summary=command.summary,
        links=command.links,
        dedup_key=command.dedup_key,
        handling=command.handling,
        raised_by=actor.member,
        raising_team=actor.team,
        raised_at=now,
        acknowledge_by=acknowledge_by,
        escalates_at=acknowledge_by if has_next_step else None,
        coordinator_team=directory.coordinator_team,
        coordinator_desk=coordinator_desk.desk_id if coordinator_desk else None,
        escalation=times,
    )
    audience = frozenset(command.target_teams)
    label = command.handling
    out: list[Event | Addressed] = [
        Addressed(
            raised,
            subject=command.alert_id,
            originator=actor.team,
            releasable_to=audience,
            handling=label,
        )
    ]
    out.extend(
        Addressed(
            r,
            subject=command.alert_id,
            originator=actor.team,
            releasable_to=frozenset({r.team}),
            handling=label,
        )
        for r in routed
    )
    return out


def _visible(state: AlertState | None, actor: Actor, alert_id: str) -> AlertState:
    if state is None or actor.team not in state.audience:
        raise Rejected(404, f"no alert {alert_id}")
    return state


def _acknowledge(
    state: AlertState | None, command: AcknowledgeAlert, *, now: datetime
) -> list[Event | Addressed]:
    actor = command.actor
    alert = _visible(state, actor, command.alert_id)
    if actor.team not in alert.acknowledgers:
        raise Rejected(403, f"team {actor.team} is not a target of this alert")
    if not _has_role(actor, ACKNOWLEDGING_ROLES):
        raise Rejected(403, "acknowledging needs the desk_officer, team_lead or coordinator role")
    if alert.status is AlertStatus.ACKNOWLEDGED:
        raise Rejected(
            409,
            f"alert {alert.alert_id} was already acknowledged by {alert.acknowledged_team}",
        )
    if alert.status is AlertStatus.RESOLVED:
        raise Rejected(409, f"alert {alert.alert_id} is resolved")
    return [
        _addressed(
            alert,
            AlertAcknowledged(alert_id=alert.alert_id, by=actor.member, team=actor.team, at=now),
        )
    ]


def _resolve(
    state: AlertState | None, command: ResolveAlert, *, now: datetime
) -> list[Event | Addressed]:
    actor = command.actor
    alert = _visible(state, actor, command.alert_id)
    own_raise = actor.member == alert.raised_by and actor.team == alert.originator
    if not own_raise and not _has_role(actor, ACKNOWLEDGING_ROLES):
        raise Rejected(
            403,
            "resolving needs the raiser, or the desk_officer, team_lead or coordinator role",
        )
    if alert.status is AlertStatus.RESOLVED:
        raise Rejected(409, f"alert {alert.alert_id} is already resolved")
    resolved = AlertResolved(
        alert_id=alert.alert_id,
        by=actor.member,
        team=actor.team,
        reason=command.reason,
        at=now,
    )
    return [_addressed(alert, resolved)]


def last_step(state: AlertState) -> int:
    """The last step of the alert's chain that has someone to page."""
    if state.coordinator_desk is not None:
        return COORDINATOR_STEP
    if state.team_leads:
        return TEAM_LEAD_STEP
    return DESK_STEP


def due(
    state: AlertState | None, *, now: datetime, policy: EscalationPolicy
) -> list[Event | Addressed]:
    """The escalation an unacknowledged alert owes at ``now``: its chain's next step, or the
    last step again.

    Each step gets a full deadline from when it is paged (``now``), not from when the previous
    one expired, so a step paged late after a restart still has its time to react. An alert
    moves one step per call; a step with nobody to page is skipped. Once the last step is
    paged, the alert keeps paging it every ``policy.repage`` (``repeat`` counts up) until
    someone acknowledges or resolves it.
    """
    _require_aware(now)
    if (
        state is None
        or state.status is not AlertStatus.OPEN
        or state.escalates_at is None
        or now < state.escalates_at
    ):
        return []
    policy = policy.with_times(state.escalation)
    deadline = policy.deadline(state.severity)
    if deadline is None:
        return []
    last = last_step(state)
    if last == DESK_STEP:
        return []
    repeat = 0
    if state.step >= last:
        step, repeat = state.step, state.repeats + 1
    else:
        step = state.step + 1
        if step == TEAM_LEAD_STEP and not state.team_leads:
            step = COORDINATOR_STEP
    acknowledge_by = now + deadline
    if step == TEAM_LEAD_STEP:
        next_at = acknowledge_by if last == COORDINATOR_STEP else now + policy.repage
        return [
            _addressed(
                state,
                AlertEscalated(
                    alert_id=state.alert_id,
                    step=TEAM_LEAD_STEP,
                    to=EscalationTarget.TEAM_LEAD,
                    team=r.team,
                    member=r.team_lead,
                    severity=state.severity,
                    category=state.category,
                    at=now,
                    acknowledge_by=acknowledge_by,
                    next_escalation_at=next_at,
                    repeat=repeat,
                ),
                to={r.team},
            )
            for r in state.team_leads
        ]
    escalated = AlertEscalated(
        alert_id=state.alert_id,
        step=COORDINATOR_STEP,
        to=EscalationTarget.COORDINATOR_DESK,
        team=state.coordinator_team,
        desk=state.coordinator_desk,
        severity=state.severity,
        category=state.category,
        at=now,
        acknowledge_by=acknowledge_by,
        next_escalation_at=now + policy.repage,
        repeat=repeat,
    )
    return [_addressed(state, escalated, to={*state.target_teams, state.coordinator_team})]


def evolve(state: AlertState | None, event: Event) -> AlertState:
    """Apply an event that :func:`decide` or :func:`due` returned to the alert it is about.

    Delivery receipts and webhook failures are written by the delivery workers, not by the
    alert's writer, so they leave the state (and its version) as it is.
    """
    if isinstance(event, AlertRaised):
        if state is not None:
            return state
        return AlertState(
            alert_id=event.alert_id,
            jit=event.jit,
            severity=event.severity,
            category=event.category,
            target_teams=event.target_teams,
            summary=event.summary,
            links=event.links,
            dedup_key=event.dedup_key,
            handling=event.handling,
            originator=event.raising_team,
            raised_by=event.raised_by,
            coordinator_team=event.coordinator_team,
            coordinator_desk=event.coordinator_desk,
            first_seen=event.raised_at,
            last_seen=event.raised_at,
            acknowledge_by=event.acknowledge_by,
            escalates_at=event.escalates_at,
            escalation=event.escalation,
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} for an alert that was never raised")
    bumped = state.version + 1
    if isinstance(event, AlertRouted):
        if any(r.team == event.team for r in state.routes):
            return state
        new_route = Route(
            team=event.team,
            desk=event.desk,
            basis=event.basis,
            team_lead=event.team_lead,
        )
        return state.model_copy(update={"routes": (*state.routes, new_route), "version": bumped})
    if isinstance(event, AlertAcknowledged):
        return state.model_copy(
            update={
                "status": AlertStatus.ACKNOWLEDGED,
                "acknowledged_by": event.by,
                "acknowledged_team": event.team,
                "acknowledged_at": event.at,
                "escalates_at": None,
                "version": bumped,
            }
        )
    if isinstance(event, AlertEscalated):
        return state.model_copy(
            update={
                "step": event.step,
                "repeats": event.repeat,
                "acknowledge_by": event.acknowledge_by,
                "escalates_at": event.next_escalation_at,
                "version": bumped,
            }
        )
    if isinstance(event, AlertDeduplicated):
        return state.model_copy(
            update={
                "count": event.count,
                "last_seen": event.last_seen,
                "version": bumped,
            }
        )
    if isinstance(event, AlertResolved):
        return state.model_copy(
            update={
                "status": AlertStatus.RESOLVED,
                "resolved_by": event.by,
                "resolved_at": event.at,
                "resolution": event.reason,
                "escalates_at": None,
                "version": bumped,
            }
        )
    if isinstance(event, AlertDelivered | WebhookDeliveryFailed):
        return state
    raise TypeError(f"not an alert event: {type(event).__name__}")


def evolve_dedup(entry: DedupEntry | None, event: Event) -> DedupEntry | None:
    """Apply an alert event to the dedup entry of its (JIT, dedup key); None removes the entry.

    The wiring looks the entry up by ``dedup_subject(state.jit, state.dedup_key)`` of the alert
    the event is about, and skips alerts without a dedup key.
    """
    if isinstance(event, AlertRaised):
        if event.dedup_key is None:
            return entry
        return DedupEntry(
            jit=event.jit,
            dedup_key=event.dedup_key,
            alert_id=event.alert_id,
            originator=event.raising_team,
            target_teams=event.target_teams,
            severity=event.severity,
            handling=event.handling,
            first_seen=event.raised_at,
            last_seen=event.raised_at,
        )
    if entry is None or getattr(event, "alert_id", None) != entry.alert_id:
        return entry
    if isinstance(event, AlertDeduplicated):
        return entry.model_copy(
            update={
                "count": event.count,
                "last_seen": event.last_seen,
                "folded": (*entry.folded, event.duplicate_id)[-FOLDED_IDS_KEPT:],
            }
        )
    if isinstance(event, AlertResolved):
        return None
    return entry


ESCALATION_SETTING_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


def decide_rule(
    rule: DeskRule | None,
    command: SetDeskRule | SetDeskEscalation,
    *,
    directory: DirectoryView | None,
) -> list[Event | Addressed]:
    """Decide a desk's routing rule: only the team's desk, lead, coordinator or admin sets it;
    or its escalation times (:func:`decide_escalation`)."""
    if isinstance(command, SetDeskEscalation):
        return decide_escalation(rule, command, directory=directory)
    actor = command.actor
    if directory is None or directory.jit != command.jit:
        raise Rejected(404, f"unknown JIT {command.jit}")
    if command.team not in directory.member_teams:
        message = f"{command.team} is not a member of JIT {command.jit}"
        raise Rejected(422, message, (FieldError(field="team", message=message),))
    if actor.team != command.team:
        raise Rejected(403, f"team {actor.team} may not set the desk rule of {command.team}")
    if not _has_role(actor, RULE_SETTING_ROLES):
        raise Rejected(
            403,
            "setting a desk rule needs the desk_officer, team_lead, coordinator or admin role",
        )
    if (
        rule is not None
        and rule.categories == command.categories
        and rule.min_severity is command.min_severity
    ):
        return []
    event = DeskRuleSet(
        jit=command.jit,
        team=command.team,
        categories=command.categories,
        min_severity=command.min_severity,
        by=actor.member,
    )
    subject = desk_rule_subject(command.jit, command.team)
    return [Addressed(event, subject=subject, originator=command.team, releasable_to=frozenset())]


def decide_escalation(
    rule: DeskRule | None, command: SetDeskEscalation, *, directory: DirectoryView | None
) -> list[Event | Addressed]:
    """Decide a desk's (or the JIT's, ``team`` ``*``) escalation times: only a coordinator or
    an admin of the JIT's coordinator team sets them; every member team may read them."""
    actor = command.actor
    if directory is None or directory.jit != command.jit:
        raise Rejected(404, f"unknown JIT {command.jit}")
    if command.team != JIT_WIDE and command.team not in directory.member_teams:
        message = f"{command.team} is not a member of JIT {command.jit}"
        raise Rejected(422, message, (FieldError(field="team", message=message),))
    if actor.team != directory.coordinator_team or not _has_role(actor, ESCALATION_SETTING_ROLES):
        raise Rejected(
            403,
            f"escalation times are set by a coordinator of {directory.coordinator_team}, "
            "the JIT's coordinator team",
        )
    current = rule.escalation if rule is not None else None
    if rule is not None and current == command.times:
        return []
    event = DeskEscalationSet(
        jit=command.jit, team=command.team, times=command.times, by=actor.member
    )
    subject = desk_rule_subject(command.jit, command.team)
    return [
        Addressed(
            event,
            subject=subject,
            originator=actor.team,
            releasable_to=frozenset(directory.member_teams) - {actor.team},
        )
    ]


def evolve_rule(rule: DeskRule | None, event: DeskRuleSet | DeskEscalationSet) -> DeskRule:
    """The desk rule after ``event``."""
    version = 1 if rule is None else rule.version + 1
    if isinstance(event, DeskEscalationSet):
        if rule is None:
            return DeskRule(jit=event.jit, team=event.team, escalation=event.times, set_by=event.by)
        return rule.model_copy(update={"escalation": event.times, "version": version})
    return DeskRule(
        jit=event.jit,
        team=event.team,
        categories=event.categories,
        min_severity=event.min_severity,
        escalation=rule.escalation if rule is not None else None,
        set_by=event.by,
        version=version,
    )
