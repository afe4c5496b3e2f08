"""Bytes ↔ envelopes. Decoding is strict: an unknown type or an invalid payload is refused with
an error that names the field, so that the caller can dead-letter the record with the reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from events.catalogue import CATALOGUE, Catalogue, UnknownType
from events.envelope import Envelope, Payload
from events.handling import Handling

MAX_EVENT_BYTES = 1_000_000


class InvalidEvent(ValueError):
    """A record that is not a valid Interlock event; ``reason`` names what is wrong."""

    def __init__(self, reason: str, fields: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = tuple(fields)


def describe(error: ValidationError, prefix: str = "") -> tuple[str, list[str]]:
    """A one-line account of a pydantic error, naming each offending field by its path."""
    parts: list[str] = []
    fields: list[str] = []
    for item in error.errors(include_url=False):
        path = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        fields.append(path or "(root)")
        parts.append(f"{path or '(root)'}: {item['msg']}")
    return "; ".join(parts), fields


def encode(envelope: Envelope) -> bytes:
    return json.dumps(envelope.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()


def decode(raw: bytes | str | None, catalogue: Catalogue = CATALOGUE) -> Envelope:
    """Parse a structured-mode CloudEvent into an envelope with a typed payload."""
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
    return from_wire(wire, catalogue)


def from_wire(wire: dict[str, Any], catalogue: Catalogue = CATALOGUE) -> Envelope:
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
