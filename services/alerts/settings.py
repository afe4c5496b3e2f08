"""Settings of the alerts worker and desk streams (``INTERLOCK_ALERTS_*``), besides the shared ones.

Deadlines are in seconds so that a test (or a drill) can shorten them through the environment.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.alerts.domain import EscalationPolicy
from services.alerts.signing import RetryPolicy
from services.kit.settings import read_settings


class AlertsSettings(BaseSettings):
    """Acknowledgement deadlines, de-duplication, webhook retries and the desk streams."""

    model_config = SettingsConfigDict(env_prefix="INTERLOCK_ALERTS_", extra="ignore", frozen=True)

    p1_seconds: float = Field(default=300, gt=0, description="P1 acknowledgement deadline.")
    p2_seconds: float = Field(default=900, gt=0, description="P2 acknowledgement deadline.")
    p3_seconds: float = Field(default=3600, gt=0, description="P3 acknowledgement deadline.")
    repage_seconds: float = Field(
        default=300,
        gt=0,
        description="After the last escalation step, how often it is paged again until "
        "someone acknowledges.",
    )
    dedup_window_seconds: float = Field(
        default=600, gt=0, description="How long after its last sighting a repeat is folded."
    )
    escalation_check_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the timer looks for overdue alerts."
    )
    command_batch_size: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="Most alert commands decided in one batch. A batch's events leave only when "
        "all of it is decided, so under load the first alert of a batch waits for the others "
        "(about 2 ms each): 50 keeps that wait near 100 ms, at a few percent of throughput.",
    )
    command_batch_seconds: float = Field(
        default=0.005,
        gt=0,
        le=1,
        description="How long a batch waits to fill: the latency paid for one broker "
        "round trip per batch instead of per command.",
    )
    session_timeout_seconds: float = Field(
        default=10.0,
        ge=6,
        le=300,
        description="How long Kafka waits for a silent worker before giving its JITs to another.",
    )
    directory_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long a command waits for the directory to catch up with a JIT or desk "
        "it does not know yet, before it is refused.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr("dev-only-webhook-master-secret"),
        description="Master secret; each team's webhook secret is derived from it.",
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_backoff_seconds: float = Field(
        default=1.0, gt=0, description="Upper bound of the first retry's delay (full jitter)."
    )
    webhook_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_concurrency: int = Field(
        default=64, ge=1, le=10_000, description="Webhook deliveries in flight per worker."
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that e-mails pages to the desks' on-call addresses; none: no "
        "e-mail pages.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65_535)
    smtp_sender: str = Field(
        default="interlock-desk@localhost", min_length=3, description="The pages' From address."
    )
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mail_delay_seconds: float = Field(
        default=300,
        ge=0,
        description="How long a page below P1 waits for an acknowledgement before it is also "
        "e-mailed (a P1 is e-mailed at once).",
    )
    mail_max_attempts: int = Field(default=5, ge=1, le=50)
    mail_backoff_seconds: float = Field(
        default=1.0, gt=0, description="Upper bound of the first e-mail retry's delay."
    )
    desk_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where the web UI is reached; e-mail pages link to the desk there.",
    )
    sse_window_seconds: float = Field(
        default=3600,
        ge=0,
        description="How far back the gateway's desk hub starts reading alert events.",
    )
    sse_ring_size: int = Field(
        default=2_000, ge=1, description="Desk messages kept per team for reconnects."
    )
    sse_replay_limit: int = Field(
        default=5_000,
        ge=1,
        description="Most messages replayed on one reconnect; the stream then ends and the "
        "client's next reconnect continues from there.",
    )
    sse_queue_size: int = Field(
        default=10_000,
        ge=1,
        description="Messages buffered for a slow client before its stream is closed "
        "(it reconnects with Last-Event-ID and loses nothing).",
    )
    sse_ping_seconds: float = Field(default=15.0, gt=0)

    def escalation_policy(self) -> EscalationPolicy:
        return EscalationPolicy(
            p1=timedelta(seconds=self.p1_seconds),
            p2=timedelta(seconds=self.p2_seconds),
            p3=timedelta(seconds=self.p3_seconds),
            dedup_window=timedelta(seconds=self.dedup_window_seconds),
            repage=timedelta(seconds=self.repage_seconds),
        )

    def mail_delay(self) -> timedelta:
        return timedelta(seconds=self.mail_delay_seconds)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base=self.webhook_backoff_seconds,
            cap=self.webhook_backoff_cap_seconds,
            max_attempts=self.webhook_max_attempts,
        )

    def webhook_secret_for(self, team: str) -> str:
        """The secret a team's webhook receiver verifies signatures with.

        Derived from the master secret, so no per-team secret travels on Kafka or sits in the
        directory; the administrator hands each national system its own.
        """
        return webhook_secret(self.webhook_secret.get_secret_value(), team)


def webhook_secret(master: str, team: str) -> str:
    """HMAC-SHA256 of the team code under the master secret, hex."""
    return hmac.new(master.encode(), f"webhook:{team}".encode(), hashlib.sha256).hexdigest()


def load_alerts_settings() -> AlertsSettings:
    """Read the alerts settings; a bad value stops the process naming the variable."""
    return read_settings(AlertsSettings)
