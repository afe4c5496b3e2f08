"""The alerts worker's faust wiring: alert commands, escalation ticks, raises caused by other
contexts' events, and webhook delivery.

One writer per JIT
------------------
Alert commands are keyed by JIT (``CatalogueEntry(..., key="jit")``), so one partition, one
worker, handles every alert of a JIT together with its de-duplication entries and desk rules
(see ``services/alerts/domain.py``). The three tables stay keyed by alert id, dedup subject and
rule subject; faust writes each change to the changelog partition of the command being handled,
which is the JIT's. A command whose record key is not its JIT (a producer that keyed it
otherwise) is forwarded once with the right key instead of being applied in the wrong partition.

Effectively once
----------------
Commands are decided in small batches (``take_events``: up to ``command_batch_size`` records or
``command_batch_seconds``), in order, each seeing the state the previous ones left. Events carry
ids derived from the command's id; all of a batch's events are on the broker (awaited) before
its state changes are written and before its records are acknowledged. A crash in between
redelivers the commands: each either finds the old state and decides the same events again
(same ids: the desk hub, the webhook sender and the projection drop them by id) or finds the
new state and decides nothing. One broker round trip per batch rather than per command is what
lets one worker keep up with hundreds of alerts a second.

Escalation timers live in the alert state (``escalates_at``): a periodic timer scans the table
and publishes an ``EscalateAlert`` tick keyed by the alert's JIT; the writer applies
``domain.due``. A restarted worker recovers the table from its changelog and the timer goes on.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
import faust.streams as faust_streams

from events.alerts import (
    JIT_WIDE,
    AcknowledgeAlert,
    AlertLink,
    AlertRaised,
    Category,
    DeskEscalationSet,
    DeskRuleSet,
    EscalateAlert,
    LinkKind,
    RaiseAlert,
    ResolveAlert,
    SetDeskEscalation,
    SetDeskRule,
    Severity,
)
from events.codec import encode, envelop
from events.deconfliction import (
    DeconflictionHit,
    HitStatus,
    OperationConflictDetected,
    RoleConflictDetected,
)
from events.directory import Role
from events.envelope import Actor, Addressed, Command, Envelope, Event, new_id
from events.leads import LeadPriority, LeadTriaged
from events.outcomes import CommandAccepted, CommandRejected, FieldError, Rejected
from events.tasking import TaskOverdue
from events.topics import (
    ALERT_COMMANDS,
    ALERT_EVENTS,
    DECONFLICTION_EVENTS,
    LEAD_EVENTS,
    TASK_EVENTS,
)
from services.alerts import domain, routing
from services.alerts.delivery import RaisedAlerts, SeenEvents, webhook_teams
from services.alerts.domain import AlertState, AlertStatus, DedupEntry, dedup_subject
from services.alerts.mail import MailPager, MailPages
from services.alerts.routing import DeskRule, DirectoryView, desk_rule_subject
from services.alerts.settings import AlertsSettings, load_alerts_settings
from services.alerts.webhooks import WebhookSender
from services.kit.directory import DirectoryView as Directory
from services.kit.logging import get_logger
from services.kit.runtime import POLICY, in_batches
from services.kit.settings import Settings
from services.kit.streams import (
    DeadLetters,
    addressed_envelope,
    create_app,
    decode_or_explain,
    derived_id,
    header_envelope,
    publish,
    raw_topic,
)
from services.kit.victims import Victims

log = get_logger()

SOURCE = "/interlock/alerts"
TIMER_MEMBER = "alerts-escalation"
"""The member id escalation ticks are issued as: the service itself, not a person."""
SERVICE_ROLES = (Role.NATIONAL_SYSTEM.value,)
"""Roles of the machine principal that raises an alert for another context's event."""


# --- alerts raised because of other contexts' events (pure) -----------------------------------


