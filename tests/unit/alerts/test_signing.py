"""Webhook signatures (sign, verify) and the retry schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alerts.signing import (
    SIGNATURE_HEADER,
    RetryPolicy,
    SignatureError,
    backoff,
    host_of,
    sign,
    verify,
)

from .builders import T0

SECRET = b"whsec_test"
BODY = b'{"id":"evt-1"}'
TOLERANCE = timedelta(minutes=5)
KNOWN = "90c91820b5e2bf65c296fb7e23549d2211c7e47c402b820b973d0e041fa01682"
"""HMAC-SHA256 of ``1772442000.{"id":"evt-1"}`` under ``whsec_test``, computed with openssl."""


def _header(secret: bytes | str | list[bytes] = SECRET, body: bytes = BODY) -> str:
    return sign(secret, T0, body)[SIGNATURE_HEADER]


def test_header_matches_a_known_vector() -> None:
    """The header is ``t=<unix>,v1=<hex hmac>`` over ``"<t>." + body``, as receivers expect."""
    assert sign(SECRET, T0, BODY) == {SIGNATURE_HEADER: f"t=1772442000,v1={KNOWN}"}


def test_good_signature_verifies() -> None:
    """A body verified with the secret it was signed with passes and yields the signed time."""
    assert (
        verify(SECRET, _header(), BODY, now=T0 + timedelta(seconds=3), tolerance=TOLERANCE)
        == 1772442000
    )


def test_tampered_body_fails() -> None:
    """Changing one byte of the body breaks the signature."""
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, _header(), BODY.replace(b"1", b"2"), now=T0, tolerance=TOLERANCE)


def test_wrong_secret_fails() -> None:
    """A receiver with another secret refuses the webhook."""
    with pytest.raises(SignatureError, match="does not match"):
        verify(b"another-secret", _header(), BODY, now=T0, tolerance=TOLERANCE)


def test_tampered_timestamp_fails() -> None:
    """The timestamp is signed: moving it forward to pass the tolerance breaks the signature."""
    forged = _header().replace("t=1772442000", "t=1772442600")
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, forged, BODY, now=T0 + timedelta(minutes=10), tolerance=TOLERANCE)


def test_stale_timestamp_fails() -> None:
    """A capture replayed after the tolerance is refused even though its signature is good."""
    with pytest.raises(SignatureError, match="tolerance"):
        verify(
            SECRET, _header(), BODY, now=T0 + TOLERANCE + timedelta(seconds=1), tolerance=TOLERANCE
        )


def test_timestamp_at_the_tolerance_edge_passes() -> None:
    """A webhook exactly as old as the tolerance is still accepted."""
    verify(SECRET, _header(), BODY, now=T0 + TOLERANCE, tolerance=TOLERANCE)


def test_timestamp_from_the_future_fails() -> None:
    """A timestamp further ahead than the tolerance is refused (a clock far off, or a forgery)."""
    with pytest.raises(SignatureError, match="tolerance"):
        verify(
            SECRET, _header(), BODY, now=T0 - TOLERANCE - timedelta(seconds=1), tolerance=TOLERANCE
        )


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "malformed"),
        (f"v1={KNOWN}", "no timestamp"),
        ("t=1772442000", "no v1"),
        (f"t=soon,v1={KNOWN}", "unix time"),
        (f"t=-1772442000,v1={KNOWN}", "unix time"),
        (f"t=1772442000,t=1772442000,v1={KNOWN}", "more than one"),
        (f"t=1772442000;v1={KNOWN}", "unix time"),
    ],
)
def test_malformed_header_fails_with_a_reason(header: str, reason: str) -> None:
    """A header that is not ``t=…,v1=…`` is refused with a reason naming what is wrong."""
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, header, BODY, now=T0, tolerance=TOLERANCE)


def test_unknown_schemes_are_ignored() -> None:
    """Elements of future schemes are skipped, so a receiver keeps working when one is added."""
    header = _header() + ",v2=abc"
    verify(SECRET, header, BODY, now=T0, tolerance=TOLERANCE)


def test_rotation_signs_with_every_secret_and_verifies_with_any() -> None:
    """During a rotation each secret yields a v1 value; a receiver holding either one verifies."""
    header = _header([b"old", b"new"])
    assert header.count("v1=") == 2
    verify(b"new", header, BODY, now=T0, tolerance=TOLERANCE)
    verify([b"other", b"old"], header, BODY, now=T0, tolerance=TOLERANCE)
    with pytest.raises(SignatureError):
        verify(b"other", header, BODY, now=T0, tolerance=TOLERANCE)


def test_text_secret_equals_its_utf8_bytes() -> None:
    """A secret given as text signs like its UTF-8 bytes."""
    assert _header("whsec_test") == _header(SECRET)


def test_empty_secret_is_refused() -> None:
    """Signing with an empty secret would protect nothing; it is a configuration error."""
    with pytest.raises(ValueError, match="empty"):
        sign(b"", T0, BODY)


@given(st.binary(min_size=1, max_size=64), st.binary(max_size=512), st.data())
def test_any_body_round_trips_and_any_flip_fails(
    secret: bytes, body: bytes, data: st.DataObject
) -> None:
    """Whatever the body, it verifies as signed, and flipping any bit of it fails."""
    header = sign(secret, T0, body)[SIGNATURE_HEADER]
    verify(secret, header, body, now=T0, tolerance=TOLERANCE)
    if body:
        i = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        bit = data.draw(st.integers(min_value=0, max_value=7))
        flipped = body[:i] + bytes([body[i] ^ (1 << bit)]) + body[i + 1 :]
        with pytest.raises(SignatureError):
            verify(secret, header, flipped, now=T0, tolerance=TOLERANCE)


def test_backoff_bound_doubles_up_to_the_cap() -> None:
    """With the largest draw the wait is base·2^(attempt-1), capped."""
    waits = [backoff(n, base=1.0, cap=30.0, random=lambda: 1.0) for n in range(1, 8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_backoff_is_a_full_jitter_draw() -> None:
    """The wait is the draw times the bound: zero draw, zero wait; half draw, half the bound."""
    assert backoff(4, base=1.0, cap=30.0, random=lambda: 0.0) == 0.0
    assert backoff(4, base=1.0, cap=30.0, random=lambda: 0.5) == 4.0


def test_backoff_survives_huge_attempt_numbers() -> None:
    """A very late attempt waits at most the cap instead of overflowing."""
    assert backoff(10_000, base=2.0, cap=300.0, random=lambda: 1.0) == 300.0


def test_backoff_refuses_attempt_zero() -> None:
    """Attempts count from one."""
    with pytest.raises(ValueError, match="from 1"):
        backoff(0, base=1.0, cap=10.0, random=lambda: 0.5)


def test_retry_policy_gives_up_after_max_attempts() -> None:
    """After the last attempt there is no next delay: the delivery is dead-lettered."""
    policy = RetryPolicy(base=1.0, cap=60.0, max_attempts=3)
    assert policy.next_delay(1, random=lambda: 1.0) == 1.0
    assert policy.next_delay(2, random=lambda: 1.0) == 2.0
    assert policy.next_delay(3, random=lambda: 1.0) is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://cms.politie.example/hooks/interlock?token=s3cret", "cms.politie.example"),
        ("https://user:pass@cms.example.ro:8443/x", "cms.example.ro"),
        ("http://[::1]:8080/hook", "::1"),
    ],
)
def test_host_of_keeps_only_the_host(url: str, host: str) -> None:
    """Only the host of a webhook URL is recorded: no path, query, credentials or port."""
    assert host_of(url) == host


def test_host_of_refuses_a_url_without_host() -> None:
    """A URL without a host is a configuration error."""
    with pytest.raises(ValueError, match="no host"):
        host_of("/relative/path")
