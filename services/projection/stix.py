"""What a team sees, as a STIX 2.1 bundle, for MISP and OpenCTI users.

The input is the same team-scoped graph as the FollowTheMoney export (``GraphViews.visible_graph``:
a victim is already a pseudonym, her identifiers already absent); Leads and operations are then
kept only where the disclosure policy lets the viewer export them (``disclosure.may_export``:
H2 leaves in no export but its originator's). This module only maps, with the ``stix2`` library,
which checks every object as it is made.

Mapping (the table is in docs/national-systems.md): a suspect is a ``threat-actor``, any other
person an ``identity`` (individual), an organisation an ``identity`` (organization), a place with
coordinates a ``location``, a lead a ``report`` of what it mentions, an operation a ``note`` on its
``location``; identifiers are ``email-addr``, ``url``, ``user-account`` (handles) or one of
Interlock's own observable types (``x-interlock-phone-number``, ``-bank-account``,
``-crypto-wallet``, ``-vehicle``, ``-identity-document``, ``-address``), each with its extension
definition; a person's identifiers and links are ``related-to`` relationships. Every object names
its TLP 2.0 marking definition (the OASIS ids) and its handling code's marking definition (the
``Interlock handling`` property extension) in ``object_marking_refs``.

Persons, organisations, places and identifiers carry no marking of their own in Interlock: each
gets the strictest marking of the leads that mention it (or of its owner), TLP:AMBER / H0 when
none does.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.properties import StringProperty

from events.handling import HandlingCode, Tlp
from services.kit.disclosure import CONDITIONS, Marking, Record, Viewer, may_export

NAMESPACE = uuid.UUID("0c0a1b8e-5e5d-4c1e-9f55-7d1b2c3e4f60")
EPOCH = "2026-01-01T00:00:00.000Z"
"""``created`` of Interlock's fixed objects (its identity, extension and handling definitions),
so that each export carries them with the same id and content."""

INTERLOCK_IDENTITY = "identity--" + str(uuid.uuid5(NAMESPACE, "interlock"))
HANDLING_EXTENSION = "extension-definition--" + str(uuid.uuid5(NAMESPACE, "handling"))
PROPERTIES_EXTENSION = "extension-definition--" + str(uuid.uuid5(NAMESPACE, "properties"))
SCHEMA_BASE = "https://interlock.example/contracts/stix"

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS: Mapping[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The OASIS TLP 2.0 marking definitions (cti-stix-common-objects), with their fixed ids."""

TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
HANDLING_ORDER = (HandlingCode.H0, HandlingCode.H1, HandlingCode.H2)


class StixExportError(ValueError):
    """An object the ``stix2`` library refuses; names the Interlock node."""


def handling_marking_id(code: HandlingCode) -> str:
    return "marking-definition--" + str(uuid.uuid5(NAMESPACE, f"handling:{code.value}"))


def identifier_extension(type_: str) -> str:
    """The extension definition of one of Interlock's new observable types (one type each)."""
    return "extension-definition--" + str(uuid.uuid5(NAMESPACE, f"sco:{type_}"))


NEW_OBSERVABLES: dict[str, str] = {}
"""Each new observable type and what it holds, for its extension definition."""


def _sco(type_: str, what: str, *props: str) -> type[Any]:
    """A new STIX cyber-observable type with an extension definition of its own."""
    properties = [(p, StringProperty(required=p == props[0])) for p in props]
    NEW_OBSERVABLES[type_] = what

    @stix2.v21.CustomObservable(
        type_, properties, id_contrib_props=[props[0]], extension_name=identifier_extension(type_)
    )
    class Observable:
        pass

    return Observable


PhoneNumber = _sco(
    "x-interlock-phone-number", "A phone number in E.164 form (value) where known.", "value",
    "country",
)  # fmt: skip
BankAccount = _sco(
    "x-interlock-bank-account", "A bank account: an IBAN or a national account number (kind).",
    "account", "kind",
)  # fmt: skip
CryptoWallet = _sco("x-interlock-crypto-wallet", "A crypto-currency wallet address.", "address")
Vehicle = _sco(
    "x-interlock-vehicle", "A vehicle by its registration plate and issuing country.",
    "registration_number", "country",
)  # fmt: skip
IdentityDocument = _sco(
    "x-interlock-identity-document", "An identity document (passport, ID card) by number and "
    "issuing country.", "number", "country",
)  # fmt: skip
Address = _sco("x-interlock-address", "A postal address as written.", "value", "country")

