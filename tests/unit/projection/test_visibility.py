"""The visibility rule and how a node is shown to a team (pure; no Neo4j)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.handling import victim_pseudonym
from services.projection.scoping import (
    FIELDS,
    ScopeViolationError,
    checked,
    graph_edge,
    graph_node,
    identity_visible,
    may_see,
    present,
)

TEAMS = st.sampled_from(["NL-KLPD", "RO-DIICOT", "BG-GDNP", "IT-SCO", "DE-BKA"])


@given(team=TEAMS, audience=st.lists(TEAMS, unique=True))
def test_a_team_sees_exactly_what_its_audience_names(team: str, audience: list[str]) -> None:
    """may_see is membership of the audience: no default sharing, no wildcard."""
    assert may_see(team, audience) is (team in audience)


def test_an_element_without_an_audience_is_seen_by_nobody() -> None:
    """Placeholders (no audience yet) are invisible to every team."""
    assert not may_see("NL-KLPD", None)
    assert not may_see("NL-KLPD", [])


@given(team=TEAMS, audience=st.lists(TEAMS, unique=True))
def test_checked_refuses_what_the_team_may_not_see(team: str, audience: list[str]) -> None:
    """The Python guard raises for any element outside the team's audience."""
    element = {"id": "x", "audience": audience}
    if team in audience:
        assert checked(team, element) is element
    else:
        with pytest.raises(ScopeViolationError):
            checked(team, element)


def _victim(originator: str, audience: list[str]) -> dict[str, object]:
    return {
        "id": "person-1",
        "jit": "jit-1",
        "originator": originator,
        "name": "Maria Ivanova",
        "latin_name": "Maria Ivanova",
        "date_of_birth": "1999-01-02",
        "nationality": "MD",
        "role": "victim",
        "victim": True,
        "audience": audience,
        "identity_audience": [originator],
    }


@given(viewer=TEAMS)
def test_a_victim_is_a_pseudonym_to_every_team_but_its_originator(viewer: str) -> None:
    """Name, transliteration, birth date and nationality of a victim reach only the originator."""
    props = _victim("NL-KLPD", ["NL-KLPD", viewer])
    shown = present(viewer, ["Entity", "Person"], props)
    text = json.dumps(shown, ensure_ascii=False)
    if viewer == "NL-KLPD":
        assert shown["name"] == "Maria Ivanova"
    else:
        assert shown["name"] == victim_pseudonym("person-1")
        assert shown["pseudonymised"] is True
        for secret in ("Maria", "Ivanova", "1999", "MD"):
            assert secret not in text


def test_identity_follows_the_identity_audience_when_there_is_one() -> None:
    """A released victim identity (identity_audience widened) is shown; without it, a pseudonym."""
    props = _victim("NL-KLPD", ["NL-KLPD", "RO-DIICOT"])
    assert not identity_visible("RO-DIICOT", props)
    assert identity_visible("RO-DIICOT", {**props, "identity_audience": ["NL-KLPD", "RO-DIICOT"]})


@given(team=TEAMS)
def test_scoping_lists_and_bookkeeping_never_leave_the_views(team: str) -> None:
    """audience, identity_audience, versions and event ids are never shown, on any kind."""
    secret = {
        "audience": [team, "ZZ-OTHER"],
        "identity_audience": [team],
        "version": 3,
        "updated_at": "2025-01-01T00:00:00+00:00",
        "last_event_id": "e-1",
        "desk_version": 1,
    }
    for kind in FIELDS:
        props = {"id": "x", **dict.fromkeys(FIELDS[kind], "v"), "tlp": "AMBER", **secret}
        props.pop("handling", None)
        shown = present(team, [kind], props)
        assert not set(shown) & {"audience", "identity_audience", "version", "last_event_id"}
        assert "ZZ-OTHER" not in json.dumps(shown)


def test_only_the_originator_is_told_whom_its_lead_is_shared_with() -> None:
    """shared_with names the other teams of a lead only to the team that recorded it."""
    props = {"id": "l1", "originator": "NL-KLPD", "audience": ["NL-KLPD", "RO-DIICOT", "IT-SCO"]}
    assert present("NL-KLPD", ["Lead"], props)["shared_with"] == ["RO-DIICOT", "IT-SCO"]
    assert "shared_with" not in present("RO-DIICOT", ["Lead"], props)


def test_graph_elements_are_checked_and_shaped_for_a_graph_view() -> None:
    """graph_node and graph_edge give {id, kind, label, data} / {id, source, target, type}."""
    node = graph_node("RO-DIICOT", ["Entity", "Person"], _victim("NL-KLPD", ["RO-DIICOT"]))
    assert node["id"] == "Person:person-1"
    assert node["kind"] == "Person"
    assert node["label"] == victim_pseudonym("person-1")
    edge = graph_edge(
        "RO-DIICOT", "MENTIONS", {"audience": ["RO-DIICOT"], "key": "victim"}, "Lead:l", node["id"]
    )
    assert edge == {
        "id": "MENTIONS:Lead:l->Person:person-1:victim",
        "source": "Lead:l",
        "target": "Person:person-1",
        "type": "MENTIONS",
        "data": {"role": "victim"},
    }
    with pytest.raises(ScopeViolationError):
        graph_edge("IT-SCO", "MENTIONS", {"audience": ["RO-DIICOT"]}, "a", "b")


def test_canonical_values_do_not_depend_on_time_zones_or_point_types() -> None:
    """The canonical hash sees one instant in any zone as one value, and keeps a point's SRID."""
    from datetime import UTC, datetime, timedelta, timezone

    from neo4j.spatial import WGS84Point

    from services.projection.canonical import canonical

    instant = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    shifted = instant.astimezone(timezone(timedelta(hours=2)))
    assert canonical(instant) == canonical(shifted) == "2025-03-01T08:00:00+00:00"
    assert canonical(WGS84Point((26.1, 44.4))) == {
        "srid": 4326,
        "coordinates": ["26.1", "44.4"],
    }
    assert canonical(["b", "a"]) == ["b", "a"]
