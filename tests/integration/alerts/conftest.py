"""Fixtures for the alerts integration tests: the alerts worker and the gateway restarted (once
for the package) with deadlines of seconds, fast webhook retries and a tiny desk ring; a local
webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.platform import Platform
from tests.support.smtp import SmtpInbox

from .support import WEBHOOK_MASTER_SECRET, Jit, WebhookReceiver, register_jit

P1_SECONDS = 4
SHORT = {
    "INTERLOCK_ALERTS_P1_SECONDS": str(P1_SECONDS),
    "INTERLOCK_ALERTS_P2_SECONDS": "30",
    "INTERLOCK_ALERTS_P3_SECONDS": "60",
    "INTERLOCK_ALERTS_DEDUP_WINDOW_SECONDS": "60",
    "INTERLOCK_ALERTS_ESCALATION_CHECK_SECONDS": "0.5",
    "INTERLOCK_ALERTS_SESSION_TIMEOUT_SECONDS": "6",
    "INTERLOCK_ALERTS_WEBHOOK_SECRET": WEBHOOK_MASTER_SECRET,
    "INTERLOCK_ALERTS_WEBHOOK_BACKOFF_SECONDS": "0.2",
    "INTERLOCK_ALERTS_WEBHOOK_BACKOFF_CAP_SECONDS": "0.5",
    "INTERLOCK_ALERTS_WEBHOOK_MAX_ATTEMPTS": "3",
    "INTERLOCK_ALERTS_SSE_RING_SIZE": "3",
    "INTERLOCK_ALERTS_SSE_PING_SECONDS": "1",
}
"""Settings for these tests: a P1 escalates after 4 s; a desk ring holds 3 messages, so a
reconnect that missed more is replayed from Kafka."""


def _restart(platform: Platform, roles: tuple[str, ...]) -> None:
    for role in roles:
        platform.stop(role)
    for role in roles:
        platform.start(role)
    platform.wait_ready(roles)


MAIL_DELAY_SECONDS = 3
"""How long a page below P1 waits for an acknowledgement before it is e-mailed, here."""


@pytest.fixture(scope="package")
def smtp() -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) the alerts worker e-mails desk pages through."""
    inbox = SmtpInbox().start()
    try:
        yield inbox
    finally:
        inbox.stop()


@pytest.fixture(scope="package")
def alerts(platform: Platform, smtp: SmtpInbox) -> Iterator[Platform]:
    """The platform with the alerts worker and gateway running on these tests' settings."""
    short = {
        **SHORT,
        "INTERLOCK_ALERTS_SMTP_HOST": "127.0.0.1",
        "INTERLOCK_ALERTS_SMTP_PORT": str(smtp.port),
        "INTERLOCK_ALERTS_MAIL_DELAY_SECONDS": str(MAIL_DELAY_SECONDS),
        "INTERLOCK_ALERTS_MAIL_BACKOFF_SECONDS": "0.2",
    }
    saved = {k: platform.env.get(k) for k in short}
    platform.env.update(short)
    _restart(platform, ("alerts", "gateway"))
    try:
        yield platform
    finally:
        for key, value in saved.items():
            if value is None:
                platform.env.pop(key, None)
            else:
                platform.env[key] = value
        _restart(platform, ("alerts", "gateway"))


@pytest.fixture(scope="package")
def receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint that verifies signatures; RO-like teams listed in ``fail``
    answer 503."""
    running = WebhookReceiver().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def jit(alerts: Platform, issuer: Any) -> Jit:
    """A fresh JIT with desks (no webhooks) for NL, RO and the coordinator team."""
    return register_jit(alerts, issuer)
