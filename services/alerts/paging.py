"""Paging a desk outside the browser tab, by e-mail to its on-call addresses. Pure.

Which alert events page a desk by e-mail, when, and what the message says:

- a page (``AlertRouted``) mails the paged team's desk; an escalation to the coordinator's desk
  (``AlertEscalated`` to ``coordinator_desk``, its repeats included) mails that desk;
- a P1 is mailed at once; any other severity only once it has waited ``delay`` without an
  acknowledgement or a resolution (a desk watching its tab has answered by then);
- the message carries the alert's summary, deadline and marking only where the disclosure policy
  lets the team's desk take it out of the platform (an e-mail lands in a mailbox, another
  system, like a feed); otherwise it says only that an alert waits on the desk. A victim another
  team recorded, named in the summary, is replaced by its pseudonym (the disclosure policy's
  redactor, from the JIT's victims), as on the desk stream.

The sender (services/alerts/mail.py) does the SMTP, the retries and the dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from events.alerts import AlertEscalated, AlertRaised, AlertRouted, EscalationTarget, Severity
from events.envelope import Envelope
from services.kit.disclosure import Record, VictimBook, may_feed


class VictimBooks(Protocol):
    """Where the pages get the JIT's victims (services.kit.victims)."""

    def book(self, jit: str, teams: tuple[str, ...] | list[str] = ()) -> VictimBook: ...


@dataclass(frozen=True)
class MailPolicy:
    """How long a non-P1 page waits for an acknowledgement before it is also mailed."""

    delay: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.delay < timedelta(0):
            raise ValueError("delay must not be negative")

    def wait(self, severity: Severity) -> timedelta:
        """How long to wait before mailing a page of this severity: P1 none."""
        return timedelta(0) if severity is Severity.P1 else self.delay


def mailed_desk(envelope: Envelope) -> str | None:
    """The team whose desk an alert event pages by e-mail, or None."""
    data = envelope.data
    if isinstance(data, AlertRouted):
        return data.team
    if isinstance(data, AlertEscalated) and data.to is EscalationTarget.COORDINATOR_DESK:
        return data.team
    return None


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "not set"


def compose(
    *,
    page: Envelope,
    raised: Envelope | None,
    team: str,
    addresses: tuple[str, ...],
    sender: str,
    desk_url: str,
    victims: VictimBooks | None = None,
) -> EmailMessage:
    """The e-mail that pages ``team``'s desk for ``page``, as the disclosure policy allows."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(addresses)
    message["Message-ID"] = make_msgid(idstring=page.id, domain="interlock.invalid")
    message["Date"] = format_datetime(page.time)
    message["X-Interlock-Alert"] = str(getattr(page.data, "alert_id", ""))
    message["X-Interlock-Event"] = page.id
    data = raised.data if raised is not None else None
    record = Record.of_envelope(raised) if raised is not None else None
    again = isinstance(page.data, AlertEscalated) and page.data.repeat > 0
    step = (
        " (escalated to your desk" + (f", paged again ×{page.data.repeat}" if again else "") + ")"
        if isinstance(page.data, AlertEscalated)
        else ""
    )
    if isinstance(data, AlertRaised) and record is not None and may_feed(team, record):
        category = data.category.value.replace("_", " ")
        summary = data.summary
        if team != record.originator:
            if victims is None:  # no victims to redact with: say nothing of the content
                return _content_withheld(message, team, step, desk_url)
            book = victims.book(data.jit, sorted(record.audience))
            summary = book.redactor(team).redact(summary) or ""
        message["Subject"] = f"[{data.severity.value} {category}] {summary[:120]}{step}"
        deadline = getattr(page.data, "acknowledge_by", None) or data.acknowledge_by
        message.set_content(
            f"An alert pages the {team} desk in JIT {data.jit}{step}.\n\n"
            f"Severity: {data.severity.value}\n"
            f"Category: {category}\n"
            f"Raised: {_when(data.raised_at)} by {data.raising_team}\n"
            f"Acknowledge by: {_when(deadline)}\n"
            f"Marking: {record.marking.banner}\n\n"
            f"{summary}\n\n"
            f"Acknowledge it on the desk: {desk_url}\n"
        )
        return message
    return _content_withheld(message, team, step, desk_url)


def _content_withheld(message: EmailMessage, team: str, step: str, desk_url: str) -> EmailMessage:
    message["Subject"] = f"[Interlock] An alert waits on the {team} desk{step}"
    message.set_content(
        f"An alert pages the {team} desk. Its content may not leave Interlock by e-mail: "
        f"open the desk to read and acknowledge it.\n\n{desk_url}\n"
    )
    return message