CUSTOM_OBSERVABLES = {
    "phone": "x-interlock-phone-number",
    "iban": "x-interlock-bank-account",
    "bank_account": "x-interlock-bank-account",
    "crypto_wallet": "x-interlock-crypto-wallet",
    "vehicle_plate": "x-interlock-vehicle",
    "document": "x-interlock-identity-document",
    "address": "x-interlock-address",
}


def _sdo_id(type_: str, ref: str) -> str:
    return f"{type_}--{uuid.uuid5(NAMESPACE, ref)}"


def fixed_objects() -> list[Any]:
    """Interlock's identity, its extension definitions, and every marking definition."""
    identity = stix2.v21.Identity(
        id=INTERLOCK_IDENTITY,
        created=EPOCH,
        modified=EPOCH,
        name="Interlock",
        identity_class="system",
        description="The JIT coordination platform that wrote this export.",
        object_marking_refs=[TLP2_IDS[Tlp.CLEAR]],
    )
    extensions = [
        stix2.v21.ExtensionDefinition(
            id=HANDLING_EXTENSION,
            created_by_ref=INTERLOCK_IDENTITY,
            created=EPOCH,
            modified=EPOCH,
            name="Interlock handling",
            description="SIENA-like handling codes (H0/H1/H2) as marking definitions: the "
            "condition a recipient must respect besides the TLP label.",
            schema=f"{SCHEMA_BASE}/handling.json",
            version="1.0.0",
            extension_types=["property-extension"],
            object_marking_refs=[TLP2_IDS[Tlp.CLEAR]],
        ),
        stix2.v21.ExtensionDefinition(
            id=PROPERTIES_EXTENSION,
            created_by_ref=INTERLOCK_IDENTITY,
            created=EPOCH,
            modified=EPOCH,
            name="Interlock properties",
            description="What Interlock knows of a person (role, date of birth, nationality, "
            "pseudonymised) or a lead (source, grading, status, originator) beyond STIX.",
            schema=f"{SCHEMA_BASE}/properties.json",
            version="1.0.0",
            extension_types=["property-extension"],
            object_marking_refs=[TLP2_IDS[Tlp.CLEAR]],
        ),
    ]
    extensions += [
        stix2.v21.ExtensionDefinition(
            id=identifier_extension(type_),
            created_by_ref=INTERLOCK_IDENTITY,
            created=EPOCH,
            modified=EPOCH,
            name=f"Interlock identifier {type_.removeprefix('x-interlock-')}",
            description=f"{what} An identifier kind STIX has no observable for.",
            schema=f"{SCHEMA_BASE}/{type_}.json",
            version="1.0.0",
            extension_types=["new-sco"],
            object_marking_refs=[TLP2_IDS[Tlp.CLEAR]],
        )
        for type_, what in NEW_OBSERVABLES.items()
    ]
    tlp = [
        stix2.v21.MarkingDefinition(
            id=TLP2_IDS[level],
            created="2022-10-01T00:00:00.000Z",
            name=f"TLP:{level.value}",
            extensions={
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": level.value.lower(),
                }
            },
        )
        for level in TLP_ORDER
    ]
    handling = [
        stix2.v21.MarkingDefinition(
            id=handling_marking_id(code),
            created=EPOCH,
            created_by_ref=INTERLOCK_IDENTITY,
            name=f"Interlock handling {code.value}",
            extensions={
                HANDLING_EXTENSION: {
                    "extension_type": "property-extension",
                    "code": code.value,
                    "condition": CONDITIONS[code] or "H0: for police and judicial purposes",
                }
            },
        )
        for code in HANDLING_ORDER
    ]
    return [identity, *extensions, *tlp, *handling]


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time as Neo4j writes it (up to nanoseconds) as an aware datetime; None when
    it is not one."""
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def strictest(markings: Iterable[Marking]) -> Marking:
    found = list(markings)
    if not found:
        return Marking()
    tlp = max((m.tlp for m in found), key=TLP_ORDER.index)
    code = max((m.code for m in found), key=HANDLING_ORDER.index)
    return Marking(tlp, code)


def refs(marking: Marking) -> list[str]:
    """``object_marking_refs`` of an object so marked: its TLP and its handling code."""
    return [TLP2_IDS[marking.tlp], handling_marking_id(marking.code)]


def exportable(graph: Mapping[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The graph without the leads and operations the disclosure policy keeps out of
    ``viewer``'s exports (the graph already holds only what the team may see)."""
    dropped = set()
    for node in graph["nodes"]:
        if node["kind"] not in ("Lead", "Operation"):
            continue
        data = node["data"]
        originator = str(data.get("originator") or data.get("team") or "")
        record = Record.of(
            originator, [viewer.team], tlp=data.get("tlp"), handling=data.get("handling")
        )
        if not may_export(viewer, record):
            dropped.add(node["id"])
    return {
        "nodes": [n for n in graph["nodes"] if n["id"] not in dropped],
        "edges": [
            e for e in graph["edges"] if e["source"] not in dropped and e["target"] not in dropped
        ],
    }


