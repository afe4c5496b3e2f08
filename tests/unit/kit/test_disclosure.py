"""The disclosure policy, alone: releasability, TLP, handling codes and victim redaction."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.handling import HandlingCode, Tlp
from services.kit.disclosure import (
    Marking,
    Record,
    Redactor,
    Victim,
    VictimBook,
    Viewer,
    may_export,
    may_feed,
    may_see,
    regions_of,
    victim_marker,
    visible_links,
)

NL, RO, DE = "NL-KLPD", "RO-DIICOT", "DE-BKA"

ELENA = Victim(
    entity_id="11111111-1111-4111-8111-111111111111",
    team=NL,
    names=("Elena Marin", "Елена Марин"),
    birth_date=date(1999, 4, 7),
    identifiers=(
        ("phone", "+31621343645"),
        ("email", "elena.marin@example.org"),
        ("iban", "NL91ABNA0417164300"),
        ("document", "RO1234567"),
    ),
    identity_audience=frozenset({NL}),
)
MARK = victim_marker(ELENA.entity_id)


def redactor() -> Redactor:
    return VictimBook((ELENA,), regions_of([NL, RO, DE])).redactor(RO)


def test_originator_sees_everything_of_its_own() -> None:
    """The originating team sees its own record whatever the marking."""
    record = Record.of(NL, [], tlp=Tlp.RED, handling=HandlingCode.H2)
    assert may_see(Viewer(NL, "anna"), record)


def test_nothing_is_shared_by_default() -> None:
    """A team the record was not released to sees nothing of it."""
    assert not may_see(Viewer(RO, "ioana"), Record.of(NL, []))
    assert may_see(Viewer(RO, "ioana"), Record.of(NL, [RO]))


def test_red_is_for_named_readers_only() -> None:
    """TLP:RED released to a team: only the members the originator named read it."""
    record = Record.of(NL, [RO], tlp=Tlp.RED, readers=["ioana"])
    assert may_see(Viewer(RO, "ioana"), record)
    assert not may_see(Viewer(RO, "mihai"), record)
    assert not may_see(Viewer(RO), record)
    assert not may_feed(RO, record)
    assert may_feed(NL, record)


def test_amber_strict_and_h2_never_reach_another_teams_feed() -> None:
    """AMBER+STRICT and H2 stay with the receiving team's members, off its national system."""
    strict = Record.of(NL, [RO], tlp=Tlp.AMBER_STRICT)
    h2 = Record.of(NL, [RO], handling=HandlingCode.H2)
    for record in (strict, h2):
        assert may_see(Viewer(RO, "ioana"), record)
        assert not may_feed(RO, record)
    assert may_feed(RO, Record.of(NL, [RO], tlp=Tlp.AMBER, handling=HandlingCode.H1))


def test_h2_is_not_exportable_by_another_team() -> None:
    """H2 leaves in no export but its originator's."""
    h2 = Record.of(NL, [RO], handling=HandlingCode.H2)
    assert not may_export(Viewer(RO, "ioana"), h2)
    assert may_export(Viewer(NL, "anna"), h2)
    assert may_export(Viewer(RO, "ioana"), Record.of(NL, [RO], handling=HandlingCode.H1))


def test_markings_carry_the_condition() -> None:
    """H1 and H2 name their condition; every banner names the TLP label."""
    assert "evidence" in (Marking(Tlp.AMBER, HandlingCode.H1).condition or "")
    assert Marking(Tlp.RED, HandlingCode.H2).banner.startswith("TLP:RED / H2")
    assert Marking().as_dict()["condition"] is None


@pytest.mark.parametrize(
    "text",
    [
        "one woman (Elena Marin) says she was recruited",
        "one woman (ELENA MARIN) says",
        "one woman (Марин Елена) says",
        "she calls from +31 6213 43645 at night",
        "she calls from 06 213 43645 at night",
        "she calls from 0031621343645 at night",
        "write to Elena.Marin@example.org",
        "paid into NL91 ABNA 0417 1643 00",
        "passport RO-1234567 was taken",
        "born 07.04.1999 in Iasi",
        "born 1999-04-07 in Iasi",
    ],
)
def test_victim_data_is_redacted_in_any_written_form(text: str) -> None:
    """Names in any script and case, numbers in any form: all become the victim's marker."""
    shown = redactor().redact(text) or ""
    assert MARK in shown
    for secret in ("Marin", "Марин", "43645", "example.org", "0417", "1234567", "1999"):
        assert secret.lower() not in shown.lower(), shown


