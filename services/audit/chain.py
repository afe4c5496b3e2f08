"""The hash chain, pure: appending a record and verifying a log, with where and what is wrong.

Each link's hash covers its canonical JSON (sorted keys, no spaces, UTF-8) without ``hash``,
followed by the previous link's hash; so an altered link fails its own hash, a removed link
leaves a gap in the sequence and a broken ``previous_hash``, and a reordered pair breaks both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from events.audit import GENESIS_HASH, ChainLink


def canonical(value: Any) -> str:
    """The one JSON text of a value that every writer and verifier agree on."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(fields: dict[str, Any]) -> str:
    """sha256 of the link's canonical JSON without ``hash``, then its ``previous_hash``."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    text = canonical(body) + str(body.get("previous_hash", ""))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """Where the chain ends: the next sequence number and the hash to chain to."""

    sequence: int = 0
    hash: str = GENESIS_HASH
    source_offset: int = -1

    @classmethod
    def after(cls, link: ChainLink) -> Head:
        return cls(sequence=link.sequence + 1, hash=link.hash, source_offset=link.source_offset)


def append(head: Head, *, record_id: str, source_offset: int, record: dict[str, Any]) -> ChainLink:
    """The next link after ``head`` for one audit record."""
    fields: dict[str, Any] = {
        "sequence": head.sequence,
        "previous_hash": head.hash,
        "record_id": record_id,
        "source_offset": source_offset,
        "record": record,
    }
    return ChainLink(**fields, hash=link_hash(fields))


@dataclass(frozen=True)
class Problem:
    """One place where the log is not what its writer wrote."""

    position: int
    """0-based position of the line or record in the log as read."""
    sequence: int | None
    what: str

    def __str__(self) -> str:
        where = f"sequence {self.sequence}" if self.sequence is not None else "unreadable link"
        return f"record {self.position + 1} ({where}): {self.what}"


def verify(links: Iterable[dict[str, Any] | str | bytes]) -> tuple[int, list[Problem]]:
    """Check a whole log from its first link; returns (links read, problems in log order)."""
    problems: list[Problem] = []
    expected_sequence = 0
    previous_hash = GENESIS_HASH
    count = 0
    for position, raw in enumerate(links):
        count += 1
        try:
            fields = json.loads(raw) if isinstance(raw, str | bytes) else raw
            link = ChainLink.model_validate(fields)
        except (ValueError, ValidationError) as exc:
            problems.append(Problem(position, None, f"not a chain link: {str(exc)[:200]}"))
            continue
        seq = link.sequence
        if link_hash(link.model_dump(mode="json")) != link.hash:
            problems.append(Problem(position, seq, "altered: its content does not match its hash"))
        if seq > expected_sequence:
            missing = (
                str(expected_sequence)
                if seq == expected_sequence + 1
                else f"{expected_sequence}–{seq - 1}"
            )
            problems.append(Problem(position, seq, f"removed: sequence {missing} missing before"))
        elif seq < expected_sequence:
            problems.append(
                Problem(
                    position,
                    seq,
                    f"reordered or repeated: sequence {seq} after {expected_sequence - 1}",
                )
            )
        if link.previous_hash != previous_hash:
            problems.append(
                Problem(position, seq, "broken link: previous_hash is not the hash before it")
            )
        expected_sequence = max(expected_sequence, seq + 1)
        previous_hash = link.hash
    return count, problems