def _raise(
    cause: Envelope,
    index: int,
    *,
    context: str,
    team: str,
    jit: str,
    severity: Severity,
    category: Category,
    targets: Iterable[str],
    summary: str,
    links: Iterable[AlertLink],
    dedup_key: str,
    part: str = "",
) -> Envelope:
    command = domain.raise_for(
        f"{cause.id}{part}",
        actor=Actor(member=f"{context}-service", team=team, roles=SERVICE_ROLES),
        jit=jit,
        severity=severity,
        category=category,
        target_teams=targets,
        summary=summary[:1_000],
        links=links,
        dedup_key=dedup_key,
    )
    command = command.model_copy(update={"handling": cause.handling_label})
    envelope = envelop(
        command,
        subject=command.alert_id,
        jit=jit,
        originator=team,
        source=SOURCE,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
        releasable_to=frozenset(command.target_teams) - {team},
        handling=cause.handling_label,
    )
    return envelope.model_copy(update={"id": derived_id(cause.id, index)})


def raises_for(cause: Envelope) -> list[Envelope]:
    """The ``RaiseAlert`` commands another context's event calls for (none for most events).

    Alert ids derive from the cause's event id, so a redelivered cause raises one alert. Sides
    of a cross-JIT hit or role conflict each get an alert in their own JIT (an alert's targets
    are members of its JIT); within one JIT both teams share one alert.
    """
    data = cause.data
    if isinstance(data, OperationConflictDetected):
        teams = sorted(data.teams)
        team = cause.originator if cause.originator in teams else teams[0]
        summary = (
            f"Operations of {teams[0]} and {teams[1]} overlap within "
            f"{data.overlap_radius_m:.0f} m of ({data.overlap_latitude:.4f}, "
            f"{data.overlap_longitude:.4f}) between {data.overlap_starts_at:%Y-%m-%d %H:%M} "
            f"and {data.overlap_ends_at:%Y-%m-%d %H:%M} UTC. Call the other desk before acting."
        )
        links = [AlertLink(kind=LinkKind.CONFLICT, id=data.conflict_id)] + [
            AlertLink(kind=LinkKind.OPERATION, id=s.operation_id) for s in data.sides
        ]
        return [
            _raise(
                cause,
                1,
                context="deconfliction",
                team=team,
                jit=data.jit,
                severity=Severity.P1,
                category=Category.OFFICER_SAFETY,
                targets=teams,
                summary=summary,
                links=links,
                dedup_key=f"opconflict:{data.conflict_id}",
            )
        ]
    if isinstance(data, DeconflictionHit):
        severity = Severity.P2 if data.status is HitStatus.CONFIRMED else Severity.P3
        links = [AlertLink(kind=LinkKind.HIT, id=data.hit_id)]
        sides = (data.registering, data.holding)
        if data.registering.jit == data.holding.jit:
            teams = sorted(data.teams)
            team = cause.originator if cause.originator in teams else data.registering.team
            summary = (
                f"Deconfliction hit ({data.status.value}, {data.kind}): {teams[0]} and "
                f"{teams[1]} hold the same target. Coordinate through the desks before acting."
            )
            return [
                _raise(
                    cause,
                    1,
                    context="deconfliction",
                    team=team,
                    jit=data.registering.jit,
                    severity=severity,
                    category=Category.DECONFLICTION,
                    targets=teams,
                    summary=summary,
                    links=links,
                    dedup_key=f"hit:{data.hit_id}",
                )
            ]
        return [
            _raise(
                cause,
                i,
                context="deconfliction",
                team=side.team,
                jit=side.jit,
                severity=severity,
                category=Category.DECONFLICTION,
                targets=[side.team],
                summary=(
                    f"Deconfliction hit ({data.status.value}, {data.kind}): {other.team} in "
                    "another JIT holds the same target. Call its desk before acting."
                ),
                links=links,
                dedup_key=f"hit:{data.hit_id}",
                part=f"/{side.team}",
            )
            for i, (side, other) in enumerate(zip(sides, reversed(sides), strict=True), start=1)
        ]
    if isinstance(data, RoleConflictDetected):
        links = [
            AlertLink(kind=LinkKind.CONFLICT, id=data.conflict_id),
            AlertLink(kind=LinkKind.HIT, id=data.hit_id),
        ]
        summary = (
            f"Role conflict: {data.victim.team} holds a person as a victim of trafficking, "
            f"{data.suspect.team} as a suspect. {data.note}"
        )
        pair = (data.victim, data.suspect)
        if data.victim.jit == data.suspect.jit:
            teams = sorted({data.victim.team, data.suspect.team})
            team = cause.originator if cause.originator in teams else data.victim.team
            return [
                _raise(
                    cause,
                    1,
                    context="deconfliction",
                    team=team,
                    jit=data.victim.jit,
                    severity=Severity.P2,
                    category=Category.VICTIM_AT_RISK,
                    targets=teams,
                    summary=summary,
                    links=links,
                    dedup_key=f"roleconflict:{data.conflict_id}",
                )
            ]
        return [
            _raise(
                cause,
                i,
                context="deconfliction",
                team=side.team,
                jit=side.jit,
                severity=Severity.P2,
                category=Category.VICTIM_AT_RISK,
                targets=[side.team],
                summary=summary,
                links=links,
                dedup_key=f"roleconflict:{data.conflict_id}",
                part=f"/{side.team}",
            )
            for i, side in enumerate(pair, start=1)
        ]
    if isinstance(data, TaskOverdue):
        return [
            _raise(
                cause,
                1,
                context="tasking",
                team=cause.originator,
                jit=cause.jit,
                severity=Severity.P3,
                category=Category.TASK_OVERDUE,
                targets=[data.responsible_team],
                summary=(
                    f"Task {domain.overdue_task_name(data.title, data.task_id)} missed its "
                    f"{data.deadline.value} deadline ({data.due_at:%Y-%m-%d %H:%M} UTC)."
                ),
                links=[AlertLink(kind=LinkKind.TASK, id=data.task_id)],
                dedup_key=f"taskoverdue:{data.task_id}:{data.deadline.value}",
            )
        ]
    if isinstance(data, LeadTriaged) and data.priority is LeadPriority.URGENT:
        return [
            _raise(
                cause,
                1,
                context="leads",
                team=cause.originator,
                jit=cause.jit,
                severity=Severity.P2,
                category=Category.OTHER,
                targets=[cause.originator],
                summary=f"Lead {data.lead_id} was triaged as urgent.",
                links=[AlertLink(kind=LinkKind.LEAD, id=data.lead_id)],
                dedup_key=f"lead-urgent:{data.lead_id}",
            )
        ]
    return []


