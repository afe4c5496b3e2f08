"""FollowTheMoney export of a team-scoped graph view (pure; validated by followthemoney)."""

from __future__ import annotations

from typing import Any

from followthemoney import model

from services.projection.export import ftm_entities


def node(label: str, ref: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"{label}:{ref}",
        "ref": ref,
        "kind": label,
        "label": ref,
        "data": {"id": ref, **data},
    }


def ident(ref: str, kind: str, value: str, country: str | None = None) -> dict[str, Any]:
    return node("Identifier", ref, kind=kind, value=value, country=country)


def edge(rel: str, source: str, target: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"{rel}:{source}->{target}",
        "source": source,
        "target": target,
        "type": rel,
        "data": data,
    }


SUSPECT = node(
    "Person", "p1", name="Ion Popescu", date_of_birth="1984-03-02", nationality="RO", role="suspect"
)
VICTIM = node("Person", "p2", name="Victim 1A2B3C4D", pseudonymised=True, role="victim")
LEAD = node(
    "Lead",
    "lead1",
    summary="Workers housed at a farm",
    originator="NL-KLPD",
    source="ngo",
    reliability="B",
    credibility="2",
)
OPERATION = node(
    "Operation",
    "op1",
    kind="search",
    status="planned",
    team="NL-KLPD",
    starts_at="2025-03-03T08:00:00+00:00",
    ends_at="2025-03-03T12:00:00+00:00",
    latitude=44.43,
    longitude=26.1,
    radius_m=500.0,
)
IDENTIFIERS = [
    ident("i1", "phone", "+40721555123"),
    ident("i2", "iban", "RO49AAAA1B31007593840000"),
    ident("i3", "vehicle_plate", "B123ABC", "RO"),
    ident("i4", "handle", "telegram:ionp"),
    ident("i5", "document", "AB123456", "RO"),
    ident("i6", "crypto_wallet", "0x" + "a" * 40),
    ident("i7", "address", "strada lunga 5 bucuresti"),
    ident("i8", "email", "ion@example.org"),
]
GRAPH = {
    "nodes": [
        SUSPECT,
        VICTIM,
        *IDENTIFIERS,
        node("Organisation", "o1", name="Harvest Agro SRL", country="RO"),
        node("Location", "l1", name="Farm near Ilfov", latitude=44.5, longitude=26.1),
        LEAD,
        OPERATION,
    ],
    "edges": [
        *(edge("HAS_IDENTIFIER", "Person:p1", i["id"]) for i in IDENTIFIERS),
        edge("MENTIONS", "Lead:lead1", "Person:p1", role="suspect"),
        edge("MENTIONS", "Lead:lead1", "Person:p2", role="victim"),
        edge("MENTIONS", "Lead:lead1", "Organisation:o1", role="none"),
    ],
}

EXPECTED_SCHEMATA = {
    "Person",
    "UserAccount",
    "BankAccount",
    "Ownership",
    "Vehicle",
    "Identification",
    "CryptoWallet",
    "Address",
    "Organization",
    "Note",
    "Event",
    "UnknownLink",
}


def test_every_entity_is_valid_followthemoney() -> None:
    """Each exported entity re-parses with followthemoney and has its schema's required fields."""
    entities = list(ftm_entities(GRAPH))
    schemata = {e["schema"] for e in entities}
    assert schemata >= EXPECTED_SCHEMATA
    for data in entities:
        proxy = model.get_proxy(data)
        for required in proxy.schema.required:
            assert proxy.get(required), f"{proxy.schema.name} lacks {required}"


def test_a_persons_phone_email_and_address_are_on_the_person() -> None:
    """Phones and emails are properties of their owner in FtM; an address is linked to it."""
    entities = {
        e["schema"] + ":" + e["properties"].get("name", [""])[0]: e for e in ftm_entities(GRAPH)
    }
    person = entities["Person:Ion Popescu"]["properties"]
    assert person["phone"] == ["+40721555123"]
    assert person["email"] == ["ion@example.org"]
    assert person["birthDate"] == ["1984-03-02"]
    assert person["addressEntity"]


def test_a_pseudonymised_victim_is_exported_as_its_pseudonym_only() -> None:
    """The export carries what the team sees: the pseudonym, no other identity."""
    victims = [e for e in ftm_entities(GRAPH) if e["properties"].get("name") == ["Victim 1A2B3C4D"]]
    assert len(victims) == 1
    assert set(victims[0]["properties"]) <= {"name", "description"}


def test_a_value_followthemoney_refuses_is_left_out_and_named() -> None:
    """An unrepresentable date is left out of the entity and named, not silently dropped, and
    does not fail the whole export."""
    broken = {
        "nodes": [node("Person", "p1", name="Ion", date_of_birth="not a date", role="suspect")],
        "edges": [],
    }
    skipped: list[str] = []
    entities = list(ftm_entities(broken, skipped))
    assert skipped == ["Person.birthDate"]
    assert entities[0]["properties"]["name"] == ["Ion"]
    assert "birthDate" not in entities[0]["properties"]


def test_ids_are_stable_across_exports() -> None:
    """The same graph exports the same entity ids, so tools can merge repeated exports."""
    assert [e["id"] for e in ftm_entities(GRAPH)] == [e["id"] for e in ftm_entities(GRAPH)]