def stix_bundle(
    graph: Mapping[str, Any], viewer: Viewer, *, now: datetime | None = None
) -> stix2.v21.Bundle:
    """The STIX 2.1 bundle of a team-scoped graph view (``{nodes, edges}``) for ``viewer``."""
    graph = exportable(graph, viewer)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    nodes = {n["id"]: n for n in graph["nodes"]}
    own: dict[str, Marking] = {
        ref: Marking.of(n["data"].get("tlp"), n["data"].get("handling"))
        for ref, n in nodes.items()
        if n["kind"] in ("Lead", "Operation")
    }
    inherited: dict[str, list[Marking]] = defaultdict(list)
    mentions: dict[str, list[str]] = defaultdict(list)
    owners: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge["type"] == "MENTIONS" and edge["source"] in own:
            inherited[edge["target"]].append(own[edge["source"]])
            mentions[edge["source"]].append(edge["target"])
        if edge["type"] == "HAS_IDENTIFIER":
            owners[edge["target"]].append(edge["source"])
    for identifier, persons in owners.items():
        for person in persons:
            inherited[identifier].extend(inherited.get(person, ()))

    def marking_of(ref: str) -> Marking:
        return own.get(ref) or strictest(inherited.get(ref, ()))

    common = {"created_by_ref": INTERLOCK_IDENTITY, "created": stamp, "modified": stamp}
    objects: list[Any] = fixed_objects()
    stix_ids: dict[str, str] = {}
    last = ("Lead", "Operation")  # what they mention is made first
    ordered = sorted(nodes.items(), key=lambda item: (item[1]["kind"] in last, item[0]))
    for ref, node in ordered:
        try:
            made = _object(node, marking_of(ref), common, stix_ids, mentions.get(ref, ()))
        except (stix2.exceptions.STIXError, ValueError) as exc:
            raise StixExportError(f"{node['kind']} {node['ref']}: {exc}") from None
        for obj in made:
            objects.append(obj)
        if made:
            stix_ids[ref] = made[-1].id

    for edge in graph["edges"]:
        if edge["type"] == "MENTIONS":
            continue  # a lead's report lists what it mentions in object_refs
        source, target = stix_ids.get(edge["source"]), stix_ids.get(edge["target"])
        if source is None or target is None:
            continue
        marking = strictest([marking_of(edge["source"]), marking_of(edge["target"])])
        what = "has identifier" if edge["type"] == "HAS_IDENTIFIER" else "linked to"
        objects.append(
            stix2.v21.Relationship(
                id=_sdo_id("relationship", edge["id"]),
                relationship_type="related-to",
                source_ref=source,
                target_ref=target,
                description=what,
                object_marking_refs=refs(marking),
                allow_custom=True,  # its ends may be Interlock's own observables
                **common,
            )
        )
    return stix2.v21.Bundle(objects=objects, id="bundle--" + str(uuid.uuid4()), allow_custom=True)


