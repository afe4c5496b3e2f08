"""The thread aggregate decides who may post, edit, delete and mark read, and in front of whom."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.envelope import Actor, Addressed
from events.messaging import (
    DeleteMessage,
    EditMessage,
    MarkThreadRead,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PostMessage,
    ThreadRead,
)
from events.outcomes import Rejected
from services.messaging.domain import ThreadState, decide, evolve, subject_of

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ANNA = Actor(member="anna", team="NL-KLPD")
IOANA = Actor(member="ioana", team="RO-DIICOT")
BERT = Actor(member="bert", team="BE-FGP")
THREAD = "lead:lead-1"


def run(
    state: ThreadState | None, command: PostMessage | EditMessage | DeleteMessage | MarkThreadRead
) -> tuple[ThreadState | None, list[Addressed]]:
    out = decide(state, command, now=NOW, jit="jit-1")
    addressed = [a for a in out if isinstance(a, Addressed)]
    for a in addressed:
        state = evolve(state, a.event)
    return state, addressed


def post(actor: Actor, message_id: str, **kw: object) -> PostMessage:
    return PostMessage(actor=actor, thread_id=THREAD, message_id=message_id, text="hello", **kw)  # type: ignore[arg-type]


def opened() -> ThreadState:
    state, _ = run(None, post(ANNA, "m1", thread_audience=("RO-DIICOT",)))
    assert state is not None
    return state


def test_the_first_message_opens_the_thread_for_its_audience() -> None:
    """The opener's team and the teams named are the audience; the thread is sealed with the key
    of what it is about; the message goes to that audience."""
    state, (addressed,) = run(None, post(ANNA, "m1", thread_audience=("RO-DIICOT",)))
    assert state is not None and state.audience == ("NL-KLPD", "RO-DIICOT")
    assert state.subject_id == "lead-1" and subject_of("jit:jit-1", "jit-1") == "jit-1"
    assert isinstance(addressed.event, MessagePosted) and addressed.event.seq == 1
    assert addressed.originator == "NL-KLPD"
    assert addressed.releasable_to == frozenset({"RO-DIICOT"})


def test_a_team_outside_the_thread_gets_what_an_unknown_thread_gets() -> None:
    """BE, not in the audience, can neither post, edit, delete nor mark read: 404."""
    state = opened()
    for command in (
        post(BERT, "m2"),
        EditMessage(actor=BERT, thread_id=THREAD, message_id="m1", text="x"),
        DeleteMessage(actor=BERT, thread_id=THREAD, message_id="m1", reason="x"),
        MarkThreadRead(actor=BERT, thread_id=THREAD, seq=1),
    ):
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 404


def test_a_message_may_go_to_fewer_teams_never_more() -> None:
    """releasable_to narrows a message to part of the audience; naming an outsider is a 422."""
    state = opened()
    _, (only_nl,) = run(state, post(ANNA, "m2", releasable_to=()))
    assert isinstance(only_nl.event, MessagePosted) and only_nl.event.audience == ("NL-KLPD",)
    with pytest.raises(Rejected) as refused:
        decide(state, post(ANNA, "m3", releasable_to=("BE-FGP",)), now=NOW)
    assert refused.value.status == 422 and "BE-FGP" in refused.value.reason


def test_edits_and_deletions_are_the_authors_alone_and_a_tombstone_is_final() -> None:
    """Another member may not edit (403); the author's edit is version 2; after a deletion with
    its reason an edit is refused as gone (410)."""
    state = opened()
    with pytest.raises(Rejected) as refused:
        decide(
            state, EditMessage(actor=IOANA, thread_id=THREAD, message_id="m1", text="x"), now=NOW
        )
    assert refused.value.status == 403
    state, (edit,) = run(
        state, EditMessage(actor=ANNA, thread_id=THREAD, message_id="m1", text="hi")
    )
    assert isinstance(edit.event, MessageEdited) and edit.event.version == 2
    state, (gone,) = run(
        state, DeleteMessage(actor=ANNA, thread_id=THREAD, message_id="m1", reason="wrong case")
    )
    assert isinstance(gone.event, MessageDeleted) and gone.event.reason == "wrong case"
    with pytest.raises(Rejected) as refused:
        decide(state, EditMessage(actor=ANNA, thread_id=THREAD, message_id="m1", text="y"), now=NOW)
    assert refused.value.status == 410


def test_read_marks_move_forward_only_and_a_repeated_post_is_not_doubled() -> None:
    """Marking read past the last message is a 409; marking again at the same place records
    nothing; the same message id posted twice by its author is one message."""
    state = opened()
    with pytest.raises(Rejected) as refused:
        decide(state, MarkThreadRead(actor=IOANA, thread_id=THREAD, seq=5), now=NOW)
    assert refused.value.status == 409
    state, (read,) = run(state, MarkThreadRead(actor=IOANA, thread_id=THREAD, seq=1))
    assert isinstance(read.event, ThreadRead) and read.releasable_to == frozenset({"RO-DIICOT"})
    assert decide(state, MarkThreadRead(actor=IOANA, thread_id=THREAD, seq=1), now=NOW) == []
    assert decide(state, post(ANNA, "m1"), now=NOW) == []
    with pytest.raises(Rejected) as taken:
        decide(state, post(IOANA, "m1"), now=NOW)
    assert taken.value.status == 409
