"""What a desk (its stream and its webhook) is given of a raised alert asks the disclosure
policy: a victim another team recorded is not named in the summary, a TLP:RED alert of another
team is not attached at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from events.alerts import AlertRaised, AlertRouted, Category, RouteBasis, Severity
from events.codec import envelop
from events.envelope import Envelope
from events.handling import Handling, Tlp
from services.alerts.delivery import RaisedAlert, desk_message
from services.kit.disclosure import Victim, VictimBook

JIT, NL, RO = "jit-ember", "NL-KLPD", "RO-DIICOT"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SUMMARY = "Elena Marin (+40 721 555 123) seen leaving with the driver"


class Books:
    """The JIT's victims as services.kit.victims gives them: Elena, recorded by RO."""

    def book(self, jit: str, teams: tuple[str, ...] | list[str] = ()) -> VictimBook:
        elena = Victim("ent-1", RO, ("Elena Marin",), identifiers=(("phone", "+40721555123"),))
        return VictimBook((elena,), ("RO", "NL"))


def _raised(tlp: Tlp = Tlp.AMBER) -> Envelope:
    alert = AlertRaised(
        alert_id="alert-1", jit=JIT, severity=Severity.P1, category=Category.VICTIM_AT_RISK,
        target_teams=(NL,), summary=SUMMARY, raised_by="ioana", raising_team=RO,
        raised_at=NOW, coordinator_team=RO,
    )  # fmt: skip
    return envelop(
        alert, subject="alert-1", jit=JIT, originator=RO, source="/t", correlation_id="c",
        releasable_to=frozenset({NL}), handling=Handling(tlp=tlp),
    )  # fmt: skip


def _routed() -> Envelope:
    routed = AlertRouted(alert_id="alert-1", team=NL, desk="desk-nl", basis=RouteBasis.DEFAULT)
    return envelop(
        routed, subject="alert-1", jit=JIT, originator=RO, source="/t", correlation_id="c",
        releasable_to=frozenset({NL}),
    )  # fmt: skip


def test_another_teams_desk_reads_the_summary_without_the_victim() -> None:
    """NL's desk gets the alert with RO's victim replaced by her pseudonym, name and phone."""
    message = json.loads(desk_message(_routed(), RaisedAlert.of(_raised()), NL, Books()))
    summary = message["alert"]["data"]["summary"]
    assert "Elena" not in summary and "Marin" not in summary and "721" not in summary
    assert "[victim V-" in summary and "seen leaving with the driver" in summary


def test_the_recording_teams_own_desk_reads_it_as_written() -> None:
    message = json.loads(desk_message(_routed(), RaisedAlert.of(_raised()), RO, Books()))
    assert message["alert"]["data"]["summary"] == SUMMARY


def test_a_red_alert_of_another_team_is_not_attached() -> None:
    """A desk is a team's, not a named member's: RED stays with its originating team."""
    message = json.loads(desk_message(_routed(), RaisedAlert.of(_raised(Tlp.RED)), NL, Books()))
    assert "alert" not in message
    assert SUMMARY not in json.dumps(message)