def _object(
    node: Mapping[str, Any],
    marking: Marking,
    common: Mapping[str, Any],
    stix_ids: Mapping[str, str],
    mentioned: Iterable[str],
) -> list[Any]:
    data, kind, ref = node["data"], node["kind"], node["id"]
    marks = {"object_marking_refs": refs(marking)}
    match kind:
        case "Person":
            details = {
                k: v
                for k, v in {
                    "role": data.get("role"),
                    "date_of_birth": data.get("date_of_birth"),
                    "nationality": data.get("nationality"),
                    "latin_name": data.get("latin_name"),
                    "pseudonymised": data.get("pseudonymised"),
                }.items()
                if v is not None
            }
            ext = {PROPERTIES_EXTENSION: {"extension_type": "property-extension", **details}}
            if data.get("role") == "suspect":
                return [
                    stix2.v21.ThreatActor(
                        id=_sdo_id("threat-actor", ref),
                        name=str(data.get("name") or data["id"]),
                        threat_actor_types=["criminal"],
                        extensions=ext,
                        **marks,
                        **common,
                    )
                ]
            return [
                stix2.v21.Identity(
                    id=_sdo_id("identity", ref),
                    name=str(data.get("name") or data["id"]),
                    identity_class="individual",
                    extensions=ext,
                    **marks,
                    **common,
                )
            ]
        case "Organisation":
            return [
                stix2.v21.Identity(
                    id=_sdo_id("identity", ref),
                    name=str(data.get("name") or data["id"]),
                    identity_class="organization",
                    **marks,
                    **common,
                )
            ]
        case "Location":
            if data.get("latitude") is not None and data.get("longitude") is not None:
                return [
                    stix2.v21.Location(
                        id=_sdo_id("location", ref),
                        name=data.get("name"),
                        latitude=float(data["latitude"]),
                        longitude=float(data["longitude"]),
                        **marks,
                        **common,
                    )
                ]
            return [Address(value=str(data.get("name") or data["id"]), **marks)]
        case "Identifier":
            return [_identifier(data, marks)]
        case "Lead":
            refs_ = [stix_ids[m] for m in mentioned if m in stix_ids] or [INTERLOCK_IDENTITY]
            grading = f"{data.get('reliability', '')}{data.get('credibility', '')}"
            details = {
                k: v
                for k, v in {
                    "lead_id": data.get("id"),
                    "originator": data.get("originator"),
                    "source": data.get("source"),
                    "grading": grading or None,
                    "status": data.get("status"),
                    "priority": data.get("priority"),
                }.items()
                if v is not None
            }
            return [
                stix2.v21.Report(
                    id=_sdo_id("report", ref),
                    name=f"Lead {data['id']}",
                    description=data.get("summary"),
                    published=timestamp(data.get("submitted_at"))
                    or timestamp(data.get("received_at"))
                    or common["created"],
                    report_types=["threat-report"],
                    object_refs=refs_,
                    extensions={
                        PROPERTIES_EXTENSION: {"extension_type": "property-extension", **details}
                    },
                    allow_custom=True,  # it may mention Interlock's own observables
                    **marks,
                    **common,
                )
            ]
        case "Operation":
            made: list[Any] = []
            about = [INTERLOCK_IDENTITY]
            if data.get("latitude") is not None and data.get("longitude") is not None:
                place = stix2.v21.Location(
                    id=_sdo_id("location", f"{ref}:place"),
                    name=f"within {data.get('radius_m')} m",
                    latitude=float(data["latitude"]),
                    longitude=float(data["longitude"]),
                    **marks,
                    **common,
                )
                made.append(place)
                about = [place.id]
            what = str(data.get("kind", "")).replace("_", " ")
            made.append(
                stix2.v21.Note(
                    id=_sdo_id("note", ref),
                    abstract=f"{what} operation ({data.get('status')})",
                    content=(
                        f"{what} operation planned by {data.get('team')}, "
                        f"from {data.get('starts_at')} to {data.get('ends_at')}, "
                        f"within {data.get('radius_m')} m; status {data.get('status')}"
                    ),
                    object_refs=about,
                    **marks,
                    **common,
                )
            )
            return made
    return []


def _identifier(data: Mapping[str, Any], marks: Mapping[str, Any]) -> Any:
    kind, value, country = data.get("kind"), str(data.get("value")), data.get("country")
    match kind:
        case "email":
            return stix2.v21.EmailAddress(value=value, **marks)
        case "url":
            return stix2.v21.URL(value=value, **marks)
        case "handle":
            platform, _, login = value.partition(":")
            return stix2.v21.UserAccount(
                account_type=platform or "unknown",
                account_login=login or value,
                user_id=value,
                **marks,
            )
        case "phone":
            return PhoneNumber(value=value, country=country, **marks)
        case "iban" | "bank_account":
            return BankAccount(account=value, kind=kind, **marks)
        case "crypto_wallet":
            return CryptoWallet(address=value, **marks)
        case "vehicle_plate":
            return Vehicle(registration_number=value, country=country, **marks)
        case "document":
            return IdentityDocument(number=value, country=country, **marks)
        case "address":
            return Address(value=value, country=country, **marks)
    raise StixExportError(f"no STIX mapping for identifier kind {kind}")
