"""Bytes ↔ envelopes. Decoding is strict: an unknown type or an invalid payload is refused with
an error that names the field, so that the caller can dead-letter the record with the reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from events import sealing
from events.catalogue import CATALOGUE
from events.envelope import Envelope, Payload
from events.handling import Handling
from events.registry import Catalogue, UnknownType

MAX_EVENT_BYTES = 1_000_000


class InvalidEvent(ValueError):
    """A record that is not a valid Interlock event; ``reason`` names what is wrong."""

    def __init__(self, reason: str, fields: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = tuple(fields)


class ErasedEvent(InvalidEvent):
    """A sealed record whose subject was erased. Consumers skip it: it is not poison."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"sealed with key {kid!r}, which was destroyed (subject erased)", ["data"])
        self.kid = kid


def describe(error: ValidationError, prefix: str = "") -> tuple[str, list[str]]:
    """A one-line account of a pydantic error, naming each offending field by its path."""
    parts: list[str] = []
    fields: list[str] = []
    for item in error.errors(include_url=False):
        path = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        fields.append(path or "(root)")
        parts.append(f"{path or '(root)'}: {item['msg']}")
    return "; ".join(parts), fields


def sealed_subject(envelope: Envelope, catalogue: Catalogue = CATALOGUE) -> str | None:
    """The subject whose key seals this envelope's data, or None if its type is not sealed."""
    field = catalogue.entry(envelope.type).sealed_by
    if field is None:
        return None
    value = getattr(envelope.data, field, None)
    return value if isinstance(value, str) and value else None


def encode(envelope: Envelope, *, seal: bool = True, catalogue: Catalogue = CATALOGUE) -> bytes:
    """The record value; personal data is sealed with its subject's key when a ring is installed.

    ``seal=False`` is for a team's feed, whose readers hold no keys: the release service decides
    what goes there, and logs it as a disclosure.
    """
    wire = envelope.to_wire()
    ring = sealing.installed()
    if seal and ring is not None:
        subject = sealed_subject(envelope, catalogue)
        if subject is not None:
            kid = sealing.key_id(envelope.jit, subject)
            wire = sealing.seal(wire, kid, ring.sealing_key(kid))
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()


def decode(
    raw: bytes | str | None,
    catalogue: Catalogue = CATALOGUE,
    *,
    ring: sealing.KeyRing | None = None,
) -> Envelope:
    """Parse a structured-mode CloudEvent into an envelope with a typed payload; sealed data is
    opened with ``ring``, or the process's installed one."""
    if raw is None:
        raise InvalidEvent("empty record (tombstone or null value)")
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"record of {len(raw)} bytes exceeds the {MAX_EVENT_BYTES}-byte limit")
    try:
        wire = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(wire, dict):
        raise InvalidEvent(f"a CloudEvent is a JSON object, got {type(wire).__name__}")
    return from_wire(wire, catalogue, ring=ring)


def from_wire(
    wire: dict[str, Any],
    catalogue: Catalogue = CATALOGUE,
    *,
    ring: sealing.KeyRing | None = None,
) -> Envelope:
    try:
        wire = sealing.unseal(wire, ring)
    except sealing.Erased as exc:
        raise ErasedEvent(exc.kid) from None
    except sealing.SealingError as exc:
        raise InvalidEvent(str(exc), ["data"]) from None
    try:
        entry = catalogue.entry(str(wire.get("type")))
    except UnknownType as exc:
        raise InvalidEvent(str(exc), ["type"]) from None
    try:
        data = entry.model.model_validate(wire.get("data"))
    except ValidationError as exc:
        reason, fields = describe(exc, "data")
        raise InvalidEvent(f"invalid {entry.type}: {reason}", fields) from None
    try:
        envelope = Envelope.model_validate({**wire, "data": data})
    except ValidationError as exc:
        reason, fields = describe(exc)
        raise InvalidEvent(f"invalid envelope: {reason}", fields) from None
    if envelope.schema_version > entry.version:
        raise InvalidEvent(
            f"{entry.type} schema version {envelope.schema_version} is newer than "
            f"the {entry.version} this service knows",
            ["schemaversion"],
        )
    return envelope


def envelop(
    payload: Payload,
    *,
    subject: str,
    jit: str,
    originator: str,
    source: str,
    correlation_id: str,
    causation_id: str | None = None,
    releasable_to: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
    handling: Handling | None = None,
    aggregate_version: int = 0,
    catalogue: Catalogue = CATALOGUE,
) -> Envelope:
    """Wrap a payload in its envelope, with type, schema and version from the catalogue."""
    entry = catalogue.entry_for(type(payload))
    label = handling or Handling()
    return Envelope(
        source=source,
        type=entry.type,
        subject=subject,
        dataschema=entry.dataschema,
        jit=jit,
        originator=originator,
        releasable_to=frozenset(releasable_to),
        handling=label.code,
        tlp=label.tlp,
        readers=frozenset(label.readers) or None,
        correlation_id=correlation_id,
        causation_id=causation_id,
        schema_version=entry.version,
        aggregate_version=aggregate_version,
        data=payload,
    )


def follow(
    cause: Envelope,
    payload: Payload,
    *,
    source: str,
    subject: str | None = None,
    aggregate_version: int = 0,
    originator: str | None = None,
    releasable_to: frozenset[str] | set[str] | tuple[str, ...] | None = None,
    handling: Handling | None = None,
) -> Envelope:
    """An envelope caused by ``cause``: same JIT and correlation; handling inherited by default."""
    return envelop(
        payload,
        subject=subject or cause.subject,
        jit=cause.jit,
        originator=originator or cause.originator,
        source=source,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
        releasable_to=cause.releasable_to if releasable_to is None else releasable_to,
        handling=handling or cause.handling_label,
        aggregate_version=aggregate_version,
    )


def partition_key(envelope: Envelope, catalogue: Catalogue = CATALOGUE) -> bytes:
    """The record key: the aggregate, the correlation (outcomes) or the JIT, per the catalogue."""
    entry = catalogue.entry(envelope.type)
    if entry.key == "correlation_id":
        return envelope.correlation_id.encode()
    if entry.key == "jit":
        return envelope.jit.encode()
    return envelope.subject.encode()
