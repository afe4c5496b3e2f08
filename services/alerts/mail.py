"""E-mail pages to the desks' on-call addresses over SMTP, with retries and a dead letter.

Off the alert event stream, like the webhooks: each page (services/alerts/paging.py says which
events, when, and what they say) waits its turn — a P1 none, others the mail delay, given up
when the alert is acknowledged or resolved meanwhile — then goes to the SMTP server. A failed
try is retried with full-jitter backoff; after the last one the record goes to the dead-letter
topic with the reason. The record is acknowledged only once its page has ended, so a crash
sends the page again rather than losing it (a desk may get a page twice, never none).
"""

from __future__ import annotations

import asyncio
import random
import smtplib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

from events.alerts import AlertAcknowledged, AlertRaised, AlertResolved
from events.envelope import Envelope
from services.alerts.paging import MailPolicy, VictimBooks, compose, mailed_desk
from services.alerts.settings import AlertsSettings
from services.alerts.signing import RetryPolicy
from services.kit.logging import get_logger

log = get_logger()

KEPT = 20_000
"""Raises and settled alert ids remembered (bounded)."""

DeadLetter = Callable[[str], Awaitable[None]]
Addresses = Callable[[str], tuple[str, ...]]


class SmtpSender:
    """Sends one message to the configured SMTP server, retrying; False once it gave up."""

    def __init__(
        self,
        alerts: AlertsSettings,
        *,
        rng: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.alerts = alerts
        self.policy = RetryPolicy(
            base=alerts.mail_backoff_seconds,
            cap=alerts.webhook_backoff_cap_seconds,
            max_attempts=alerts.mail_max_attempts,
        )
        self.rng = rng
        self.sleep = sleep

    def _send(self, message: EmailMessage) -> None:
        host = self.alerts.smtp_host
        assert host is not None
        with smtplib.SMTP(
            host, self.alerts.smtp_port, timeout=self.alerts.smtp_timeout_seconds
        ) as smtp:
            smtp.send_message(message)

    async def send(self, message: EmailMessage, dead_letter: DeadLetter) -> bool:
        attempts = 0
        while True:
            attempts += 1
            try:
                await asyncio.to_thread(self._send, message)
            except (OSError, smtplib.SMTPException) as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:200]}"
                wait = self.policy.next_delay(attempts, random=self.rng)
                log.warning(
                    "desk e-mail failed",
                    attempt=attempts,
                    event_id=message["X-Interlock-Event"],
                    reason=reason,
                    final=wait is None,
                )
                if wait is None:
                    await dead_letter(f"e-mail page failed after {attempts} tries: {reason}")
                    return False
                await self.sleep(wait)
                continue
            log.info("desk e-mail sent", attempts=attempts, event_id=message["X-Interlock-Event"])
            return True


class MailPager:
    """Decides, waits for and sends the e-mail pages of the alert event stream."""

    def __init__(
        self,
        alerts: AlertsSettings,
        addresses: Addresses,
        *,
        sender: SmtpSender | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        victims: VictimBooks | None = None,
    ) -> None:
        self.alerts = alerts
        self.addresses = addresses
        self.victims = victims
        self.policy = MailPolicy(delay=alerts.mail_delay())
        self.sender = sender or SmtpSender(alerts)
        self.sleep = sleep
        self._raised: OrderedDict[str, Envelope] = OrderedDict()
        self._settled: OrderedDict[str, None] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.alerts.smtp_host is not None

    def _keep(self, items: OrderedDict[str, object], key: str, value: object) -> None:
        items[key] = value
        while len(items) > KEPT:
            items.popitem(last=False)

    def settled(self, alert_id: str) -> bool:
        return alert_id in self._settled

    def page(self, envelope: Envelope, dead_letter: DeadLetter) -> Awaitable[bool] | None:
        """Note a raise or a settlement; for a page owed by e-mail, the work that sends it."""
        data = envelope.data
        if isinstance(data, AlertRaised):
            self._keep(self._raised, data.alert_id, envelope)  # type: ignore[arg-type]
            return None
        if isinstance(data, AlertAcknowledged | AlertResolved):
            self._keep(self._settled, data.alert_id, None)  # type: ignore[arg-type]
            return None
        team = mailed_desk(envelope)
        if team is None or not self.enabled:
            return None
        addresses = self.addresses(team)
        if not addresses:
            return None
        alert_id = str(data.alert_id)
        raised = self._raised.get(alert_id)
        severity = getattr(data, "severity", None) or (
            raised.data.severity if raised is not None else None
        )
        wait = self.policy.wait(severity).total_seconds() if severity is not None else 0.0

        async def send() -> bool:
            if wait > 0:
                await self.sleep(wait)
                if self.settled(alert_id):
                    log.info("desk e-mail not needed: acknowledged", alert_id=alert_id)
                    return False
            # Composed when it leaves, so a victim recorded while it waited is redacted too.
            message = compose(
                page=envelope,
                raised=raised,
                team=team,
                addresses=addresses,
                sender=self.alerts.smtp_sender,
                desk_url=f"{self.alerts.desk_base_url.rstrip('/')}/ui/jits/{envelope.jit}/desk",
                victims=self.victims,
            )
            return await self.sender.send(message, dead_letter)

        return send()


class MailPages:
    """The e-mail agent's loop body: one alert event record at a time, acknowledged when its
    page (if any) has ended; pages wait and send concurrently."""

    def __init__(self, pager: MailPager, dead: Callable[[Any, str], Awaitable[None]]) -> None:
        self.pager = pager
        self.dead = dead
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, record: Any) -> None:
        """``record`` is a stream event with ``value`` (the CloudEvent bytes) and ``ack()``."""
        from services.kit.streams import decode_or_explain

        cause, _, _ = decode_or_explain(record.value)
        work = None
        if cause is not None:

            async def dead_letter(reason: str) -> None:
                await self.dead(record, reason)

            try:
                work = self.pager.page(cause, dead_letter)
            except Exception:  # a bad page must not stop the stream
                log.exception("desk e-mail could not be composed", event_id=cause.id)
        if work is None:
            record.ack()
            return

        async def finish(work: Awaitable[bool] = work) -> None:
            try:
                await work
            except Exception:  # acknowledged: the failure is logged
                log.exception("desk e-mail crashed", event_id=cause.id if cause else None)
            finally:
                record.ack()

        task = asyncio.ensure_future(finish())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
