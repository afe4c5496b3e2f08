"""Backward compatibility of published schemas: what a change may not do to a contract that
national systems already code against."""

from __future__ import annotations

from typing import Any


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return schema.get("$defs", {}).get(name, node)
    return node


def _types(schema: dict[str, Any], node: Any) -> frozenset[str]:
    """A coarse type signature of a property: JSON types and referenced model names."""
    node = node or {}
    out: set[str] = set()
    if "$ref" in node:
        out.add("ref:" + node["$ref"].rsplit("/", 1)[-1])
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        out.update(kinds)
    for key in ("anyOf", "oneOf"):
        for sub in node.get(key, []):
            out |= _types(schema, sub)
    if "const" in node:
        out.add(f"const:{node['const']}")
    return frozenset(out)


def _enum(schema: dict[str, Any], node: Any) -> set[Any] | None:
    node = _resolve(schema, node)
    if isinstance(node, dict) and "enum" in node:
        return set(node["enum"])
    return None


def breaking_changes(old: dict[str, Any], new: dict[str, Any], *, kind: str = "event") -> list[str]:
    """Changes from ``old`` to ``new`` that break readers (events) or senders (commands)."""
    problems: list[str] = []
    _compare_object(old, new, old, new, "", problems, kind)
    for name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(name)
        if new_def is None:
            continue
        old_values, new_values = _enum(old, old_def), _enum(new, new_def)
        if old_values is not None and new_values is not None:
            for value in sorted(old_values - new_values, key=str):
                problems.append(f"{name}: enum value {value!r} removed")
        if old_def.get("type") == "object":
            _compare_object(old, new, old_def, new_def, name + ".", problems, kind)
    return problems


def _compare_object(
    old_root: dict[str, Any],
    new_root: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    prefix: str,
    problems: list[str],
    kind: str,
) -> None:
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    old_required = set(old.get("required", []))
    new_required = set(new.get("required", []))
    for field in sorted(old_required):
        if field not in new_props:
            problems.append(f"{prefix}{field}: required field removed or renamed")
    for field, old_prop in old_props.items():
        if field not in new_props:
            if field not in old_required:
                problems.append(f"{prefix}{field}: field removed")
            continue
        before, after = _types(old_root, old_prop), _types(new_root, new_props[field])
        if before and after and not before <= after:
            problems.append(
                f"{prefix}{field}: type changed from {sorted(before)} to {sorted(after)}"
            )
        old_values = _enum(old_root, old_prop)
        new_values = _enum(new_root, new_props[field])
        if old_values is not None and new_values is not None:
            for value in sorted(old_values - new_values, key=str):
                problems.append(f"{prefix}{field}: enum value {value!r} removed")
    if kind == "command":
        for field in sorted(new_required - old_required):
            problems.append(f"{prefix}{field}: new required field breaks existing senders")
