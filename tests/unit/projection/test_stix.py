"""STIX 2.1 export of a team-scoped graph view: built with stix2, valid for stix2-validator with
no error, read back by stix2 with the same objects, TLP 2.0 and handling markings on every
object, H2 records of another team kept out (the disclosure policy)."""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_string

from events.handling import HandlingCode, Tlp
from services.kit.disclosure import Viewer
from services.projection.stix import (
    HANDLING_EXTENSION,
    TLP2_IDS,
    handling_marking_id,
    stix_bundle,
)
from tests.unit.projection.test_export import GRAPH, LEAD, OPERATION, edge, node

VIEWER = Viewer(team="NL-KLPD", member="anna")


def _bundle(graph: dict[str, Any] = GRAPH, viewer: Viewer = VIEWER) -> dict[str, Any]:
    return json.loads(stix_bundle(graph, viewer).serialize())


def test_the_bundle_validates_with_no_error() -> None:
    """stix2-validator (STIX 2.1) finds no error in the whole bundle."""
    text = json.dumps(_bundle())
    results = validate_string(text, ValidationOptions(version="2.1"))
    errors = [str(e) for e in results.errors or ()]
    assert errors == []
    assert results.is_valid


def test_stix2_reads_the_bundle_back_with_the_same_objects() -> None:
    """Parsing the serialised bundle with stix2 gives as many objects, with the same ids."""
    bundle = _bundle()
    again = stix2.parse(json.dumps(bundle), allow_custom=True)
    assert len(again.objects) == len(bundle["objects"])
    assert [o["id"] for o in again.objects] == [o["id"] for o in bundle["objects"]]


def test_every_object_carries_a_tlp_and_a_handling_marking() -> None:
    """Every object but the marking definitions names exactly one TLP 2.0 marking; every
    object made of the team's data names exactly one handling code too."""
    tlp_ids = set(TLP2_IDS.values())
    handling_ids = {handling_marking_id(c) for c in HandlingCode}
    fixed = {"marking-definition", "extension-definition"}
    for obj in _bundle()["objects"]:
        if obj["type"] == "marking-definition":
            continue
        marks = obj.get("object_marking_refs", [])
        assert len(tlp_ids.intersection(marks)) == 1, obj["id"]
        if obj["type"] not in fixed and obj.get("name") != "Interlock":
            assert len(handling_ids.intersection(marks)) == 1, obj["id"]


def test_the_mapping_uses_stix_types_and_the_interlock_observables() -> None:
    """Suspect → threat-actor, victim → identity, lead → report, operation → note + location,
    identifiers → email-addr, user-account and x-interlock-* observables."""
    types = {o["type"] for o in _bundle()["objects"]}
    assert types >= {
        "threat-actor",
        "identity",
        "report",
        "note",
        "location",
        "relationship",
        "email-addr",
        "user-account",
        "x-interlock-phone-number",
        "x-interlock-bank-account",
        "x-interlock-vehicle",
        "x-interlock-identity-document",
        "x-interlock-crypto-wallet",
        "x-interlock-address",
        "marking-definition",
        "extension-definition",
    }
    by_name = {o.get("name"): o for o in _bundle()["objects"]}
    assert by_name["Ion Popescu"]["type"] == "threat-actor"
    assert by_name["Victim 1A2B3C4D"]["type"] == "identity"
    report = by_name["Lead lead1"]
    assert by_name["Ion Popescu"]["id"] in report["object_refs"]


def test_a_lead_marking_reaches_what_it_mentions() -> None:
    """A RED/H1 lead marks its suspect (and the suspect's identifiers) RED/H1 too."""
    red = {**LEAD, "data": {**LEAD["data"], "tlp": "RED", "handling": "H1"}}
    graph = {
        "nodes": [n if n["id"] != LEAD["id"] else red for n in GRAPH["nodes"]],
        "edges": GRAPH["edges"],
    }
    objects = _bundle(graph)["objects"]
    suspect = next(o for o in objects if o.get("name") == "Ion Popescu")
    assert set(suspect["object_marking_refs"]) == {
        TLP2_IDS[Tlp.RED],
        handling_marking_id(HandlingCode.H1),
    }
    phone = next(o for o in objects if o["type"] == "x-interlock-phone-number")
    assert TLP2_IDS[Tlp.RED] in phone["object_marking_refs"]


def test_another_teams_h2_lead_stays_out_of_the_export() -> None:
    """H2 leaves in no export but its originator's: RO sees the lead in its graph, but its
    STIX export has no report of it, and its originator's export has."""
    h2 = {**LEAD, "data": {**LEAD["data"], "handling": "H2"}}
    graph = {
        "nodes": [n if n["id"] != LEAD["id"] else h2 for n in GRAPH["nodes"]],
        "edges": GRAPH["edges"],
    }
    ro = _bundle(graph, Viewer(team="RO-DIICOT", member="ioana"))
    assert not [o for o in ro["objects"] if o["type"] == "report"]
    nl = _bundle(graph)
    assert [o["name"] for o in nl["objects"] if o["type"] == "report"] == ["Lead lead1"]


def test_handling_codes_are_marking_definitions_of_the_interlock_extension() -> None:
    """H0, H1 and H2 are marking definitions whose extension states the condition."""
    marks = {o["id"]: o for o in _bundle()["objects"] if o["type"] == "marking-definition"}
    h1 = marks[handling_marking_id(HandlingCode.H1)]
    assert h1["extensions"][HANDLING_EXTENSION]["code"] == "H1"
    assert "evidence" in h1["extensions"][HANDLING_EXTENSION]["condition"]
    assert marks[TLP2_IDS[Tlp.AMBER]]["name"] == "TLP:AMBER"


def test_an_operation_is_a_note_on_its_place() -> None:
    """The operation's note refers to a location with its coordinates."""
    objects = {o["id"]: o for o in _bundle()["objects"]}
    note = next(o for o in objects.values() if o["type"] == "note")
    place = objects[note["object_refs"][0]]
    assert place["type"] == "location"
    assert (place["latitude"], place["longitude"]) == (
        OPERATION["data"]["latitude"],
        OPERATION["data"]["longitude"],
    )


def test_people_linked_to_people_become_relationships() -> None:
    """A LINKED_TO edge between two persons is a related-to relationship."""
    graph = {
        "nodes": [*GRAPH["nodes"], node("Person", "p3", name="Dan Ionescu", role="suspect")],
        "edges": [*GRAPH["edges"], edge("LINKED_TO", "Person:p1", "Person:p3")],
    }
    rels = [o for o in _bundle(graph)["objects"] if o.get("description") == "linked to"]
    assert len(rels) == 1


def test_a_lead_published_at_neo4j_nanoseconds_is_a_stix_timestamp() -> None:
    """Neo4j writes times to the nanosecond; the report's ``published`` keeps the microseconds."""
    lead = {**LEAD, "data": {**LEAD["data"], "submitted_at": "2026-03-02T10:00:01.123456789Z"}}
    graph = {"nodes": [n if n["id"] != LEAD["id"] else lead for n in GRAPH["nodes"]],
             "edges": GRAPH["edges"]}  # fmt: skip
    report = next(o for o in _bundle(graph)["objects"] if o["type"] == "report")
    assert report["published"] == "2026-03-02T10:00:01.123456Z"
