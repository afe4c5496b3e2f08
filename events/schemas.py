"""Contracts generated from the catalogue: a JSON Schema per event and command, the CloudEvents
envelope, and the AsyncAPI 3.0 document of every topic. Pure functions; the CLI writes files."""

from __future__ import annotations

import copy
from typing import Any

from events import sealing
from events.catalogue import CATALOGUE, INTERNAL
from events.envelope import Envelope
from events.registry import Catalogue, CatalogueEntry
from events.topics import ALL_TOPICS, FEED_PREFIX, TopicSpec

CONTENT_TYPE = "application/cloudevents+json"
API_VERSION = "0.1.0"


def data_schema(entry: CatalogueEntry) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one payload, self-contained."""
    schema = entry.model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = entry.dataschema
    schema["title"] = entry.model.__name__
    schema["x-interlock-type"] = entry.type
    schema["x-interlock-kind"] = entry.kind
    schema["x-interlock-topic"] = entry.topic.name
    schema["x-interlock-key"] = entry.key
    schema["x-interlock-version"] = entry.version
    if entry.model.__doc__:
        schema["description"] = " ".join(entry.model.__doc__.split())
    return schema


def envelope_schema() -> dict[str, Any]:
    """The CloudEvents 1.0 envelope with Interlock's extension attributes, as on the wire."""
    schema = Envelope.model_json_schema(mode="serialization", by_alias=True)
    props = schema["properties"]
    props["releasableto"] = {
        "type": "string",
        "title": "Releasable to",
        "description": "Comma-separated team codes that may see the event besides the originator.",
        "pattern": r"^([A-Z]{2}-[A-Z0-9]{2,16}(,[A-Z]{2}-[A-Z0-9]{2,16})*)?$",
    }
    props["data"] = {"description": "The payload; its schema is given by `type` and `dataschema`."}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:interlock:schema:cloudevent:1"
    schema["title"] = "InterlockCloudEvent"
    schema["required"] = sorted(set(schema.get("required", [])) | {"specversion", "id", "type"})
    return schema


JWE_COMPACT_DIR = r"^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
"""A compact JWE with direct encryption: protected header, no encrypted key, IV, ciphertext, tag."""


def sealed_types(catalogue: Catalogue = CATALOGUE) -> dict[str, str]:
    """Type → the data field naming the subject whose key seals it."""
    return {e.type: e.sealed_by for e in catalogue if e.sealed_by is not None}