def test_a_full_name_becomes_one_marker() -> None:
    """ "Elena Marin" is one pseudonym, not two, so the text still reads."""
    assert redactor().redact("one woman (Elena Marin) says") == f"one woman ({MARK}) says"


def test_the_recording_team_reads_the_text_unchanged() -> None:
    """The team that recorded the victim has no redactor of her."""
    book = VictimBook((ELENA,), regions_of([NL, RO]))
    text = "one woman (Elena Marin) says"
    assert book.redactor(NL).redact(text) == text


def test_other_words_stay() -> None:
    """Words that are not a victim's name or number are not touched."""
    text = "Workers housed at a farm near Marinesti; call +40 721 555 123."
    assert redactor().redact(text) == text


@pytest.mark.parametrize("query", ["Marin", "marin", "Mar", "Марин", "elena", "43645"])
def test_search_by_a_victims_data_finds_nothing(query: str) -> None:
    """Search matches the redacted text: a victim's name, fragment or number finds nothing."""
    assert not redactor().matches(query, "one woman (Elena Marin) +31 6213 43645 says")


def test_search_finds_what_the_viewer_may_read() -> None:
    """Search still finds the words a viewer may read, in any case."""
    assert redactor().matches("One WOMAN", "one woman (Elena Marin) says")


def test_links_to_records_not_released_are_dropped() -> None:
    """A link to a record the viewer may not see, or does not know, is dropped."""
    records = {"a": Record.of(NL, [RO]), "b": Record.of(NL, []), "c": None}
    assert visible_links(Viewer(RO), ["a", "b", "c", "d"], records) == ("a",)


TEAMS = st.sampled_from([NL, RO, DE, "BG-GDBOP"])


@settings(max_examples=2_000, deadline=None)
@given(
    originator=TEAMS,
    released=st.frozensets(TEAMS, max_size=4),
    tlp=st.sampled_from(list(Tlp)),
    code=st.sampled_from(list(HandlingCode)),
    viewer_team=TEAMS,
    member=st.sampled_from(["m1", "m2", None]),
    readers=st.frozensets(st.sampled_from(["m1", "m2"]), max_size=2),
    national=st.booleans(),
)
def test_no_rule_ever_widens_the_audience(
    originator: str,
    released: frozenset[str],
    tlp: Tlp,
    code: HandlingCode,
    viewer_team: str,
    member: str | None,
    readers: frozenset[str],
    national: bool,
) -> None:
    """Whatever the marking, nobody outside originator ∪ released sees a record; exports and
    feeds are never wider than reads; the originator always sees its own."""
    record = Record.of(originator, released, tlp=tlp, handling=code, readers=readers)
    viewer = Viewer(viewer_team, None if national else member, national)
    seen = may_see(viewer, record)
    if viewer_team not in released | {originator}:
        assert not seen
    if may_export(viewer, record):
        assert seen
    if viewer_team != originator and may_feed(viewer_team, record):
        assert may_see(Viewer(viewer_team, "m1"), record)
    if viewer_team == originator and not national:
        assert seen


def test_a_search_never_matches_inside_a_victims_marker() -> None:
    """The marker's hex digits are not content: ``+3166`` does not find ``[victim V-DC316664]``
    (a phone prefix once found a redacted text through its victim's pseudonym)."""
    victim = Victim(
        entity_id="v-Natalia-Georgieva-60961249",
        team=NL,
        names=("Natalia Georgieva",),
        identifiers=(("phone", "+31660961249"),),
    )
    redactor = VictimBook((victim,), ("NL", "RO")).redactor(RO)
    text = "+31660961249 she said."
    assert "3166" in (redactor.redact(text) or "")
    assert not redactor.matches("+3166", text)
    assert redactor.matches("she said", text)
