"""Signed webhooks (in the alerts worker): the desk message of each page and escalation, posted to
the team's receiver with retries and receipts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from events.alerts import AlertDelivered, DeliveryChannel, WebhookDeliveryFailed
from events.codec import follow
from events.envelope import Envelope, Payload
from services.alerts.delivery import RaisedAlert, VictimBooks, desk_message
from services.alerts.settings import AlertsSettings
from services.alerts.signing import host_of, sign
from services.kit.logging import get_logger

log = get_logger()


Publish = Callable[[Sequence[Envelope]], Awaitable[None]]
DeadLetter = Callable[[str], Awaitable[None]]


class WebhookSender:
    """Posts signed desk messages to the teams' webhook receivers, with retries and receipts.

    A delivery ends in one ``AlertDelivered(channel=webhook)`` or, after the last try, a
    ``WebhookDeliveryFailed(final=True)`` plus a dead-letter record; each failed try before
    that is a ``WebhookDeliveryFailed`` with the next attempt's time. Their ids derive from the
    delivered event's id, team and attempt, so a redelivered page (at-least-once) repeats
    the same receipts, which consumers drop by id; receivers drop a repeated message by its
    event id.
    """

    def __init__(
        self,
        alerts: AlertsSettings,
        *,
        source: str,
        publish: Publish,
        rng: Callable[[], float] = random.random,
        victims: VictimBooks | None = None,
    ) -> None:
        self.alerts = alerts
        self.source = source
        self.publish = publish
        self.victims = victims
        self.policy = alerts.retry_policy()
        self.rng = rng
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.alerts.webhook_timeout_seconds, follow_redirects=False
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _receipt(self, cause: Envelope, payload: Payload, team: str, index: int) -> Envelope:
        from services.kit.streams import derived_id

        envelope = follow(
            cause,
            payload,
            source=self.source,
            subject=cause.subject,
            aggregate_version=cause.aggregate_version,
            releasable_to=frozenset({team}),
        )
        return envelope.model_copy(update={"id": derived_id(f"{cause.id}/webhook/{team}", index)})

    async def deliver(
        self,
        cause: Envelope,
        raised: RaisedAlert | None,
        team: str,
        url: str,
        dead_letter: DeadLetter,
    ) -> bool:
        """Deliver one desk message to ``team``'s receiver; True once it answered 2xx."""
        body = desk_message(cause, raised, team, self.victims).encode()
        host = host_of(url)
        alert_id: str = cause.data.alert_id
        secret = self.alerts.webhook_secret_for(team)
        attempt = 0
        while True:
            attempt += 1
            now = datetime.now(UTC)
            headers = {
                "Content-Type": "application/json",
                "Interlock-Event-Id": cause.id,
                "Interlock-Event-Type": cause.type,
                "Interlock-Attempt": str(attempt),
                **sign(secret, now, body),
            }
            error: str
            status: int | None = None
            try:
                response = await self.client.post(url, content=body, headers=headers)
                status = response.status_code
                if 200 <= status < 300:
                    reference = response.headers.get("x-request-id")
                    delivered = AlertDelivered(
                        alert_id=alert_id,
                        team=team,
                        channel=DeliveryChannel.WEBHOOK,
                        delivered_at=datetime.now(UTC),
                        attempts=attempt,
                        reference=reference[:256] if reference else None,
                        status_code=status,
                    )
                    await self.publish([self._receipt(cause, delivered, team, 0)])
                    log.info(
                        "webhook delivered",
                        event_id=cause.id,
                        alert_id=alert_id,
                        team=team,
                        host=host,
                        attempts=attempt,
                    )
                    return True
                error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}".replace(url, host)
            delay = self.policy.next_delay(attempt, random=self.rng)
            final = delay is None
            failed = WebhookDeliveryFailed(
                alert_id=alert_id,
                team=team,
                host=host,
                attempts=attempt,
                last_error=error[:500] or "failed",
                final=final,
                next_attempt_at=None if delay is None else now + timedelta(seconds=delay),
            )
            await self.publish([self._receipt(cause, failed, team, attempt)])
            log.warning(
                "webhook attempt failed",
                event_id=cause.id,
                alert_id=alert_id,
                team=team,
                host=host,
                attempts=attempt,
                status_code=status,
                final=final,
            )
            if delay is None:
                await dead_letter(
                    f"webhook delivery of {cause.type} to {host} for {team} failed after "
                    f"{attempt} attempts"
                )
                return False
            await asyncio.sleep(delay)
