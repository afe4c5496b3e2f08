"""Signed webhooks for national systems, and when to retry one that failed.

The signature is Stripe-like, so a receiver can verify it with a few lines in any language::

    Interlock-Signature: t=1718000000,v1=<hex HMAC-SHA256 over "1718000000." + body>

The timestamp is inside the signed bytes, so it cannot be changed without breaking the
signature, and a receiver that refuses timestamps outside a tolerance refuses old captures. To
refuse a capture replayed *within* the tolerance, a receiver remembers the CloudEvent ``id``s it
has seen for that long. Several ``v1`` values may be sent while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Interlock-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)

Secret = bytes | str


class SignatureError(ValueError):
    """A webhook whose signature does not verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _secrets(secret: Secret | Sequence[Secret]) -> list[bytes]:
    items: Sequence[Secret] = [secret] if isinstance(secret, bytes | str) else secret
    keys = [s.encode() if isinstance(s, str) else s for s in items]
    if not keys or any(not k for k in keys):
        raise ValueError("a webhook secret must not be empty")
    return keys


def _unix(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return int(moment.timestamp())


def _mac(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: Secret | Sequence[Secret], timestamp: datetime, body: bytes) -> dict[str, str]:
    """The headers that let a receiver check ``body`` came from Interlock at ``timestamp``.

    Give several secrets while rotating: each yields a ``v1`` value and the receiver needs one.
    """
    t = _unix(timestamp)
    parts = [f"t={t}", *(f"{SCHEME}={_mac(key, t, body)}" for key in _secrets(secret))]
    return {SIGNATURE_HEADER: ",".join(parts)}


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} element {item.strip()!r}")
        if name == "t":
            if timestamp is not None:
                raise SignatureError("more than one timestamp")
            if not value.isascii() or not value.isdigit():
                raise SignatureError("timestamp is not a unix time")
            timestamp = int(value)
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("no timestamp")
    if not signatures:
        raise SignatureError(f"no {SCHEME} signature")
    return timestamp, signatures


def verify(
    secret: Secret | Sequence[Secret],
    header: str,
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> int:
    """Check a webhook's signature header against its raw body; returns the signed unix time.

    Raises :class:`SignatureError` when the header is malformed, the timestamp is further than
    ``tolerance`` from ``now`` (either way: a receiver's clock may be behind), or no signature
    matches any of the secrets. Digests are compared in constant time.
    """
    timestamp, signatures = _parse(header)
    if abs(_unix(now) - timestamp) > tolerance.total_seconds():
        raise SignatureError("timestamp outside the tolerance")
    expected = [_mac(key, timestamp, body) for key in _secrets(secret)]
    matched = False
    for candidate in signatures:
        for mac in expected:
            matched |= hmac.compare_digest(candidate.encode(), mac.encode())
    if not matched:
        raise SignatureError("signature does not match")
    return timestamp


def backoff(attempt: int, *, base: float, cap: float, random: Callable[[], float]) -> float:
    """Seconds to wait after failed ``attempt`` (1 for the first): exponential, full jitter.

    Full jitter (a uniform draw up to the exponential bound) spreads the retries of many alerts
    to one failing receiver, so they do not come back in a synchronised burst.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    exponent = min(attempt - 1, 62)
    bound = min(cap, base * 2.0**exponent)
    return bound * min(max(random(), 0.0), 1.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How a webhook delivery is retried; after ``max_attempts`` it is dead-lettered."""

    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= 0 or self.cap <= 0:
            raise ValueError("base and cap must be positive")

    def next_delay(self, attempts: int, *, random: Callable[[], float]) -> float | None:
        """Seconds until the next try after ``attempts`` failed ones, or None to give up."""
        if attempts >= self.max_attempts:
            return None
        return backoff(attempts, base=self.base, cap=self.cap, random=random)


def host_of(url: str) -> str:
    """The host of a webhook URL, the only part of it that goes into events and logs."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError("URL has no host")
    return host
