"""Paging outside the browser tab: the alerts worker e-mails a desk's on-call addresses through a
real SMTP server (aiosmtpd, started by the suite). A P1 is mailed at once; a P2 only when nobody
acknowledged it within the mail delay (3 s here)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.platform import Platform
from tests.support.smtp import SmtpInbox

from .conftest import MAIL_DELAY_SECONDS
from .support import Jit, register_jit

pytestmark = pytest.mark.integration


def _duty(team: str) -> str:
    return f"duty-{team.lower()}@example.org"


@pytest.fixture
def paged_jit(alerts: Platform, issuer: Any) -> Jit:
    """A JIT whose desks have on-call addresses."""
    return register_jit(alerts, issuer, on_call=lambda team: (_duty(team),))


def _about(alert_id: str) -> Any:
    return lambda message: message["X-Interlock-Alert"] == alert_id


def test_a_p1_is_e_mailed_to_the_paged_desks_on_call_address_at_once(
    paged_jit: Jit, smtp: SmtpInbox
) -> None:
    """A P1 officer-safety alert to NL reaches NL's on-call address with its summary, marking
    and desk link, without waiting for the mail delay; RO, not paged, gets nothing."""
    jit = paged_jit
    raiser = jit.member(jit.ro)
    summary = "Two teams' arrest teams due at the same door in Venlo at 06:00"
    alert_id = jit.raise_alert(
        raiser, severity="P1", category="officer_safety", target_teams=[jit.nl], summary=summary
    )
    message = smtp.wait_for(_about(alert_id), address=_duty(jit.nl))
    assert message["Subject"] == f"[P1 officer safety] {summary}"
    body = message.get_content()
    assert "TLP:AMBER / H0" in body
    assert f"/ui/jits/{jit.id}/desk" in body
    assert smtp.to(_duty(jit.ro)) == []


def test_a_p2_is_e_mailed_only_when_nobody_acknowledged_it_in_time(
    paged_jit: Jit, smtp: SmtpInbox
) -> None:
    """Two P2 alerts to RO: the one RO's desk acknowledges at once is never mailed; the other
    is mailed once the delay has passed."""
    jit = paged_jit
    raiser = jit.member(jit.nl)
    ignored = jit.raise_alert(raiser, target_teams=[jit.ro], summary="Van left the farm")
    handled = jit.raise_alert(raiser, target_teams=[jit.ro], summary="Van stopped at a hotel")
    acked = jit.desk_officer(jit.ro).post(f"/jits/{jit.id}/alerts/{handled}/acknowledge", {})
    assert acked.status_code == 200, acked.text

    started = time.monotonic()
    smtp.wait_for(_about(ignored), address=_duty(jit.ro))
    assert time.monotonic() - started >= MAIL_DELAY_SECONDS - 2
    time.sleep(MAIL_DELAY_SECONDS)
    assert [m for m in smtp.to(_duty(jit.ro)) if _about(handled)(m)] == []