def escalation_tick(state: AlertState) -> Envelope:
    """A tick for one alert, keyed by its JIT and addressed like the alert's own events."""
    command = EscalateAlert(
        actor=Actor(member=TIMER_MEMBER, team=state.originator),
        alert_id=state.alert_id,
        jit=state.jit,
    )
    return envelop(
        command,
        subject=state.alert_id,
        jit=state.jit,
        originator=state.originator,
        source=SOURCE,
        correlation_id=new_id(),
        releasable_to=state.releasable_to - {state.originator},
        handling=state.handling,
    )


# --- the writer -------------------------------------------------------------------------------


@dataclass
class _Pending:
    """What the current batch decided and has not written yet; each table change with the
    command record it came from (its partition is the changelog partition)."""

    envelopes: list[Envelope] = field(default_factory=list)
    commands: list[Envelope] = field(default_factory=list)
    alerts: dict[str, tuple[AlertState, faust.EventT[bytes]]] = field(default_factory=dict)
    entries: dict[str, tuple[DedupEntry | None, faust.EventT[bytes]]] = field(default_factory=dict)
    rules: dict[str, tuple[DeskRule, faust.EventT[bytes]]] = field(default_factory=dict)


@contextmanager
def _acting_for(record: faust.EventT[bytes]) -> Iterator[None]:
    """Make ``record`` faust's current event while writing a table after a batch.

    faust writes a table change to the changelog partition of the current event; after a
    batch the agent's current event is none of them, so each change names its own record.
    """
    token = faust_streams._current_event.set(weakref.ref(record))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


