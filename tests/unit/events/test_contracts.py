"""Contracts generated from the models: no drift, no breaking change to a published schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from events.catalogue import CATALOGUE
from events.compat import breaking_changes
from events.schemas import all_contracts

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


def test_committed_contracts_match_the_models() -> None:
    """`make contracts` leaves no diff: every generated file equals the committed one."""
    generated = all_contracts()
    stale = [
        path
        for path, doc in generated.items()
        if not (CONTRACTS / path).exists()
        or json.loads((CONTRACTS / path).read_text()) != json.loads(json.dumps(doc))
    ]
    assert not stale, f"contracts drift from the models, run `make contracts`: {stale}"


def test_no_published_schema_is_broken_or_removed() -> None:
    """Every schema in contracts/published still exists and stays backward compatible."""
    published = sorted((CONTRACTS / "published").glob("*.json"))
    assert published, "no published baseline in contracts/published"
    current = {f"{e.type}.json": e for e in CATALOGUE}
    problems: list[str] = []
    for path in published:
        if path.name == "cloudevent.json":
            continue
        entry = current.get(path.name)
        if entry is None:
            problems.append(f"{path.stem}: published type removed")
            continue
        new = json.loads((CONTRACTS / "schemas" / path.name).read_text())
        problems += [
            f"{path.stem}: {p}"
            for p in breaking_changes(json.loads(path.read_text()), new, kind=entry.kind)
        ]
    assert not problems, "\n".join(problems)


def test_asyncapi_document_describes_every_topic_and_message() -> None:
    """The AsyncAPI 3.0 document has a channel per topic and a message per catalogued type."""
    doc = all_contracts()["asyncapi.json"]
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {e.topic.name for e in CATALOGUE} <= addresses
    assert "interlock.feed.{team}" in addresses
    assert {e.model.__name__ for e in CATALOGUE} <= set(doc["components"]["messages"])


BASE = {
    "type": "object",
    "properties": {
        "lead_id": {"type": "string"},
        "status": {"$ref": "#/$defs/Status"},
        "note": {"type": "string"},
    },
    "required": ["lead_id", "status"],
    "$defs": {"Status": {"enum": ["new", "closed"], "type": "string"}},
}


def changed(mutate) -> dict:  # type: ignore[no-untyped-def, type-arg]
    new = copy.deepcopy(BASE)
    mutate(new)
    return new


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s["properties"].pop("lead_id"), "lead_id: required field removed or renamed"),
        (lambda s: s["properties"].update(lead_id={"type": "integer"}), "lead_id: type changed"),
        (lambda s: s["$defs"]["Status"].update(enum=["new"]), "enum value 'closed' removed"),
        (lambda s: s["properties"].pop("note"), "note: field removed"),
    ],
)
def test_breaking_changes_are_detected(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    """Removing or renaming a required field, changing a type, or dropping an enum value breaks."""
    problems = breaking_changes(BASE, changed(mutate))
    assert any(expected in p for p in problems), problems


def test_additive_changes_are_compatible() -> None:
    """A new optional field or a new enum value is not a breaking change."""

    def additive(s: dict) -> None:  # type: ignore[type-arg]
        s["properties"]["extra"] = {"type": "string"}
        s["$defs"]["Status"]["enum"].append("archived")

    assert breaking_changes(BASE, changed(additive)) == []


def test_a_new_required_field_breaks_command_senders_only() -> None:
    """A new required field breaks senders of a command, not readers of an event."""

    def require(s: dict) -> None:  # type: ignore[type-arg]
        s["properties"]["reason"] = {"type": "string"}
        s["required"].append("reason")

    assert breaking_changes(BASE, changed(require), kind="event") == []
    assert breaking_changes(BASE, changed(require), kind="command")


def test_asyncapi_document_validates_with_the_asyncapi_parser() -> None:
    """The published AsyncAPI document passes the official AsyncAPI parser without errors."""
    import os
    import shutil
    import subprocess

    tools = CONTRACTS / "tools"
    if shutil.which("node") is None or not (tools / "node_modules" / "@asyncapi").exists():
        message = "AsyncAPI parser not installed (make contract-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        ["node", str(tools / "validate.mjs"), str(CONTRACTS / "asyncapi.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid AsyncAPI 3.0.0" in result.stdout


def test_the_team_feed_lists_exactly_the_types_a_feed_carries() -> None:
    """The release feeds every event of a fed topic and nothing else; the document says so."""
    from events.schemas import asyncapi
    from services.release.policy import fed_topics

    doc = asyncapi()
    listed = set(doc["channels"]["teamFeed"]["messages"])
    fed = {e.model.__name__ for t in fed_topics() for e in CATALOGUE.on_topic(t)}
    assert listed == fed
    never = {"directory", "command", "audit"}
    assert not [
        e.type for e in CATALOGUE if e.model.__name__ in listed and e.type.split(".")[1] in never
    ]


def test_sealed_types_are_sealed_messages_on_their_own_topic_and_readable_in_feeds() -> None:
    from events.schemas import asyncapi, sealed_types

    doc = asyncapi()
    sealed = sealed_types()
    assert sealed, "no sealed type: the test would prove nothing"
    for entry in CATALOGUE:
        if entry.type not in sealed:
            continue
        on_topic = [c for c in doc["channels"].values() if c["address"] == entry.topic.name]
        [channel] = on_topic
        name = entry.model.__name__
        assert f"{name}Sealed" in channel["messages"] and name not in channel["messages"]
        assert name in doc["channels"]["teamFeed"]["messages"]
    payload = doc["components"]["schemas"]["SealedCloudEvent"]
    assert payload["properties"]["datacontenttype"]["const"] == "application/jose"


def test_every_type_on_the_wire_has_a_schema() -> None:
    """Catalogued and internal types alike: no record on any topic goes undocumented."""
    from events.catalogue import INTERNAL

    files = all_contracts()
    missing = [e.type for e in [*CATALOGUE, *INTERNAL] if f"schemas/{e.type}.json" not in files]
    assert not missing
    assert "schemas/interlock.deconfliction.forget_source.json" in files
    assert files["schemas/interlock.deconfliction.forget_source.json"]["x-interlock-internal"]


def test_a_sealed_record_matches_the_sealed_schema() -> None:
    """A real sealed wire form validates against sealed-cloudevent.json, and not cloudevent.json."""
    import jsonschema

    from events import sealing
    from events.schemas import envelope_schema, sealed_envelope_schema
    from tests.unit.events.test_sealing import MemoryRing, on_topic, submitted

    sealing.install(MemoryRing())
    try:
        wire = json.loads(on_topic(submitted()))
    finally:
        sealing.install(None)
    assert wire["datacontenttype"] == "application/jose"
    jsonschema.validate(wire, sealed_envelope_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wire, envelope_schema())
