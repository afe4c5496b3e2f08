"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps what it receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.platform import free_port


class SmtpInbox:
    """Every message the server accepted, parsed; ``wait_for`` polls for one that matches."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[tuple[tuple[str, ...], EmailMessage]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append((tuple(envelope.rcpt_tos), parsed))
        return "250 OK"

    def start(self) -> SmtpInbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for rcpt, m in self.messages if address in rcpt]

    def wait_for(
        self, check: Callable[[EmailMessage], bool], *, address: str, timeout: float = 30
    ) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.to(address):
                if check(message):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no matching e-mail to {address} within {timeout}s")