class AlertWriter:
    """Applies alert commands and ticks to the three tables of the JIT they are keyed by."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        alerts: AlertsSettings,
        directory: Directory,
    ) -> None:
        self.app = app
        self.settings = settings
        self.alerts = alerts
        self.policy = alerts.escalation_policy()
        self.directory = directory
        self.alert_to_state = self._table("alert_to_state")
        self.dedup_to_entry = self._table("dedup_to_entry")
        self.desk_to_rule = self._table("desk_to_rule")
        self.commands = raw_topic(app, settings, ALERT_COMMANDS)
        self.dead = DeadLetters(app, settings, app.conf.id)
        self._ticked: dict[str, float] = {}
        self._pending = _Pending()

    def _table(self, name: str) -> Any:
        """A table of JSON values under raw keys.

        ``key_type=bytes`` matters: without it faust reads the changelog's keys back as JSON
        during recovery (while writing them raw), and a restarted worker never recovers.
        """
        return self.app.Table(
            name,
            partitions=self.settings.partitions,
            key_type=bytes,
            schema=faust.Schema(key_serializer="raw", value_serializer="json"),
        )

    # table look-ups (through what the current batch decided) ---------------------------------

    def _alert(self, alert_id: str, jit: str | None = None) -> AlertState | None:
        if alert_id in self._pending.alerts:
            state: AlertState | None = self._pending.alerts[alert_id][0]
        else:
            value = self.alert_to_state.get(alert_id.encode())
            state = None if value is None else AlertState.model_validate(value)
        if state is not None and jit is not None and state.jit != jit:
            return None
        return state

    def _dedup(self, subject: str) -> DedupEntry | None:
        if subject in self._pending.entries:
            return self._pending.entries[subject][0]
        value = self.dedup_to_entry.get(subject.encode())
        return None if value is None else DedupEntry.model_validate(value)

    def _rule(self, subject: str) -> DeskRule | None:
        if subject in self._pending.rules:
            return self._pending.rules[subject][0]
        value = self.desk_to_rule.get(subject.encode())
        return None if value is None else DeskRule.model_validate(value)

    async def _view(self, jit: str, teams: Iterable[str]) -> DirectoryView | None:
        teams = tuple(teams)
        if not routing.knows(self.directory.book, jit, teams):
            await asyncio.to_thread(self.directory.catch_up, self.alerts.directory_wait_seconds)
        return routing.jit_view(self.directory.book, jit)

    # sending ---------------------------------------------------------------------------------

    async def send_commands(self, envelopes: Sequence[Envelope]) -> None:
        """Write commands keyed by their JIT and wait until the broker has them."""
        pending = [
            await self.commands.send(key=env.jit.encode(), value=encode(env)) for env in envelopes
        ]
        await asyncio.gather(*pending)

    async def publish_confirmed(self, envelopes: Sequence[Envelope]) -> None:
        """Publish envelopes to their catalogued topics and wait until the broker has them."""
        await publish(self.app, self.settings, envelopes, confirm=True)

    async def _until_sent(self, send: Callable[[], Awaitable[None]], what: str) -> None:
        """Send under the kit's failure policy: retried while retriable (a worker killed
        meanwhile redelivers the batch), a refusal raised so that the batch is split."""
        await POLICY.retrying(f"alert {what}", send)

    # handling a batch of commands -------------------------------------------------------------

    async def handle_batch(self, events: Sequence[faust.EventT[bytes]]) -> None:
        """Decide each command in order, publish all their events and wait for the broker, then
        write the tables; the batch's records are acknowledged after this returns.

        Events are on the broker before the state that follows from them, so a crash in
        between redelivers commands whose events are decided again with the same ids.
        """
        self._pending = _Pending()
        try:
            for event in events:
                await self.handle(event)
            batch = self._pending
            if batch.commands:
                await self._until_sent(lambda: self.send_commands(batch.commands), "commands")
            if batch.envelopes:
                await self._until_sent(lambda: self.publish_confirmed(batch.envelopes), "events")
            for key, (state, cause) in batch.alerts.items():
                with _acting_for(cause):
                    self.alert_to_state[key.encode()] = state.model_dump(mode="json")
            for key, (entry, cause) in batch.entries.items():
                with _acting_for(cause):
                    if entry is not None:
                        self.dedup_to_entry[key.encode()] = entry.model_dump(mode="json")
                    elif key.encode() in self.dedup_to_entry:
                        del self.dedup_to_entry[key.encode()]
            for key, (rule, cause) in batch.rules.items():
                with _acting_for(cause):
                    self.desk_to_rule[key.encode()] = rule.model_dump(mode="json")
        finally:
            self._pending = _Pending()

    async def handle(self, event: faust.EventT[bytes]) -> None:
        """Decide one command record into the batch; never raises (a failure is dead-lettered)."""
        cause, error, wire = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await self.dead.send(event, error.reason, error.fields)
            header = header_envelope(wire) if wire else None
            if header is not None and header.type != EscalateAlert.type:
                errors = tuple(FieldError(field=f, message=error.reason) for f in error.fields)
                outcome = CommandRejected(
                    command_type=header.type,
                    command_id=header.id,
                    status=422,
                    reason=error.reason,
                    errors=errors,
                )
                self._pending.envelopes.append(addressed_envelope(header, outcome, SOURCE, 0, 0))
            return
        if not isinstance(cause.data, Command):
            await self.dead.send(event, f"{cause.type} is an event, not a command", ["type"])
            return
        if event.key != cause.jit.encode():
            self._pending.commands.append(cause)
            log.info("alert command re-keyed by its JIT", event_id=cause.id, type=cause.type)
            return

        async def apply() -> None:
            self._apply(cause, event, await self._decided(cause))

        await POLICY.guarded(
            cause.type, apply, lambda reason, fields: self.dead.send(event, reason, fields)
        )

    async def _decided(self, cause: Envelope) -> list[Event | Addressed] | Rejected:
        now = datetime.now(UTC)
        try:
            if isinstance(cause.data, EscalateAlert):
                alert = self._alert(cause.data.alert_id, cause.jit)
                return domain.due(alert, now=now, policy=self.policy)
            return await self._decide(cause, now)
        except Rejected as refusal:
            return refusal

    async def _decide(self, cause: Envelope, now: datetime) -> list[Event | Addressed]:
        command = cause.data
        if command.actor.team != cause.originator:
            raise Rejected(
                403,
                f"actor team {command.actor.team} is not the command's originator "
                f"{cause.originator}",
            )
        if isinstance(command, RaiseAlert | SetDeskRule | SetDeskEscalation) and (
            command.jit != cause.jit
        ):
            message = f"the command's JIT {command.jit} is not the envelope's {cause.jit}"
            raise Rejected(422, message, (FieldError(field="jit", message=message),))
        if isinstance(command, RaiseAlert):
            directory = await self._view(cause.jit, command.target_teams)
            rules = {
                team: rule
                for team in (*command.target_teams, JIT_WIDE)
                if (rule := self._rule(desk_rule_subject(cause.jit, team))) is not None
            }
            dedup = (
                self._dedup(dedup_subject(cause.jit, command.dedup_key))
                if command.dedup_key is not None
                else None
            )
            return domain.decide(
                self._alert(command.alert_id, cause.jit),
                command,
                now=now,
                policy=self.policy,
                directory=directory,
                rules=rules,
                dedup=dedup,
            )
        if isinstance(command, AcknowledgeAlert | ResolveAlert):
            return domain.decide(
                self._alert(command.alert_id, cause.jit),
                command,
                now=now,
                policy=self.policy,
                directory=None,
            )
        if isinstance(command, SetDeskRule | SetDeskEscalation):
            directory = await self._view(cause.jit, ())
            return domain.decide_rule(
                self._rule(desk_rule_subject(cause.jit, command.team)),
                command,
                directory=directory,
            )
        raise Rejected(422, f"{cause.type} is not an alert command")

    def _apply(
        self,
        cause: Envelope,
        record: faust.EventT[bytes],
        decided: list[Event | Addressed] | Rejected,
    ) -> None:
        """Add a command's events, outcome and state changes to the batch."""
        tick = isinstance(cause.data, EscalateAlert)
        if isinstance(decided, Rejected):
            outcome = CommandRejected(
                command_type=cause.type,
                command_id=cause.id,
                status=decided.status,
                reason=decided.reason,
                errors=decided.errors,
            )
            self._pending.envelopes.append(addressed_envelope(cause, outcome, SOURCE, 0, 0))
            if cause.data.actor.member.endswith("-service"):
                log.warning(
                    "raise for another context refused",
                    event_id=cause.id,
                    status=decided.status,
                    reason=decided.reason[:200],
                )
            return
        alerts: dict[str, AlertState] = {}
        entries: dict[str, DedupEntry | None] = {}
        rules: dict[str, DeskRule] = {}
        envelopes: list[Envelope] = []
        for index, item in enumerate(decided, start=1):
            addressed = item if isinstance(item, Addressed) else Addressed(item)
            event = addressed.event
            subject = addressed.subject or cause.subject
            if isinstance(event, DeskRuleSet | DeskEscalationSet):
                rule = domain.evolve_rule(
                    rules[subject] if subject in rules else self._rule(subject), event
                )
                rules[subject] = rule
                version = rule.version
            else:
                state = alerts[subject] if subject in alerts else self._alert(subject)
                new = domain.evolve(state, event)
                alerts[subject] = new
                if new.dedup_key is not None:
                    key = dedup_subject(new.jit, new.dedup_key)
                    entry = entries[key] if key in entries else self._dedup(key)
                    entries[key] = domain.evolve_dedup(entry, event)
                version = new.version
            envelopes.append(addressed_envelope(cause, item, SOURCE, index, version))
        if not tick:
            accepted = CommandAccepted(
                command_type=cause.type,
                command_id=cause.id,
                events=tuple(e.id for e in envelopes),
            )
            envelopes.append(addressed_envelope(cause, accepted, SOURCE, 0, 0))
        batch = self._pending
        batch.envelopes.extend(envelopes)
        batch.alerts.update((k, (v, record)) for k, v in alerts.items())
        batch.entries.update((k, (v, record)) for k, v in entries.items())
        batch.rules.update((k, (v, record)) for k, v in rules.items())
        log.debug(
            "alert command handled",
            event_id=cause.id,
            correlation_id=cause.correlation_id,
            team=cause.originator,
            type=cause.type,
            events=len(envelopes),
        )

    # the escalation timer ---------------------------------------------------------------------

    async def check_escalations(self) -> None:
        """Publish a tick for each open alert past its escalation time (at most every few s)."""
        now = datetime.now(UTC)
        clock = time.monotonic()
        quiet = max(5 * self.alerts.escalation_check_seconds, 2.0)
        due: list[Envelope] = []
        for key, value in list(self.alert_to_state.items()):
            if not isinstance(value, dict) or value.get("status") != AlertStatus.OPEN.value:
                continue
            at = value.get("escalates_at")
            if not at or datetime.fromisoformat(at) > now:
                continue
            alert_id = key.decode() if isinstance(key, bytes) else str(key)
            if clock - self._ticked.get(alert_id, -math.inf) < quiet:
                continue
            self._ticked[alert_id] = clock
            due.append(escalation_tick(AlertState.model_validate(value)))
        for alert_id, at in list(self._ticked.items()):
            if clock - at > 10 * quiet:
                del self._ticked[alert_id]
        if due:
            await self.send_commands(due)
            log.info("escalation ticks sent", count=len(due))


