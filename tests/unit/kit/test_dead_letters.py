"""Dead letters keep the reason and enough of the record, never more than the broker takes."""

from __future__ import annotations

import base64

from events.deadletter import DeadLetter
from services.kit.kafka import DEAD_LETTER_KEEP_BYTES, dead_letter_record


def test_a_small_poison_record_is_kept_whole_with_its_reason() -> None:
    """The raw record and the reason naming the field travel together."""
    key, value = dead_letter_record(
        service="leads",
        topic="t",
        partition=2,
        offset=7,
        key=b"lead-1",
        value=b"{bad",
        reason="not JSON",
    )
    letter = DeadLetter.model_validate_json(value)
    assert key == b"lead-1"
    assert base64.b64decode(letter.value) == b"{bad"
    assert (letter.topic, letter.partition, letter.offset, letter.reason) == ("t", 2, 7, "not JSON")


def test_an_oversized_record_is_truncated_and_says_so() -> None:
    """A 1 MB poison record yields a dead letter well under the broker's limit, saying its size."""
    _, value = dead_letter_record(
        service="leads",
        topic="t",
        partition=0,
        offset=0,
        key=None,
        value=b"x" * 1_000_000,
        reason="too large",
    )
    letter = DeadLetter.model_validate_json(value)
    assert len(value) < 200_000
    assert len(base64.b64decode(letter.value)) == DEAD_LETTER_KEEP_BYTES
    assert "1000000 bytes" in letter.reason
