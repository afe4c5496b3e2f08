"""The hash chain: appending links, and verification naming what was altered, removed or
reordered, and where."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from events.audit import GENESIS_HASH
from services.audit.chain import Head, append, link_hash, verify


def build(n: int) -> list[dict[str, Any]]:
    head = Head()
    links = []
    for i in range(n):
        link = append(
            head, record_id=f"r{i}", source_offset=i, record={"kind": "collection", "i": i}
        )
        links.append(link.model_dump(mode="json"))
        head = Head.after(link)
    return links


def test_an_intact_chain_verifies() -> None:
    """A chain as written has no problems, whether read as dicts or as JSON lines."""
    links = build(6)
    assert verify(links) == (6, [])
    assert verify(json.dumps(link) for link in links) == (6, [])
    assert links[0]["previous_hash"] == GENESIS_HASH
    assert links[3]["previous_hash"] == links[2]["hash"]


def test_the_hash_covers_the_link_and_the_previous_hash() -> None:
    """Changing any field, or the previous hash, changes the hash."""
    link = build(1)[0]
    assert link_hash(link) == link["hash"]
    assert link_hash({**link, "record_id": "other"}) != link["hash"]
    assert link_hash({**link, "previous_hash": "1" * 64}) != link["hash"]


def test_an_altered_record_is_named_by_its_sequence() -> None:
    """Editing a record's content is reported as altered at that sequence number."""
    links = build(5)
    links[2] = {**links[2], "record": {**links[2]["record"], "kind": "erasure"}}
    _, problems = verify(links)
    assert [(p.sequence, p.what.split(":")[0]) for p in problems] == [(2, "altered")]


def test_a_removed_record_is_named_by_the_gap() -> None:
    """Dropping a link is reported where the sequence jumps, naming the missing number."""
    links = build(5)
    del links[3]
    _, problems = verify(links)
    assert problems[0].sequence == 4
    assert "sequence 3 missing" in problems[0].what
    assert any("broken link" in p.what for p in problems)


def test_reordered_records_are_named() -> None:
    """Swapping two links is reported at both, as a gap and as out of order."""
    links = build(5)
    links[1], links[2] = links[2], links[1]
    _, problems = verify(links)
    assert any(p.sequence == 1 and p.what.startswith("reordered") for p in problems)
    assert any(p.sequence == 2 and "sequence 1 missing" in p.what for p in problems)


def test_rehashing_an_altered_record_still_breaks_the_next_link() -> None:
    """A forger who recomputes the altered link's hash breaks the following link instead."""
    links = build(4)
    forged = {**links[1], "record": {"kind": "erasure"}}
    forged["hash"] = link_hash(forged)
    links[1] = forged
    _, problems = verify(links)
    assert [(p.sequence, p.what.split(":")[0]) for p in problems] == [(2, "broken link")]


def test_garbage_lines_are_reported_not_raised() -> None:
    """A line that is not a link is a problem with its position, not a crash."""
    links: list[Any] = [json.dumps(x) for x in build(2)] + ["{not json"]
    count, problems = verify(links)
    assert count == 3 and problems[0].position == 2 and problems[0].sequence is None


@given(st.integers(min_value=2, max_value=30), st.data())
def test_any_single_deletion_is_detected(n: int, data: st.DataObject) -> None:
    """Removing any one link but the last is always detected."""
    links = build(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 2))
    del links[index]
    assert verify(links)[1]