# --- raising for other contexts, and webhooks --------------------------------------------------


class Causes:
    """Turns other contexts' events into alert commands."""

    def __init__(self, writer: AlertWriter) -> None:
        self.writer = writer

    async def handle(self, event: faust.EventT[bytes]) -> None:
        cause, error, _ = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            await self.writer.dead.refuse(event, error)
            return
        commands = raises_for(cause)
        if commands:
            await POLICY.retrying(
                f"raise for {cause.type}", lambda: self.writer.send_commands(commands)
            )


class Webhooks:
    """Sends pages and escalations to the teams' webhook receivers, off the alert event stream.

    Deliveries run concurrently (up to the configured number); each record is acknowledged once
    all its deliveries have ended, so a crash redelivers a page rather than losing it.
    """

    def __init__(self, writer: AlertWriter, alerts: AlertsSettings, directory: Directory) -> None:
        self.writer = writer
        self.directory = directory
        self.victims = Victims(writer.settings, name="alerts-webhook-victims").start()
        self.sender = WebhookSender(
            alerts, source=SOURCE, publish=writer.publish_confirmed, victims=self.victims
        )
        self.slots = asyncio.Semaphore(alerts.webhook_concurrency)
        self.raised = RaisedAlerts()
        self.seen = SeenEvents()
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, event: faust.EventT[bytes]) -> bool:
        """Start the deliveries for one alert event; False when it is done with at once."""
        cause, error, _ = decode_or_explain(event.value)
        if cause is None:
            assert error is not None
            log.warning("unreadable alert event", reason=error.reason[:200])
            return False
        message = event.message
        if not self.seen.first(cause.id, message.partition, message.offset):
            return False
        if isinstance(cause.data, AlertRaised):
            self.raised.remember(cause)
            return False
        targets = [
            (team, url)
            for team in sorted(webhook_teams(cause))
            if (url := routing.webhook_url(self.directory.book, team)) is not None
        ]
        if not targets:
            return False
        raised = self.raised.get(cause.data.alert_id)
        for _ in targets:
            await self.slots.acquire()

        async def dead_letter(reason: str) -> None:
            await self.writer.dead.send(event, reason)

        async def deliver() -> None:
            try:
                await asyncio.gather(
                    *(
                        self.sender.deliver(cause, raised, team, url, dead_letter)
                        for team, url in targets
                    )
                )
            except Exception:  # the record is acknowledged; the failure is logged, not lost
                log.exception("webhook delivery crashed", event_id=cause.id)
            finally:
                for _ in targets:
                    self.slots.release()
                event.ack()

        task = asyncio.ensure_future(deliver())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return True


