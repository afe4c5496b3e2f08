"""Gateway limits against hostile or runaway callers: request body size and a per-principal
rate (token bucket). Both answer with an RFC 9457 problem that says what was exceeded.

The principal is the bearer token (hashed; never kept or logged) or, without one, the client
address: the limit applies before the token is verified, so that a flood of forged tokens costs
the gateway no signature checks beyond the bucket's allowance.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.errors import PROBLEM_CONTENT_TYPE, problem_body

MAX_BODY_BYTES = 1024 * 1024
RATE_PER_SECOND = float(os.environ.get("INTERLOCK_RATE_PER_SECOND", "50"))
RATE_BURST = float(os.environ.get("INTERLOCK_RATE_BURST", "100"))
EXEMPT_PATHS = frozenset({"/health"})
STREAMED_UPLOADS = re.compile(r"^/jits/[^/]+/evidence/uploads/[0-9a-f]{32}$")
"""Resumable evidence uploads (PATCH): their bodies stream to disk a chunk at a time, never held
in memory, and the upload enforces the JIT's own size limit (413), so this limit does not apply."""
MAX_BUCKETS = 50_000


async def _answer(
    send: Send, status: int, error: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(problem_body(status, error)).encode()
    raw = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a request body over ``max_bytes``, declared or streamed; 400 for a bad length."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "PATCH" and STREAMED_UPLOADS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_big = f"request body exceeds the {self.max_bytes}-byte limit"
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _answer(send, 400, "invalid Content-Length header")
                return
            if length > self.max_bytes:
                await _answer(send, 413, too_big)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        chunks: list[Message] = []
        total = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await _answer(send, 413, too_big)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimit:
    """A token bucket per principal: ``rate`` requests a second, bursts of ``burst``; 429 with
    ``Retry-After`` (whole seconds) when the bucket is empty."""

    def __init__(
        self,
        app: ASGIApp,
        rate: float = RATE_PER_SECOND,
        burst: float = RATE_BURST,
        clock: Any = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    def principal(self, scope: Scope) -> str:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        token = auth[7:].strip() if auth[:7].lower() == b"bearer " else b""
        if not token:
            for part in headers.get(b"cookie", b"").split(b";"):
                name, _, value = part.strip().partition(b"=")
                if name == b"interlock_token":
                    token = value
        if token:
            return "t:" + hashlib.sha256(token).hexdigest()[:32]
        client = scope.get("client")
        return "a:" + (client[0] if client else "unknown")

    def take(self, key: str) -> float:
        """Take one token; 0 if granted, else the seconds until one is there."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [
            k
            for k, b in self.buckets.items()
            if b.tokens + (now - b.stamp) * self.rate >= self.burst
        ]
        for k in full or list(self.buckets)[: len(self.buckets) // 2]:
            del self.buckets[k]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.take(self.principal(scope))
        if wait > 0:
            await _answer(
                send,
                429,
                f"rate limit exceeded: {self.rate:g} requests a second, bursts of {self.burst:g}",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
            return
        await self.app(scope, receive, send)
