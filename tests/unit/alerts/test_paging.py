"""E-mail pages: which events, when, what they say (services/alerts/paging.py), and the sender's
retries and dead letter (services/alerts/mail.py) with the SMTP call replaced."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from events.alerts import (
    AlertAcknowledged,
    AlertEscalated,
    AlertRaised,
    AlertRouted,
    Category,
    EscalationTarget,
    RouteBasis,
    Severity,
)
from events.codec import envelop
from events.envelope import Envelope, Payload
from events.handling import Handling, HandlingCode, Tlp
from services.alerts.mail import MailPager, SmtpSender
from services.alerts.paging import MailPolicy, compose, mailed_desk
from services.alerts.settings import AlertsSettings
from services.kit.disclosure import Victim, VictimBook

T0 = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
JIT = "jit-ember"
ALERTS = AlertsSettings(
    smtp_host="smtp.test", mail_delay_seconds=120, mail_max_attempts=3, mail_backoff_seconds=0.1
)


def _env(payload: Payload, *, tlp: Tlp = Tlp.AMBER, to: tuple[str, ...] = ("NL-KLPD",)) -> Envelope:
    return envelop(
        payload,
        subject="alert-1",
        jit=JIT,
        originator="RO-DIICOT",
        source="/test",
        correlation_id="c-1",
        releasable_to=frozenset(to),
        handling=Handling(code=HandlingCode.H1, tlp=tlp),
    )


def _raised(severity: Severity = Severity.P1, tlp: Tlp = Tlp.AMBER) -> Envelope:
    return _env(
        AlertRaised(
            alert_id="alert-1", jit=JIT, severity=severity, category=Category.OFFICER_SAFETY,
            target_teams=("NL-KLPD",), summary="Two teams' operations meet at Venlo at 06:00",
            raised_by="ioana", raising_team="RO-DIICOT", raised_at=T0,
            acknowledge_by=T0 + timedelta(minutes=5), coordinator_team="NL-KLPD",
            handling=Handling(code=HandlingCode.H1, tlp=tlp),
        ),
        tlp=tlp,
    )  # fmt: skip


def _routed() -> Envelope:
    return _env(
        AlertRouted(
            alert_id="alert-1", team="NL-KLPD", desk="desk:NL-KLPD", basis=RouteBasis.DEFAULT
        )
    )


def test_pages_and_coordinator_escalations_are_mailed_to_that_desk() -> None:
    """A route mails its team's desk, an escalation to the coordinator desk mails that desk,
    a team-lead escalation and an acknowledgement mail nobody."""
    assert mailed_desk(_routed()) == "NL-KLPD"
    coordinator = AlertEscalated(
        alert_id="alert-1", step=2, to=EscalationTarget.COORDINATOR_DESK, team="BE-FGP",
        severity=Severity.P2, category=Category.OTHER, at=T0, acknowledge_by=T0, repeat=2,
    )  # fmt: skip
    assert mailed_desk(_env(coordinator)) == "BE-FGP"
    lead = coordinator.model_copy(update={"step": 1, "to": EscalationTarget.TEAM_LEAD})
    assert mailed_desk(_env(lead)) is None
    assert mailed_desk(_env(AlertAcknowledged(alert_id="a", by="x", team="NL-KLPD", at=T0))) is None


def test_a_p1_is_mailed_at_once_others_after_the_delay() -> None:
    """P1 waits for nothing; P2-P4 wait the configured delay."""
    policy = MailPolicy(delay=timedelta(minutes=3))
    assert policy.wait(Severity.P1) == timedelta(0)
    assert {policy.wait(s) for s in (Severity.P2, Severity.P3, Severity.P4)} == {
        timedelta(minutes=3)
    }


class _Books:
    """The JIT's victims as services.kit.victims gives them: one RO-DIICOT recorded."""

    def __init__(self, *victims: Victim) -> None:
        self.victims = victims

    def book(self, jit: str, teams: tuple[str, ...] | list[str] = ()) -> VictimBook:
        return VictimBook(self.victims)


NO_VICTIMS = _Books()


def _compose(raised: Envelope, victims: _Books | None = NO_VICTIMS) -> EmailMessage:
    return compose(
        page=_routed(), raised=raised, team="NL-KLPD", addresses=("duty@politie.test",),
        sender="desk@interlock.test", desk_url="https://interlock.test/ui/jits/jit-ember/desk",
        victims=victims,
    )  # fmt: skip