def _unacked(stream: faust.StreamT[bytes]) -> AsyncIterator[faust.EventT[bytes]]:
    """The stream's events, each to be acknowledged by the handler once its work is done."""
    events: AsyncIterator[faust.EventT[bytes]] = cast(Any, stream).noack().events()
    return events


def build(settings: Settings, alerts: AlertsSettings | None = None) -> faust.App:
    """The alerts worker: one writer per JIT, escalation timer, raises for other contexts,
    webhooks."""
    alerts = alerts or load_alerts_settings()
    app = create_app(
        "alerts",
        settings,
        broker_session_timeout=alerts.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, alerts.session_timeout_seconds / 3),
    )
    directory = Directory(settings, name="alerts")
    directory.start()
    writer = AlertWriter(app, settings, alerts, directory)
    causes = Causes(writer)
    webhooks = Webhooks(writer, alerts, directory)
    mails = MailPages(
        MailPager(
            alerts, lambda team: routing.on_call(directory.book, team), victims=webhooks.victims
        ),
        writer.dead.send,
    )

    async def apply_alert_commands(stream: faust.StreamT[bytes]) -> Any:
        batches = stream.take_events(alerts.command_batch_size, within=alerts.command_batch_seconds)
        async for events in batches:  # each acknowledged once handle_batch returns
            await in_batches(events, writer.handle_batch, writer.dead.send)

    async def raise_for_causes(stream: faust.StreamT[bytes]) -> Any:
        async for event in _unacked(stream):
            await POLICY.guarded(
                "raise for causes",
                lambda event=event: causes.handle(event),  # type: ignore[misc]
                lambda reason, fields, event=event: writer.dead.send(event, reason, fields),  # type: ignore[misc]
            )
            event.ack()

    async def deliver_webhooks(stream: faust.StreamT[bytes]) -> Any:
        async for event in _unacked(stream):
            started = await POLICY.guarded(
                "webhooks",
                lambda event=event: webhooks.handle(event),  # type: ignore[misc]
                lambda reason, fields, event=event: writer.dead.send(event, reason, fields),  # type: ignore[misc]
            )
            if not started:
                event.ack()

    async def mail_pages(stream: faust.StreamT[bytes]) -> Any:
        async for event in _unacked(stream):
            await mails.handle(event)

    if alerts.smtp_host is not None:
        app.agent(raw_topic(app, settings, ALERT_EVENTS), name=f"{app.conf.id}.mail-pages")(
            mail_pages
        )
    app.agent(raw_topic(app, settings, ALERT_COMMANDS), name=f"{app.conf.id}.alert-commands")(
        apply_alert_commands
    )
    app.agent(
        app.topic(
            *(settings.topic(t.name) for t in (DECONFLICTION_EVENTS, TASK_EVENTS, LEAD_EVENTS)),
            key_serializer="raw",
            value_serializer="raw",
        ),
        name=f"{app.conf.id}.raise-for-causes",
    )(raise_for_causes)
    app.agent(raw_topic(app, settings, ALERT_EVENTS), name=f"{app.conf.id}.webhooks")(
        deliver_webhooks
    )
    app.timer(alerts.escalation_check_seconds, name=f"{app.conf.id}.escalations")(
        writer.check_escalations
    )
    return app
