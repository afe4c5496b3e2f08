"""A JIT with four teams, actors, commands, and a way to drive an alert through the domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from events.alerts import (
    AcknowledgeAlert,
    AlertLink,
    Category,
    LinkKind,
    RaiseAlert,
    ResolveAlert,
    Severity,
)
from events.envelope import Actor, Addressed, Event
from services.alerts.domain import (
    AlertState,
    DedupEntry,
    EscalationPolicy,
    decide,
    dedup_subject,
    due,
    evolve,
    evolve_dedup,
)
from services.alerts.routing import Desk, DeskRule, DirectoryView

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JIT = "jit-ceres"
NL = "NL-KLPD"
RO = "RO-DIICOT"
COORD = "BE-FGP"
"""The JIT's coordinator team; not a target in most tests."""
DESKLESS = "BG-GDNP"
"""A member team that has registered no desk."""
STRANGER = "DE-BKA"
"""A team outside the JIT."""

POLICY = EscalationPolicy(
    p1=timedelta(seconds=5),
    p2=timedelta(seconds=15),
    p3=timedelta(seconds=60),
    dedup_window=timedelta(seconds=30),
)

DIRECTORY = DirectoryView(
    jit=JIT,
    coordinator_team=COORD,
    member_teams=frozenset({NL, RO, COORD, DESKLESS}),
    desks={
        NL: Desk(team=NL, desk_id="desk-nl", team_lead="nl-lead"),
        RO: Desk(team=RO, desk_id="desk-ro", team_lead="ro-lead"),
        COORD: Desk(team=COORD, desk_id="desk-be", team_lead="be-lead"),
    },
)


def actor(
    team: str = NL, member: str | None = None, roles: Sequence[str] = ("desk_officer",)
) -> Actor:
    return Actor(member=member or f"{team.lower()}-officer", team=team, roles=tuple(roles))


def raise_alert(**overrides: Any) -> RaiseAlert:
    fields: dict[str, Any] = {
        "actor": actor(NL, "nl-investigator", ("investigator",)),
        "alert_id": "alert-1",
        "jit": JIT,
        "severity": Severity.P1,
        "category": Category.OFFICER_SAFETY,
        "target_teams": (NL, RO),
        "summary": "Operations OP-17 and OP-23 overlap in place and time",
        "links": (AlertLink(kind=LinkKind.OPERATION, id="OP-17"),),
    }
    fields.update(overrides)
    return RaiseAlert(**fields)


def acknowledge(by: Actor | None = None, alert_id: str = "alert-1") -> AcknowledgeAlert:
    return AcknowledgeAlert(actor=by or actor(RO), alert_id=alert_id)


def resolve(
    by: Actor | None = None, alert_id: str = "alert-1", reason: str = "operations re-planned"
) -> ResolveAlert:
    return ResolveAlert(actor=by or actor(RO), alert_id=alert_id, reason=reason)


def events_of(outputs: Iterable[Event | Addressed]) -> list[Event]:
    return [o.event if isinstance(o, Addressed) else o for o in outputs]


def apply(state: AlertState | None, outputs: Iterable[Event | Addressed]) -> AlertState:
    result = state
    for event in events_of(outputs):
        result = evolve(result, event)
    assert result is not None
    return result


def raised(
    *,
    now: datetime = T0,
    rules: dict[str, DeskRule] | None = None,
    directory: DirectoryView = DIRECTORY,
    policy: EscalationPolicy = POLICY,
    **overrides: Any,
) -> AlertState:
    """An alert after its raise was decided and applied."""
    command = raise_alert(**overrides)
    outputs = decide(None, command, now=now, policy=policy, directory=directory, rules=rules)
    return apply(None, outputs)


def escalate(
    state: AlertState, now: datetime, policy: EscalationPolicy = POLICY
) -> tuple[AlertState, list[Event]]:
    """Run the escalation timer once at ``now`` and apply what it returns."""
    outputs = due(state, now=now, policy=policy)
    return apply(state, outputs), events_of(outputs)


class Alerts:
    """A tiny in-memory writer: alert and dedup tables, driven like the wiring will drive them."""

    def __init__(
        self, policy: EscalationPolicy = POLICY, directory: DirectoryView = DIRECTORY
    ) -> None:
        self.policy = policy
        self.directory = directory
        self.alerts: dict[str, AlertState] = {}
        self.dedup: dict[str, DedupEntry] = {}

    def send(
        self, command: RaiseAlert | AcknowledgeAlert | ResolveAlert, now: datetime
    ) -> list[Event]:
        entry = None
        if isinstance(command, RaiseAlert) and command.dedup_key is not None:
            entry = self.dedup.get(dedup_subject(command.jit, command.dedup_key))
        outputs = decide(
            self.alerts.get(command.alert_id),
            command,
            now=now,
            policy=self.policy,
            directory=self.directory,
            dedup=entry,
        )
        for output in outputs:
            assert isinstance(output, Addressed)
            assert output.subject is not None
            self._apply(output.subject, output.event)
        return events_of(outputs)

    def _apply(self, subject: str, event: Event) -> None:
        state = evolve(self.alerts.get(subject), event)
        self.alerts[subject] = state
        if state.dedup_key is not None:
            key = dedup_subject(state.jit, state.dedup_key)
            entry = evolve_dedup(self.dedup.get(key), event)
            if entry is None:
                self.dedup.pop(key, None)
            else:
                self.dedup[key] = entry
