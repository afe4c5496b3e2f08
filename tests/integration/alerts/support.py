"""Helpers for the alerts integration tests: a fresh JIT in the directory, a desk's SSE client
and a local webhook receiver that verifies signatures."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from events.directory import DeskRegistered, JitRegistered
from services.admin import desk_record, jit_record, publish
from services.alerts.settings import webhook_secret
from services.alerts.signing import SIGNATURE_HEADER, SignatureError, verify
from services.kit.identity import Issuer
from tests.support.api import Member
from tests.support.platform import Platform

WEBHOOK_MASTER_SECRET = "integration-webhook-master-secret"


def team_code(country: str) -> str:
    """A team code of its own per test: desks (and their webhooks) are per team, not per JIT."""
    return f"{country}-T{uuid.uuid4().hex[:8].upper()}"


@dataclass
class Jit:
    """A JIT registered in the session's directory, with desks for some of its teams."""

    id: str
    nl: str
    ro: str
    coordinator: str
    base_url: str
    issuer: Issuer

    def member(self, team: str, name: str = "investigator", **kwargs: Any) -> Member:
        return Member(self.base_url, self.issuer, member=name, team=team, jits=(self.id,), **kwargs)

    def desk_officer(self, team: str) -> Member:
        return self.member(team, f"desk-{team.lower()}", roles=("desk_officer",))

    def stream(self, team: str, last_event_id: str | None = None) -> DeskStream:
        token = self.issuer.issue(
            member=f"desk-{team.lower()}", team=team, jits=(self.id,), roles=("desk_officer",)
        )
        return DeskStream(self.base_url, token, team, last_event_id=last_event_id)

    def raise_alert(self, member: Member, **overrides: Any) -> str:
        body: dict[str, Any] = {
            "idempotency_key": str(uuid.uuid4()),
            "severity": "P2",
            "category": "suspect_movement",
            "target_teams": [self.nl, self.ro],
            "summary": "Vehicle linked to the network crossed the border at Nadlac.",
        }
        body.update(overrides)
        response = member.post(f"/jits/{self.id}/alerts", body)
        assert response.status_code == 201, response.text
        alert_id: str = response.json()["alert_id"]
        return alert_id


def register_jit(
    platform: Platform,
    issuer: Issuer,
    *,
    webhook: Callable[[str], str | None] = lambda team: None,
    team_leads: bool = True,
    on_call: Callable[[str], tuple[str, ...]] = lambda team: (),
) -> Jit:
    """A JIT of NL, RO and a coordinator team, each with a desk (and the webhook given)."""
    nl, ro, coord = team_code("NL"), team_code("RO"), team_code("BE")
    jit = Jit(f"jit-{uuid.uuid4().hex[:8]}", nl, ro, coord, platform.base_url, issuer)
    records = [
        jit_record(
            JitRegistered(
                jit_id=jit.id,
                name="Operation Ceres",
                legal_basis="JIT agreement 2026/17 under Council Framework Decision 2002/465/JHA",
                coordinator_team=coord,
                member_teams=(nl, ro, coord),
                starts_on=date(2026, 1, 1),
            )
        )
    ]
    for team in (nl, ro, coord):
        records.append(
            desk_record(
                DeskRegistered(
                    team=team,
                    name=f"{team} rapid-response desk",
                    phone="+31 70 000 0000",
                    email="desk@example.org",
                    team_lead=f"lead-{team.lower()}" if team_leads else None,
                    webhook_url=webhook(team),
                    on_call=on_call(team),
                )
            )
        )
    publish(platform.settings, records)
    return jit


@dataclass(frozen=True)
class Message:
    id: str | None
    event: str
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data["event"]["type"])

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = self.data["event"]["data"]
        return data

    @property
    def alert_id(self) -> str | None:
        return self.payload.get("alert_id")


class DeskStream:
    """A desk officer's EventSource: reads the SSE stream on a thread and keeps every message."""

    def __init__(
        self, base_url: str, token: str, team: str, *, last_event_id: str | None = None
    ) -> None:
        self.team = team
        self.messages: list[Message] = []
        self.status: int | None = None
        self.error_body: str | None = None
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self.ended = threading.Event()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=None))
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._thread = threading.Thread(
            target=self._read, args=(f"/desks/{team}/alerts/stream", headers), daemon=True
        )
        self._thread.start()
        if not self._connected.wait(15):
            raise AssertionError("desk stream did not connect")

    def _read(self, path: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", path, headers=headers) as response:
                self._response = response
                self.status = response.status_code
                if response.status_code != 200:
                    self.error_body = response.read().decode()
                    return
                self._connected.set()
                fields: dict[str, str] = {}
                data: list[str] = []
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if data:
                            self._add(
                                Message(
                                    fields.get("id"),
                                    fields.get("event", "message"),
                                    json.loads("\n".join(data)),
                                )
                            )
                        fields, data = {}, []
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass
        finally:
            self._connected.set()
            self.ended.set()
            with self._cond:
                self._cond.notify_all()

    def _add(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[Message], bool], timeout: float = 15) -> Message:
        """The first message (received so far or later) that passes ``check``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages:
                    if check(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self.ended.is_set():
                    seen = [(m.type, m.alert_id) for m in self.messages]
                    raise AssertionError(f"no such message on {self.team}'s desk; saw {seen}")
                self._cond.wait(min(left, 0.5))

    def of(self, alert_id: str, type_suffix: str | None = None) -> list[Message]:
        with self._cond:
            return [
                m
                for m in self.messages
                if m.alert_id == alert_id and (type_suffix is None or m.type.endswith(type_suffix))
            ]

    @property
    def last_id(self) -> str:
        with self._cond:
            ids = [m.id for m in self.messages if m.id]
        assert ids, "no message with an id yet"
        return ids[-1]

    def close(self) -> None:
        """Disconnect (the server's pings, every second here, wake the reader up)."""
        self._stop.set()
        if self._response is not None:
            self._response.close()
        self._client.close()
        self._thread.join(timeout=5)


def is_page(alert_id: str) -> Callable[[Message], bool]:
    return lambda m: m.type == "interlock.alert.routed" and m.alert_id == alert_id


@dataclass
class Received:
    team: str
    body: dict[str, Any]
    headers: dict[str, str]
    verified: bool
    reason: str | None


@dataclass
class WebhookReceiver:
    """A national system's webhook endpoint on 127.0.0.1 that verifies every signature.

    ``fail`` names the teams (the last path segment) that get a 503 for every attempt.
    """

    fail: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, team: str) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{team}?token=t0ps3cret"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                team = self.path.split("?")[0].rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reason = None
                try:
                    verify(
                        webhook_secret(WEBHOOK_MASTER_SECRET, team),
                        self.headers.get(SIGNATURE_HEADER, ""),
                        body,
                        now=datetime.now(UTC),
                    )
                    verified = True
                except SignatureError as exc:
                    verified, reason = False, exc.reason
                receiver.received.append(
                    Received(team, json.loads(body), dict(self.headers), verified, reason)
                )
                status = 503 if team in receiver.fail or not verified else 200
                self.send_response(status)
                self.send_header("X-Request-Id", f"rcv-{len(receiver.received)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def for_team(self, team: str) -> list[Received]:
        return [r for r in self.received if r.team == team]
