"""Delivering alerts to desks: which desk gets which event and the message it gets, shared by the
live desk stream (``desks.py``, in the gateway) and signed webhooks (``webhooks.py``, in the alerts
worker).

What a desk receives
--------------------
A desk is paged by ``AlertRouted`` for its team, not by ``AlertRaised``: a desk whose rule
filters an alert out is not paged, and its stream stays quiet. Each desk message is a JSON object
``{"event": <CloudEvent>, "alert": <CloudEvent of the AlertRaised>}``; ``alert`` rides along on
pages and on escalations to a team that may see the raised alert, so the desk can show what the
alert says without a second request. Acknowledgements, resolutions, folded repeats and
escalations come to the desks of the teams they are released to; delivery receipts and desk rule
changes to their own team's desk only. The same message is the body of a webhook.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from events.alerts import (
    AlertAcknowledged,
    AlertDeduplicated,
    AlertDelivered,
    AlertEscalated,
    AlertResolved,
    AlertRouted,
    DeskRuleSet,
    WebhookDeliveryFailed,
)
from events.envelope import Envelope
from services.kit.disclosure import Record, VictimBook, Viewer, may_see

RAISED_KEPT = 20_000
"""Raised alerts the hub and the webhook sender remember, to attach to the pages that follow."""
SEEN_KEPT = 200_000
"""Event ids remembered to drop an event decided again after a crash (same id, later offset)."""


# --- what goes to which desk ------------------------------------------------------------------


def desk_teams(envelope: Envelope) -> frozenset[str]:
    """The teams whose desk stream carries this alert event (never beyond its audience)."""
    data = envelope.data
    audience = envelope.audience
    if isinstance(data, AlertRouted | AlertDelivered | WebhookDeliveryFailed | DeskRuleSet):
        return frozenset({data.team}) & audience
    if isinstance(data, AlertEscalated | AlertAcknowledged | AlertResolved | AlertDeduplicated):
        return frozenset(envelope.releasable_to)
    return frozenset()


def webhook_teams(envelope: Envelope) -> frozenset[str]:
    """The teams whose webhook receives this event: pages and escalations to that team."""
    data = envelope.data
    if isinstance(data, AlertRouted | AlertEscalated):
        return frozenset({data.team}) & envelope.audience
    return frozenset()


@dataclass(frozen=True)
class RaisedAlert:
    """What a page needs of the raise before it: who may see it (as the disclosure policy reads
    a record), and its CloudEvent as JSON."""

    record: Record
    cloudevent: str
    jit: str = ""

    @classmethod
    def of(cls, envelope: Envelope) -> RaisedAlert:
        return cls(Record.of_envelope(envelope), _dumps(envelope.to_wire()), envelope.jit)

    @property
    def audience(self) -> frozenset[str]:
        return self.record.audience

    def seen_by(self, team: str, victims: VictimBooks | None) -> str:
        """The alert's CloudEvent as ``team`` may read it: victims it may not know, named in
        the summary, replaced by their pseudonyms (the disclosure policy's redactor)."""
        if victims is None or team == self.record.originator:
            return self.cloudevent
        wire = json.loads(self.cloudevent)
        data = wire.get("data") or {}
        summary = data.get("summary")
        redacted = victims.book(self.jit, sorted(self.audience)).redactor(team).redact(summary)
        if redacted == summary:
            return self.cloudevent
        wire["data"] = {**data, "summary": redacted}
        return _dumps(wire)


class VictimBooks(Protocol):
    """Where a channel outside the graph gets the JIT's victims (services.kit.victims)."""

    def book(self, jit: str, teams: tuple[str, ...] | list[str] = ()) -> VictimBook: ...


class SeenEvents:
    """Where each recent event id was first read (bounded, thread-safe).

    An event decided again after a crash comes back with the same id at a later offset; every
    consumer drops it by id, so a desk is not paged twice.
    """

    def __init__(self, most: int = SEEN_KEPT) -> None:
        self.most = most
        self._items: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, event_id: str, partition: int, offset: int) -> bool:
        """Remember the id at this position; whether this is its first (or only) position."""
        with self._lock:
            where = self._items.setdefault(event_id, (partition, offset))
            while len(self._items) > self.most:
                self._items.popitem(last=False)
        return where == (partition, offset)

    def repeated(self, event_id: str, partition: int, offset: int) -> bool:
        """Whether the id is known from another position (without remembering this one)."""
        with self._lock:
            where = self._items.get(event_id)
        return where is not None and where != (partition, offset)


class RaisedAlerts:
    """The most recent raises by alert id, kept as compact JSON (bounded, thread-safe)."""

    def __init__(self, most: int = RAISED_KEPT) -> None:
        self.most = most
        self._items: OrderedDict[str, RaisedAlert] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, envelope: Envelope) -> None:
        with self._lock:
            self._items[envelope.data.alert_id] = RaisedAlert.of(envelope)
            while len(self._items) > self.most:
                self._items.popitem(last=False)

    def get(self, alert_id: str | None) -> RaisedAlert | None:
        if alert_id is None:
            return None
        with self._lock:
            return self._items.get(alert_id)


def desk_message(
    envelope: Envelope,
    raised: RaisedAlert | None,
    team: str,
    victims: VictimBooks | None = None,
) -> str:
    """The JSON message a team's desk (its stream and its webhook) gets for ``envelope``, with
    the raised alert where the disclosure policy lets the team's desk see it: a desk is the
    team's, not a named member's, so a TLP:RED alert of another team is never attached."""
    event = _dumps(envelope.to_wire())
    if (
        raised is not None
        and isinstance(envelope.data, AlertRouted | AlertEscalated)
        and may_see(Viewer(team), raised.record)
    ):
        return f'{{"event":{event},"alert":{raised.seen_by(team, victims)}}}'
    return f'{{"event":{event}}}'


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