def sealed_envelope_schema(catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """The form a sealed type takes on the platform's own topics: the envelope in the clear, the
    data a compact JWE. Feeds never carry it (the release opens what a team may read)."""
    schema = envelope_schema()
    props = schema["properties"]
    props["datacontenttype"] = {
        "const": sealing.SEALED_CONTENT_TYPE,
        "description": "The data is a compact JWE (RFC 7516).",
    }
    props["data"] = {
        "type": "string",
        "pattern": JWE_COMPACT_DIR,
        "description": (
            f"A compact JWE, alg {sealing.ALGORITHM!r} and enc {sealing.ENCRYPTION!r}; its "
            "protected header names the key as ``kid`` = ``<jit>:<subject id>`` (the subject "
            "is the data field given per type in ``x-interlock-sealed-types``) and binds the "
            "envelope as ``eid`` = the envelope's ``id``. The plaintext is the data as the "
            "type's schema describes it. The key is a 32-byte key of its own per subject, "
            "kept wrapped on the interlock.keys topic, readable by the platform's services "
            "only; erasing the subject destroys it (crypto-shredding, docs/retention.md)."
        ),
    }
    schema["required"] = sorted(set(schema["required"]) | {"datacontenttype"})
    schema["$id"] = "urn:interlock:schema:sealed-cloudevent:1"
    schema["title"] = "InterlockSealedCloudEvent"
    schema["description"] = (
        "A CloudEvent whose personal data is sealed with its subject's key. Routing, ordering "
        "and releasability read the clear envelope; only a holder of the key opens ``data``."
    )
    schema["x-interlock-sealed-types"] = sealed_types(catalogue)
    return schema


def _message_name(entry: CatalogueEntry) -> str:
    return entry.model.__name__


def _channel_name(topic: TopicSpec) -> str:
    parts = topic.name.removeprefix("interlock.").replace("-", ".").split(".")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Move ``$defs`` into components and point references there."""
    schema = copy.deepcopy(schema)
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            fixed = {
                k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else fix(v))
                for k, v in node.items()
            }
            if isinstance(fixed.get("discriminator"), dict):
                # AsyncAPI's schema object names the discriminating property as a string;
                # pydantic writes OpenAPI's object form.
                fixed["discriminator"] = fixed["discriminator"]["propertyName"]
            return fixed
        if isinstance(node, list):
            return [fix(x) for x in node]
        return node

    for name in list(components):
        components[name] = fix(components[name])
    return fix(schema)  # type: ignore[no-any-return]


def _sealed_name(entry: CatalogueEntry) -> str:
    return _message_name(entry) + "Sealed"


def _on_wire(entry: CatalogueEntry) -> str:
    """The message a type is on its own topic: sealed where its subject's key seals it."""
    return _sealed_name(entry) if entry.sealed_by is not None else _message_name(entry)


def asyncapi(catalogue: Catalogue = CATALOGUE, internal: Catalogue = INTERNAL) -> dict[str, Any]:
    """The AsyncAPI 3.0 document: every topic, its messages as they are on the wire (sealed or
    readable), and the per-team feeds (always readable)."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    envelope = _hoist(envelope_schema(), schemas)
    for key in ("$schema", "$id"):
        envelope.pop(key, None)
    schemas["CloudEvent"] = envelope
    sealed = sealed_envelope_schema(catalogue)
    for key in ("$schema", "$id", "$defs", "x-interlock-sealed-types"):
        sealed.pop(key, None)
    schemas["SealedCloudEvent"] = _hoist(sealed, schemas)
    for entry in catalogue:
        if entry.sealed_by is None:
            continue
        name = _message_name(entry)
        messages[_sealed_name(entry)] = {
            "name": _sealed_name(entry),
            "title": f"{name} (sealed)",
            "summary": f"{name} as the platform's own topic carries it: data sealed with the "
            f"key of the subject named by data.{entry.sealed_by}; opens to {name}.",
            "contentType": CONTENT_TYPE,
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/SealedCloudEvent"},
                    {"type": "object", "properties": {"type": {"const": entry.type}}},
                ]
            },
            "x-interlock-opens-to": f"#/components/messages/{name}",
        }
    for entry in [*catalogue, *internal]:
        name = _message_name(entry)
        data = _hoist(data_schema(entry), schemas)
        for key in ("$schema", "$id"):
            data.pop(key, None)
        schemas[name] = data
        messages[name] = {
            "name": name,
            "title": name,
            "summary": data.get("description", name),
            "contentType": CONTENT_TYPE,
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": entry.type},
                            "data": {"$ref": f"#/components/schemas/{name}"},
                        },
                    },
                ]
            },
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        entries = catalogue.carried_on(topic) + internal.carried_on(topic)
        channel = _channel_name(topic)
        channels[channel] = {
            "address": topic.name,
            "description": topic.purpose,
            "messages": {
                _on_wire(e): {"$ref": f"#/components/messages/{_on_wire(e)}"} for e in entries
            },
        }
        if not entries:
            continue
        commands = [e for e in entries if e.kind == "command"]
        action = "send" if commands else "receive"
        operations[f"{action}{channel[0].upper()}{channel[1:]}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": topic.purpose,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{_on_wire(e)}"} for e in entries],
        }
    for topic in ALL_TOPICS:
        commands = [e for e in catalogue.on_topic(topic) if e.kind == "command"]
        if not commands:
            continue
        channel = _channel_name(topic) + "Team"
        channels[channel] = {
            "address": topic.name + ".{team}",
            "description": "A national system's own command topic for this context: its ACL "
            "proves the writer, and a relay forwards commands whose originator and actor team "
            "are that team to " + topic.name + "; anything else is dead-lettered.",
            "parameters": {"team": {"description": "The team code, e.g. RO-DIICOT."}},
            "servers": [{"$ref": "#/servers/national"}],
            "messages": {
                _message_name(e): {"$ref": f"#/components/messages/{_message_name(e)}"}
                for e in commands
            },
        }
        operations[f"send{channel[0].upper()}{channel[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"A national system sends {topic.name.split('.')[1]} commands.",
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{_message_name(e)}"} for e in commands
            ],
        }
    events = catalogue.fed()
    channels["teamFeed"] = {
        "address": FEED_PREFIX + "{team}",
        "description": "Every event the team may see, and nothing else, in order per aggregate. "
        "Victim identities are pseudonymised in every feed but the originating team's.",
        "parameters": {"team": {"description": "The team code, e.g. RO-DIICOT."}},
        "servers": [{"$ref": "#/servers/national"}],
        "messages": {
            _message_name(e): {"$ref": f"#/components/messages/{_message_name(e)}"} for e in events
        },
    }
    operations["receiveTeamFeed"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/teamFeed"},
        "summary": "A national system reads its team's feed with its own SCRAM credentials.",
        "messages": [{"$ref": f"#/channels/teamFeed/messages/{_message_name(e)}"} for e in events],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Interlock events",
            "version": API_VERSION,
            "description": "Typed events and commands of the Interlock JIT coordination platform, "
            "as CloudEvents 1.0 structured-mode JSON. Generated from the models in events/; "
            "do not edit by hand.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "internal": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "Services' listener (no national system access).",
            },
            "national": {
                "host": "localhost:9094",
                "protocol": "kafka-secure",
                "description": "SASL/SCRAM-SHA-512 listener for national systems; ACLs restrict "
                "each principal to its own feed, consumer groups and command topics.",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "messages": dict(sorted(messages.items())),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "One principal per national system, issued by the JIT admin.",
                }
            },
        },
    }


def all_contracts(
    catalogue: Catalogue = CATALOGUE, internal: Catalogue = INTERNAL
) -> dict[str, dict[str, Any]]:
    """Every generated contract file, by path relative to ``contracts/``."""
    files: dict[str, dict[str, Any]] = {
        "asyncapi.json": asyncapi(catalogue, internal),
        "schemas/cloudevent.json": envelope_schema(),
        "schemas/sealed-cloudevent.json": sealed_envelope_schema(catalogue),
    }
    for entry in catalogue:
        files[f"schemas/{entry.type}.json"] = data_schema(entry)
    for entry in internal:
        files[f"schemas/{entry.type}.json"] = {**data_schema(entry), "x-interlock-internal": True}
    return files


def catalogue_markdown(catalogue: Catalogue = CATALOGUE) -> str:
    """The catalogue as a markdown table, for the README (written by ``make contracts``)."""
    rows = [
        "| type | payload model | kind | topic | partition key |",
        "|---|---|---|---|---|",
    ]
    for entry in catalogue:
        rows.append(
            f"| `{entry.type}` | `{entry.model.__name__}` | {entry.kind} "
            f"| `{entry.topic.name}` | {entry.key} |"
        )
    return "\n".join(rows) + "\n"


README_START = "<!-- catalogue:start (generated by `make contracts`) -->"
README_END = "<!-- catalogue:end -->"


def with_catalogue(readme: str, catalogue: Catalogue = CATALOGUE) -> str:
    """The README with its catalogue section replaced by the current table."""
    if README_START not in readme or README_END not in readme:
        return readme
    head, _, rest = readme.partition(README_START)
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_START}\n{catalogue_markdown(catalogue)}{README_END}{tail}"
