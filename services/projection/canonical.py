"""A canonical hash of the graph: equal hashes mean the same nodes, labels, relationships and
properties, whatever internal ids Neo4j gave them (live vs rebuilt, before vs after a replay).

Each node is named by its sorted labels and its ``id``; each relationship by its type and its two
endpoints' names. Every element becomes one line of canonical JSON (sorted keys, times in UTC);
the lines are sorted and hashed, so the hash does not depend on the order of anything.
Checkpoints are bookkeeping of one consumer, not graph content, and are left out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from neo4j import AsyncDriver

EXCLUDED_LABELS = ("ProjectionCheckpoint", "IndicatorFact", "EvaluationNote")
"""Labels that are not the graph: checkpoints, and the indicators' own projection."""


@dataclass(frozen=True)
class Scope:
    """Part of the graph: the nodes of some JITs and some teams (tests share one database)."""

    jits: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)

    def cypher(self, var: str) -> str:
        return (
            f"({var}.jit IN $jits OR any(j IN coalesce({var}.jits, []) WHERE j IN $jits) "
            f"OR ({var}:JIT AND {var}.id IN $jits) OR ({var}:Team AND {var}.id IN $teams))"
        )

    def cypher_for(self, var: str, label: str) -> str:
        """The same condition for nodes of one label, in a form that can use its jit index."""
        if label == "Team":
            return f"{var}.id IN $teams"
        if label == "JIT":
            return f"{var}.id IN $jits"
        if label == "DeconflictionHit":
            return self.cypher(var)
        return f"{var}.jit IN $jits"

    def params(self) -> dict[str, Any]:
        return {"jits": sorted(self.jits), "teams": sorted(self.teams)}


def _where(var: str, scope: Scope | None) -> str:
    excluded = " AND ".join(f"NOT {var}:{label}" for label in EXCLUDED_LABELS)
    return f"{excluded} AND {scope.cypher(var)}" if scope else excluded


def canonical(value: Any) -> Any:
    """A property value as plain, deterministic JSON."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "srid"):
        return {"srid": value.srid, "coordinates": [repr(float(c)) for c in value]}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    native = value.to_native() if hasattr(value, "to_native") else value
    if isinstance(native, datetime):
        if native.tzinfo is not None:
            native = native.astimezone(UTC)
        return native.isoformat()
    if isinstance(native, date | time):
        return native.isoformat()
    raise TypeError(f"no canonical form for {type(value).__name__}")


def node_name(labels: Iterable[str], props: Mapping[str, Any]) -> str:
    return ":".join(sorted(labels)) + "/" + str(props.get("id"))


def _line(item: Any) -> bytes:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class GraphDigest:
    """The hash of a graph (or of a scope of it) and what it covered."""

    sha256: str
    nodes: int
    relationships: int


async def graph_lines(driver: AsyncDriver, *, scope: Scope | None = None) -> list[str]:
    """The canonical lines themselves, for telling two graphs apart when their hashes differ."""
    params = scope.params() if scope else {}
    found: list[str] = []
    async with driver.session() as session:
        result = await session.run(
            f"MATCH (n) WHERE {_where('n', scope)} "
            "RETURN labels(n) AS labels, properties(n) AS props",
            params,
        )
        async for record in result:
            props = {k: canonical(v) for k, v in record["props"].items()}
            found.append(_line(["node", sorted(record["labels"]), props]).decode())
        result = await session.run(
            f"MATCH (a)-[r]->(b) WHERE {_where('a', scope)} AND {_where('b', scope)} "
            "RETURN type(r) AS type, properties(r) AS props, labels(a) AS a_labels, a.id AS a_id, "
            "labels(b) AS b_labels, b.id AS b_id",
            params,
        )
        async for record in result:
            props = {k: canonical(v) for k, v in record["props"].items()}
            found.append(
                _line(
                    [
                        "rel",
                        record["type"],
                        node_name(record["a_labels"], {"id": record["a_id"]}),
                        node_name(record["b_labels"], {"id": record["b_id"]}),
                        props,
                    ]
                ).decode()
            )
    return sorted(found)


async def graph_digest(driver: AsyncDriver, *, scope: Scope | None = None) -> GraphDigest:
    """The canonical hash of the graph, or of the nodes in ``scope`` and the relationships
    between them."""
    lines = await graph_lines(driver, scope=scope)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    nodes = sum(1 for line in lines if line.startswith('["node"'))
    return GraphDigest(digest.hexdigest(), nodes, len(lines) - nodes)
