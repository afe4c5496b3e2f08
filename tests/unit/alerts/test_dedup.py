"""De-duplication: a repeat of a condition folds into its unresolved alert within the window."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from events.alerts import AlertDeduplicated, AlertRaised, AlertRouted, Severity
from events.envelope import ID_PATTERN, Addressed
from services.alerts.domain import FOLDED_IDS_KEPT, AlertStatus, DedupEntry, decide, dedup_subject

from .builders import (
    DIRECTORY,
    JIT,
    NL,
    POLICY,
    RO,
    T0,
    Alerts,
    acknowledge,
    actor,
    raise_alert,
    resolve,
)

KEY = "opconflict:OP-17:OP-23"
WINDOW = POLICY.dedup_window
TICK = timedelta(microseconds=1)


def _first(alerts: Alerts) -> None:
    alerts.send(raise_alert(alert_id="alert-1", dedup_key=KEY), T0)


def test_repeat_within_the_window_folds_into_the_open_alert() -> None:
    """A repeat inside the window yields only AlertDeduplicated (count + 1, last seen): no page."""
    alerts = Alerts()
    _first(alerts)
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + timedelta(seconds=10))
    assert events == [
        AlertDeduplicated(
            alert_id="alert-1",
            duplicate_id="alert-2",
            count=2,
            last_seen=T0 + timedelta(seconds=10),
        )
    ]
    assert "alert-2" not in alerts.alerts
    first = alerts.alerts["alert-1"]
    assert (first.count, first.first_seen, first.last_seen) == (2, T0, T0 + timedelta(seconds=10))


def test_fold_is_addressed_to_the_open_alert_and_its_audience() -> None:
    """The fold is an event of the open alert, for its audience, whoever raised the repeat."""
    alerts = Alerts()
    _first(alerts)
    entry = alerts.dedup[dedup_subject(JIT, KEY)]
    repeat = raise_alert(
        alert_id="alert-2", dedup_key=KEY, actor=actor(RO, "ro-analyst", ("analyst",))
    )
    [output] = decide(None, repeat, now=T0 + TICK, policy=POLICY, directory=DIRECTORY, dedup=entry)
    assert isinstance(output, Addressed)
    assert (output.subject, output.originator, output.releasable_to) == (
        "alert-1",
        NL,
        frozenset({NL, RO}),
    )


def test_repeat_exactly_at_the_window_edge_still_folds() -> None:
    """The window is inclusive: a repeat exactly one window after the last sighting folds."""
    alerts = Alerts()
    _first(alerts)
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + WINDOW)
    assert [type(e) for e in events] == [AlertDeduplicated]


def test_repeat_just_after_the_window_pages_again() -> None:
    """A repeat one microsecond past the window is a new alert, and later repeats fold into it."""
    alerts = Alerts()
    _first(alerts)
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + WINDOW + TICK)
    assert isinstance(events[0], AlertRaised)
    assert any(isinstance(e, AlertRouted) for e in events)
    assert alerts.dedup[dedup_subject(JIT, KEY)].alert_id == "alert-2"
    again = alerts.send(raise_alert(alert_id="alert-3", dedup_key=KEY), T0 + WINDOW + 2 * TICK)
    assert again == [
        AlertDeduplicated(
            alert_id="alert-2", duplicate_id="alert-3", count=2, last_seen=T0 + WINDOW + 2 * TICK
        )
    ]


def test_window_slides_with_each_repeat() -> None:
    """Repeats each within the window of the previous one keep folding, however long the episode."""
    alerts = Alerts()
    _first(alerts)
    for n in range(2, 8):
        events = alerts.send(
            raise_alert(alert_id=f"alert-{n}", dedup_key=KEY), T0 + (n - 1) * (WINDOW - TICK)
        )
        assert [type(e) for e in events] == [AlertDeduplicated]
    assert alerts.alerts["alert-1"].count == 7


def test_repeat_adding_a_target_team_pages_again() -> None:
    """A repeat that would page a team the open alert did not is raised, not folded away."""
    alerts = Alerts()
    alerts.send(raise_alert(alert_id="alert-1", dedup_key=KEY, target_teams=(NL,)), T0)
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + TICK)
    assert isinstance(events[0], AlertRaised)
    assert alerts.dedup[dedup_subject(JIT, KEY)].alert_id == "alert-2"


def test_repeat_to_fewer_teams_folds() -> None:
    """A repeat whose targets were all paged by the open alert folds."""
    alerts = Alerts()
    _first(alerts)
    events = alerts.send(
        raise_alert(alert_id="alert-2", dedup_key=KEY, target_teams=(RO,)), T0 + TICK
    )
    assert [type(e) for e in events] == [AlertDeduplicated]


def test_more_urgent_repeat_pages_again_and_less_urgent_folds() -> None:
    """A repeat more urgent than the open alert pages anew; an equally or less urgent one folds."""
    alerts = Alerts()
    alerts.send(raise_alert(alert_id="alert-1", dedup_key=KEY, severity=Severity.P2), T0)
    calmer = alerts.send(
        raise_alert(alert_id="alert-2", dedup_key=KEY, severity=Severity.P3), T0 + TICK
    )
    assert [type(e) for e in calmer] == [AlertDeduplicated]
    urgent = alerts.send(
        raise_alert(alert_id="alert-3", dedup_key=KEY, severity=Severity.P1), T0 + 2 * TICK
    )
    assert isinstance(urgent[0], AlertRaised)


def test_repeat_after_resolution_pages_again() -> None:
    """Once the alert is resolved its condition is free: a repeat raises a new alert."""
    alerts = Alerts()
    _first(alerts)
    alerts.send(resolve(), T0 + TICK)
    assert dedup_subject(JIT, KEY) not in alerts.dedup
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + 2 * TICK)
    assert isinstance(events[0], AlertRaised)


def test_repeat_while_acknowledged_folds_without_paging() -> None:
    """An acknowledged, unresolved alert still absorbs repeats: the desk is already on it."""
    alerts = Alerts()
    _first(alerts)
    alerts.send(acknowledge(), T0 + TICK)
    events = alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + 2 * TICK)
    assert [type(e) for e in events] == [AlertDeduplicated]
    assert alerts.alerts["alert-1"].status is AlertStatus.ACKNOWLEDGED


def test_retried_repeat_counts_once() -> None:
    """A folded raise delivered twice by an at-least-once producer is counted once."""
    alerts = Alerts()
    _first(alerts)
    alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + TICK)
    assert alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + 2 * TICK) == []
    assert alerts.alerts["alert-1"].count == 2


def test_retried_first_raise_is_a_no_op() -> None:
    """The raise that opened the alert, redelivered, neither folds nor re-pages."""
    alerts = Alerts()
    _first(alerts)
    assert alerts.send(raise_alert(alert_id="alert-1", dedup_key=KEY), T0 + TICK) == []
    assert alerts.alerts["alert-1"].count == 1


def test_same_key_in_another_jit_is_another_condition() -> None:
    """A dedup entry of another JIT is never folded into, even if handed to decide."""
    alerts = Alerts()
    _first(alerts)
    foreign = alerts.dedup[dedup_subject(JIT, KEY)].model_copy(update={"jit": "jit-other"})
    events = decide(
        None,
        raise_alert(alert_id="alert-2", dedup_key=KEY),
        now=T0 + TICK,
        policy=POLICY,
        directory=DIRECTORY,
        dedup=foreign,
    )
    assert isinstance(events[0], Addressed)
    assert isinstance(events[0].event, AlertRaised)
    assert dedup_subject(JIT, KEY) != dedup_subject("jit-other", KEY)


def test_raise_without_a_dedup_key_never_folds() -> None:
    """Only alerts that name their condition are de-duplicated."""
    alerts = Alerts()
    alerts.send(raise_alert(alert_id="alert-1"), T0)
    events = alerts.send(raise_alert(alert_id="alert-2"), T0 + TICK)
    assert isinstance(events[0], AlertRaised)
    assert alerts.dedup == {}


def test_resolving_an_older_alert_keeps_the_newer_alerts_entry() -> None:
    """After a condition re-paged past the window, resolving the old alert keeps the new entry."""
    alerts = Alerts()
    _first(alerts)
    alerts.send(raise_alert(alert_id="alert-2", dedup_key=KEY), T0 + WINDOW + TICK)
    alerts.send(resolve(alert_id="alert-1"), T0 + WINDOW + 2 * TICK)
    assert alerts.dedup[dedup_subject(JIT, KEY)].alert_id == "alert-2"


def test_folded_ids_are_bounded() -> None:
    """The entry remembers only the most recent folded ids, so it cannot grow without bound."""
    alerts = Alerts()
    _first(alerts)
    for n in range(FOLDED_IDS_KEPT + 5):
        alerts.send(raise_alert(alert_id=f"repeat-{n}", dedup_key=KEY), T0 + TICK * (n + 1))
    entry = alerts.dedup[dedup_subject(JIT, KEY)]
    assert len(entry.folded) == FOLDED_IDS_KEPT
    assert entry.folded[-1] == f"repeat-{FOLDED_IDS_KEPT + 4}"
    assert entry.count == FOLDED_IDS_KEPT + 6


def test_dedup_entry_survives_a_json_round_trip() -> None:
    """The dedup entry is a JSON-serialisable table value."""
    alerts = Alerts()
    _first(alerts)
    entry = alerts.dedup[dedup_subject(JIT, KEY)]
    assert DedupEntry.model_validate_json(entry.model_dump_json()) == entry


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_dedup_subject_is_a_stable_safe_id(jit: str, key: str) -> None:
    """The table key is a valid id, the same for the same JIT and key."""
    subject = dedup_subject(jit, key)
    assert re.match(ID_PATTERN, subject)
    assert subject == dedup_subject(jit, key)


@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_dedup_subject_does_not_collide_when_text_moves_between_jit_and_key(
    a: str, b: str, c: str, d: str
) -> None:
    """Different (JIT, key) pairs get different table keys, even when their concatenations agree."""
    if (a, b) != (c, d):
        assert dedup_subject(a, b) != dedup_subject(c, d)
    assert dedup_subject("jit-a", "b:c") != dedup_subject("jit-ab", ":c")
