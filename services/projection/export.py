"""What a team sees, as FollowTheMoney entities, for use in other investigative tools.

The input is a team-scoped graph from ``GraphViews.visible_graph`` (so a victim is already a
pseudonym and a victim's identifiers are already absent); this module only maps it. Every
value goes through the ``followthemoney`` library's own cleaning for its property type, and an
entity whose value the library refuses, or that lacks a required property, is an error rather
than a silently thinner export.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

NAMESPACE = "interlock"


class ExportError(ValueError):
    """An entity that followthemoney does not accept; names the schema and property."""


def _id(*parts: str) -> str:
    return str(model.make_entity("Thing").make_id(NAMESPACE, *parts))


class Entities:
    """FollowTheMoney entities under construction, each value checked as it is added."""

    def __init__(self) -> None:
        self.proxies: dict[str, EntityProxy] = {}
        self.skipped: list[str] = []

    def get(self, schema: str, entity_id: str) -> EntityProxy:
        proxy = self.proxies.get(entity_id)
        if proxy is None:
            proxy = model.make_entity(schema)
            proxy.id = entity_id
            self.proxies[entity_id] = proxy
        return proxy

    def set(self, proxy: EntityProxy, prop_name: str, value: Any) -> None:
        if value is None or value == "":
            return
        prop = proxy.schema.get(prop_name)
        if prop is None:
            raise ExportError(f"{proxy.schema.name} has no property {prop_name}")
        cleaned = prop.type.clean(value, proxy=proxy)
        if cleaned is None:
            # A value FtM cannot represent (a date in year 330) is left out rather than failing
            # the whole export: one member's odd input must not break everyone's export.
            self.skipped.append(f"{proxy.schema.name}.{prop_name}")
            return
        proxy.add(prop, cleaned, cleaned=True)

    def validated(self) -> Iterator[dict[str, Any]]:
        for proxy in sorted(self.proxies.values(), key=lambda p: str(p.id)):
            missing = [p for p in proxy.schema.required if not proxy.has(p)]
            if missing:
                raise ExportError(f"{proxy.schema.name} {proxy.id} lacks {', '.join(missing)}")
            data = proxy.to_dict()
            again = model.get_proxy(data, cleaned=False)
            if again.to_dict() != data:
                raise ExportError(f"{proxy.schema.name} {proxy.id} does not round-trip")
            yield data


def _owners(graph: Mapping[str, Any]) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge["type"] == "HAS_IDENTIFIER":
            owners[edge["target"]].append(edge["source"])
    return owners


def ftm_entities(
    graph: Mapping[str, Any], skipped: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """FollowTheMoney entities of a team-scoped graph view (``{nodes, edges}``).

    Values FtM refuses are left out and named in ``skipped`` (schema.property), so that the
    caller can say what the export lacks.
    """
    out = Entities()
    if skipped is not None:
        out.skipped = skipped
    nodes = {n["id"]: n for n in graph["nodes"]}
    ids = {ref: _id(ref) for ref in nodes}
    owners = _owners(graph)

    # Identifiers last: a phone or an address becomes a property of its owner, made first.
    ordered = sorted(nodes.items(), key=lambda item: (item[1]["kind"] == "Identifier", item[0]))
    for ref, node in ordered:
        data = node["data"]
        match node["kind"]:
            case "Person":
                person = out.get("Person", ids[ref])
                out.set(person, "name", data.get("name"))
                if data.get("latin_name") and data.get("latin_name") != data.get("name"):
                    out.set(person, "alias", data["latin_name"])
                out.set(person, "birthDate", data.get("date_of_birth"))
                out.set(person, "nationality", data.get("nationality"))
                out.set(person, "description", f"role: {data.get('role', 'unknown')}")
            case "Organisation":
                org = out.get("Organization", ids[ref])
                out.set(org, "name", data.get("name"))
                out.set(org, "country", data.get("country"))
            case "Location":
                place = out.get("Address", ids[ref])
                out.set(place, "full", data.get("name"))
                out.set(place, "latitude", data.get("latitude"))
                out.set(place, "longitude", data.get("longitude"))
            case "Lead":
                note = out.get("Note", ids[ref])
                out.set(note, "name", f"Lead {data['id']}")
                marking = data.get("marking") or {}
                banner = f"[{marking['banner']}] " if marking.get("banner") else ""
                out.set(note, "description", banner + str(data.get("summary") or ""))
                out.set(note, "publisher", data.get("originator"))
                out.set(
                    note,
                    "keywords",
                    f"{data.get('source')} {data.get('reliability')}{data.get('credibility')}",
                )
            case "Operation":
                event = out.get("Event", ids[ref])
                out.set(event, "name", f"{str(data.get('kind', '')).replace('_', ' ')} operation")
                out.set(event, "startDate", data.get("starts_at"))
                out.set(event, "endDate", data.get("ends_at"))
                marking = data.get("marking") or {}
                banner = f"[{marking['banner']}] " if marking.get("banner") else ""
                status = f"{data.get('status')}, planned by {data.get('team')}"
                out.set(event, "summary", banner + status)
                if data.get("latitude") is not None:
                    where = out.get("Address", _id(ref, "place"))
                    out.set(where, "full", f"within {data.get('radius_m')} m")
                    out.set(where, "latitude", data.get("latitude"))
                    out.set(where, "longitude", data.get("longitude"))
                    out.set(event, "addressEntity", where.id)
            case "Identifier":
                _identifier(out, data, ids[ref], [ids[o] for o in owners.get(ref, ())])

    for edge in graph["edges"]:
        if edge["type"] != "MENTIONS":
            continue
        source, target = edge["source"], edge["target"]
        if source not in ids or target not in ids:
            continue
        role = edge["data"].get("role")
        link = out.get("UnknownLink", _id("mentions", source, target, str(role)))
        out.set(link, "subject", ids[source])
        out.set(link, "object", ids[target])
        out.set(link, "role", f"mentions ({role})" if role and role != "none" else "mentions")
    yield from out.validated()


def _identifier(out: Entities, data: Mapping[str, Any], entity_id: str, owners: list[str]) -> None:
    kind, value, country = data.get("kind"), data.get("value"), data.get("country")
    if kind in ("phone", "email", "url"):
        prop = {"phone": "phone", "email": "email", "url": "website"}[kind]
        for owner in owners:
            out.set(out.proxies[owner], prop, value)
        if kind == "url":
            note = out.get("Note", entity_id)
            out.set(note, "name", value)
            out.set(note, "sourceUrl", value)
            return
        account = out.get("UserAccount", entity_id)
        out.set(account, "username", value)
        out.set(account, "service", kind)
        out.set(account, prop, value)
        for owner in owners:
            out.set(account, "owner", owner)
    elif kind == "document":
        if owners:
            doc = out.get("Identification", entity_id)
            out.set(doc, "number", value)
            out.set(doc, "country", country)
            out.set(doc, "holder", owners[0])
        else:
            note = out.get("Note", entity_id)
            out.set(note, "name", f"identity document {value}")
            out.set(note, "country", country)
    elif kind in ("iban", "bank_account"):
        account = out.get("BankAccount", entity_id)
        out.set(account, "iban" if kind == "iban" else "accountNumber", value)
        if kind == "iban":
            out.set(account, "accountNumber", value)
        for owner in owners:
            ownership = out.get("Ownership", _id("owns", owner, entity_id))
            out.set(ownership, "owner", owner)
            out.set(ownership, "asset", entity_id)
    elif kind == "crypto_wallet":
        wallet = out.get("CryptoWallet", entity_id)
        out.set(wallet, "publicKey", value)
        for owner in owners:
            out.set(wallet, "holder", owner)
    elif kind == "vehicle_plate":
        vehicle = out.get("Vehicle", entity_id)
        out.set(vehicle, "registrationNumber", value)
        out.set(vehicle, "country", country)
        for owner in owners:
            out.set(vehicle, "owner", owner)
    elif kind == "handle":
        platform, _, handle = str(value).partition(":")
        account = out.get("UserAccount", entity_id)
        out.set(account, "username", handle)
        out.set(account, "service", platform)
        for owner in owners:
            out.set(account, "owner", owner)
    elif kind == "address":
        address = out.get("Address", entity_id)
        out.set(address, "full", value)
        for owner in owners:
            out.set(out.proxies[owner], "addressEntity", entity_id)
    else:
        raise ExportError(f"no FollowTheMoney mapping for identifier kind {kind}")
