"""The leak test for threads and evidence: random teams, threads, messages, files, markings and
victims, folded into the gateway's read models; then every read, for every team, is checked
against an independent model of who may see what.

The model is deliberately separate from the policy's code: a member sees a message or a file when
their team wrote it, or it was released to their team and is not TLP:RED (no named readers
here); a thread when their team is in its audience; an H2 file leaves in an export of its
originating team only. No name of a victim recorded by another team appears in any text a team
is shown (message text, edit history), whatever the thread.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.audit import Justification
from events.evidence import EvidenceRegistered
from events.handling import HandlingCode, Tlp
from events.identifiers import Person, PersonRole
from events.leads import EntityObserved
from events.messaging import MessageEdited, MessagePosted
from services.evidence.ledger import Ledger
from services.kit.disclosure import Viewer
from services.kit.settings import Settings
from services.kit.victims import Victims
from services.messaging.ledger import Messages

TEAMS = ("NL-KLPD", "RO-DIICOT", "BG-GDBOP", "DE-BKA")
VICTIMS = {
    "NL-KLPD": "Zorvana Kelmitru",
    "RO-DIICOT": "Drusilla Vantorescu",
    "BG-GDBOP": "Radoslava Brenkova",
    "DE-BKA": "Wilhelmine Quastberg",
}
"""One victim per team, recorded by that team: names that occur nowhere else."""
AT = datetime(2026, 1, 1, tzinfo=UTC)
WHY = Justification(case="C", reason="r")

team = st.sampled_from(TEAMS)
teams = st.frozensets(team)
tlp = st.sampled_from(list(Tlp))
message = st.tuples(team, teams, tlp, teams, st.booleans())
"""(author's team, teams released to, TLP, victims named in its text by recording team, edited)"""
thread = st.tuples(team, teams, st.lists(message, min_size=1, max_size=6))
"""(originator, audience besides it, messages)"""
item = st.tuples(team, teams, tlp, st.sampled_from(list(HandlingCode)))


def member(of: str) -> Viewer:
    return Viewer(team=of, member=f"m-{of.lower()}")


def victims() -> Victims:
    book = Victims(Settings())
    for n, (recorder, name) in enumerate(VICTIMS.items()):
        seen = EntityObserved(
            lead_id=f"lead-{n}", entity_id=f"victim-{n}", person=Person(name=name),
            role=PersonRole.VICTIM,
        )  # fmt: skip
        book.observe("jit-1", recorder, seen)
    return book


@settings(max_examples=300, deadline=None)
@given(st.lists(thread, min_size=1, max_size=4))
def test_no_team_reads_a_message_or_a_victim_it_may_not(threads: list) -> None:  # type: ignore[type-arg]
    """Every team's view of every thread equals the model's, and hides other teams' victims."""
    messages = Messages(Settings(), victims())
    expected: dict[tuple[str, str], set[str]] = {}
    thread_audience: dict[str, frozenset[str]] = {}
    serial = 0
    for t, (originator, others, posts) in enumerate(threads):
        thread_id = f"lead:lead-{t}"
        audience = frozenset({originator, *others})
        thread_audience[thread_id] = audience
        for seq, (author, released, label, named, edited) in enumerate(posts, start=1):
            author = author if author in audience else originator
            shown_to = frozenset({author, *(released & audience)})
            text = "Met " + ", ".join(VICTIMS[v] for v in sorted(named)) + " at the farm"
            serial += 1
            message_id = f"m{serial}"
            posted = MessagePosted(
                thread_id=thread_id, subject_id=f"lead-{t}", message_id=message_id, seq=seq,
                by=f"m-{author.lower()}", team=author, text=text, tlp=label,
                audience=tuple(sorted(shown_to)),
                thread_audience=tuple(sorted(audience)) if seq == 1 else (),
            )  # fmt: skip
            with messages._lock:
                messages.fold(
                    f"e{serial}", "jit-1", originator, AT + timedelta(seconds=serial), posted
                )
                if edited:
                    edit = MessageEdited(
                        thread_id=thread_id, subject_id=f"lead-{t}", message_id=message_id,
                        by=posted.by, team=author, text=text + " again", version=2,
                    )  # fmt: skip
                    messages.fold(f"x{serial}", "jit-1", originator, AT, edit)
            for viewer_team in TEAMS:
                if viewer_team == author or (viewer_team in shown_to and label is not Tlp.RED):
                    expected.setdefault((thread_id, viewer_team), set()).add(message_id)

    for thread_id, audience in thread_audience.items():
        folded = messages.thread(thread_id)
        assert folded is not None
        for viewer_team in TEAMS:
            viewer = member(viewer_team)
            assert folded.visible_to(viewer) == (viewer_team in audience)
            shown = messages.view(folded, viewer)
            assert {m["message_id"] for m in shown} == expected.get((thread_id, viewer_team), set())
            hidden = [name for recorder, name in VICTIMS.items() if recorder != viewer_team]
            for m in shown:
                texts = [m["text"] or "", *(h["text"] or "" for h in m["history"])]
                for text in texts:
                    for name in hidden:
                        for part in name.split():
                            assert part not in text, (viewer_team, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(item, min_size=1, max_size=8))
def test_no_team_sees_or_exports_a_file_it_may_not(items: list) -> None:  # type: ignore[type-arg]
    """Every team's list of files equals the model's; H2 leaves in its originator's export only."""
    ledger = Ledger(Settings())
    for n, (originator, released, label, code) in enumerate(items):
        registered = EvidenceRegistered(
            evidence_id=f"ev-{n}", subject_id=f"lead-{n}", by="x", team=originator,
            justification=WHY, filename="f.bin", media_type="application/octet-stream", size=1,
            blob="c" * 64, sha256="a" * 64, sha512="b" * 128, tlp=label, handling=code,
            releasable_to=tuple(sorted(released - {originator})),
        )  # fmt: skip
        ledger.fold(f"e{n}", "jit-1", AT, registered)
    for viewer_team in TEAMS:
        viewer = member(viewer_team)
        for n, (originator, released, label, code) in enumerate(items):
            found = ledger.get(f"ev-{n}")
            assert found is not None
            own = viewer_team == originator
            visible = own or (viewer_team in released and label is not Tlp.RED)
            assert found.visible_to(viewer) == visible
            assert found.exportable_by(viewer) == (visible and (own or code is not HandlingCode.H2))
            further = label in (Tlp.RED, Tlp.AMBER_STRICT) or code is HandlingCode.H2
            if not own and further:
                assert not found.visible_to(Viewer.feed(viewer_team))
