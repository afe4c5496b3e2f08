"""Contracts generated from the catalogue: a JSON Schema per event and command, the CloudEvents
envelope, and the AsyncAPI 3.0 document of every topic. Pure functions; the CLI writes files."""

from __future__ import annotations

import copy
from typing import Any

from events.catalogue import CATALOGUE
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


def asyncapi(catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """The AsyncAPI 3.0 document: every topic, its messages, and the per-team feeds."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    envelope = _hoist(envelope_schema(), schemas)
    for key in ("$schema", "$id"):
        envelope.pop(key, None)
    schemas["CloudEvent"] = envelope
    for entry in catalogue:
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
        entries = catalogue.on_topic(topic)
        channel = _channel_name(topic)
        channels[channel] = {
            "address": topic.name,
            "description": topic.purpose,
            "messages": {
                _message_name(e): {"$ref": f"#/components/messages/{_message_name(e)}"}
                for e in entries
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
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{_message_name(e)}"} for e in entries
            ],
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
    events = [e for e in catalogue if e.kind == "event"]
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


def all_contracts(catalogue: Catalogue = CATALOGUE) -> dict[str, dict[str, Any]]:
    """Every generated contract file, by path relative to ``contracts/``."""
    files: dict[str, dict[str, Any]] = {
        "asyncapi.json": asyncapi(catalogue),
        "schemas/cloudevent.json": envelope_schema(),
    }
    for entry in catalogue:
        files[f"schemas/{entry.type}.json"] = data_schema(entry)
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