def test_a_victim_another_team_recorded_is_redacted_from_the_mail() -> None:
    """A victim RO-DIICOT recorded, named in the summary, reaches NL-KLPD's mailbox only as its
    pseudonym (the disclosure policy's redactor), in the subject and in the body."""
    victim = Victim(entity_id="p-1", team="RO-DIICOT", names=("Maria Popescu",))
    raised = _raised()
    data = raised.data.model_copy(update={"summary": "Maria Popescu moved to Venlo at 06:00"})
    message = _compose(raised.model_copy(update={"data": data}), _Books(victim))
    text = message["Subject"] + message.get_content()
    assert "Popescu" not in text and "Maria" not in text
    assert "moved to Venlo at 06:00" in message["Subject"]


def test_without_the_jits_victims_the_mail_withholds_another_teams_words() -> None:
    """When the pager has no victims to redact with, another team's summary does not leave."""
    message = _compose(_raised(), victims=None)
    assert "Venlo" not in message["Subject"] + message.get_content()
    assert message["Subject"] == "[Interlock] An alert waits on the NL-KLPD desk"


def test_the_mail_carries_the_alert_with_its_marking_where_the_policy_allows() -> None:
    """An AMBER alert's mail has severity, summary, deadline, the marking and the desk link."""
    message = _compose(_raised())
    body = message.get_content()
    assert message["Subject"] == "[P1 officer safety] Two teams' operations meet at Venlo at 06:00"
    assert message["To"] == "duty@politie.test"
    assert "Acknowledge by: 2026-03-02 14:10 UTC" in body
    assert "TLP:AMBER / H1:" in body
    assert "https://interlock.test/ui/jits/jit-ember/desk" in body


def test_a_red_alert_mail_says_only_that_an_alert_waits() -> None:
    """TLP:RED may not leave the platform by e-mail: the mail names no content, only the desk."""
    message = _compose(_raised(tlp=Tlp.RED))
    body = message.get_content()
    assert "Venlo" not in body and "Venlo" not in message["Subject"]
    assert message["Subject"] == "[Interlock] An alert waits on the NL-KLPD desk"


class _Sent(SmtpSender):
    def __init__(self, failures: int) -> None:
        async def no_wait(_: float) -> None:
            return None

        super().__init__(ALERTS, rng=lambda: 0.5, sleep=no_wait)
        self.failures = failures
        self.sent: list[EmailMessage] = []
        self.tries = 0

    def _send(self, message: EmailMessage) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise ConnectionRefusedError("SMTP server down")
        self.sent.append(message)


def test_a_failed_send_is_retried_then_dead_lettered_with_the_reason() -> None:
    """Two failures then success: sent once; more failures than tries: dead-lettered."""
    dead: list[str] = []

    async def dead_letter(reason: str) -> None:
        dead.append(reason)

    flaky = _Sent(failures=2)
    assert asyncio.run(flaky.send(EmailMessage(), dead_letter)) is True
    assert (flaky.tries, len(flaky.sent), dead) == (3, 1, [])
    down = _Sent(failures=99)
    assert asyncio.run(down.send(EmailMessage(), dead_letter)) is False
    assert down.tries == ALERTS.mail_max_attempts
    assert dead == ["e-mail page failed after 3 tries: ConnectionRefusedError: SMTP server down"]


def test_an_acknowledged_p2_is_not_mailed_an_unacknowledged_one_is() -> None:
    """A P2 page waits; acknowledged meanwhile it is dropped, otherwise it is sent."""
    waited: list[float] = []

    async def run(acknowledged: bool) -> _Sent:
        sender = _Sent(failures=0)

        async def wait(seconds: float) -> None:
            waited.append(seconds)
            if acknowledged:
                pager.page(_env(AlertAcknowledged(alert_id="alert-1", by="joost",
                                                  team="NL-KLPD", at=T0)), dead)  # fmt: skip

        async def dead(_: str) -> None:
            return None

        pager = MailPager(ALERTS, lambda team: (f"duty@{team}.test",), sender=sender, sleep=wait)
        assert pager.page(_raised(Severity.P2), dead) is None
        work = pager.page(_routed(), dead)
        assert work is not None
        await work
        return sender

    assert asyncio.run(run(acknowledged=True)).sent == []
    [sent] = asyncio.run(run(acknowledged=False)).sent
    assert sent["To"] == "duty@NL-KLPD.test"
    assert waited == [120.0, 120.0]
