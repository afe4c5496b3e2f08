"""The indicators' own projection in Neo4j: one ``IndicatorFact`` node per fact, named by the id
of the event it came from (``MERGE`` on it: writing an event twice writes one node), read back
per JIT to compute the indicators of any period.

Why Neo4j and not a faust table: an indicator is asked for an arbitrary period and team, and a
percentile needs every duration, so the store keeps the facts rather than running totals; the
gateway already holds a Neo4j driver and reads per JIT with an index, while a faust table lives
inside one worker and is partitioned by key. The nodes carry no relationships and their label
is kept out of the graph's canonical digest, so they never touch the team-scoped graph views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction

from services.indicators.facts import Fact

LABEL = "IndicatorFact"
NOTE = "EvaluationNote"

CONSTRAINTS: tuple[str, ...] = (
    f"CREATE CONSTRAINT indicator_fact_id IF NOT EXISTS FOR (f:{LABEL}) REQUIRE f.id IS UNIQUE",
    f"CREATE INDEX indicator_fact_jit IF NOT EXISTS FOR (f:{LABEL}) ON (f.jit)",
    f"CREATE INDEX indicator_fact_ref IF NOT EXISTS FOR (f:{LABEL}) ON (f.ref)",
    f"CREATE CONSTRAINT evaluation_note_id IF NOT EXISTS FOR (n:{NOTE}) REQUIRE n.id IS UNIQUE",
    f"CREATE INDEX evaluation_note_jit IF NOT EXISTS FOR (n:{NOTE}) ON (n.jit)",
)

SEALED_KINDS: tuple[str, ...] = (
    "lead.submitted",
    "lead.triaged",
    "lead.actioned",
    "task.requested",
    "task.accepted",
    "task.declined",
    "task.completed",
    "task.cancelled",
    "task.consent",
    "operation.planned",
)
"""Facts made from sealed events: an erased subject's are removed, as a rebuild (which can no
longer open those events) would not make them."""

WRITE = f"UNWIND $rows AS row MERGE (f:{LABEL} {{id: row.id}}) SET f += row"
ERASE = f"MATCH (f:{LABEL}) WHERE f.ref IN $refs AND f.kind IN $kinds DETACH DELETE f"
READ = f"MATCH (f:{LABEL} {{jit: $jit}}) RETURN properties(f) AS fact"
WRITE_NOTES = (
    f"UNWIND $rows AS row MERGE (n:{NOTE} {{id: row.id}}) "
    "WITH n, row WHERE coalesce(n.version, 0) <= row.version SET n += row"
)
"""A note keeps its latest version: a replayed older text never overwrites a newer one."""
READ_NOTES = (
    f"MATCH (n:{NOTE} {{jit: $jit}}) WHERE n.period_from = $first AND n.period_to = $last "
    "RETURN properties(n) AS note ORDER BY n.section"
)
CLEAR_NOTES = f"MATCH (n:{NOTE}) WHERE $jits IS NULL OR n.jit IN $jits DETACH DELETE n"
CLEAR = (
    f"MATCH (f:{LABEL}) WHERE $jits IS NULL OR f.jit IN $jits "
    "CALL (f) { DETACH DELETE f } IN TRANSACTIONS OF 5000 ROWS RETURN count(*) AS deleted"
)


def storable(fact: Fact) -> dict[str, Any]:
    """A fact as node properties: Neo4j stores no null, so an absent value is left out."""
    return {k: v for k, v in fact.items() if v is not None}


async def ensure_schema(driver: AsyncDriver) -> None:
    async with driver.session() as session:
        for statement in CONSTRAINTS:
            await (await session.run(statement)).consume()


async def write_facts(
    driver: AsyncDriver,
    facts: Sequence[Fact],
    erased: Sequence[str] = (),
    notes: Sequence[dict[str, Any]] = (),
) -> None:
    """Write a batch of facts and notes and remove erased subjects' facts, in one transaction."""
    if not facts and not erased and not notes:
        return
    rows = [storable(f) for f in facts]

    async def work(tx: AsyncManagedTransaction) -> None:
        if rows:
            await (await tx.run(WRITE, rows=rows)).consume()
        if notes:
            await (await tx.run(WRITE_NOTES, rows=list(notes))).consume()
        if erased:
            await (await tx.run(ERASE, refs=list(erased), kinds=list(SEALED_KINDS))).consume()

    async with driver.session() as session:
        await session.execute_write(work)


async def read_facts(driver: AsyncDriver, jit: str) -> list[Fact]:
    """Every fact of one JIT."""
    async with driver.session() as session:
        result = await session.run(READ, jit=jit)
        return [dict(record["fact"]) async for record in result]


async def read_notes(driver: AsyncDriver, jit: str, first: str, last: str) -> list[dict[str, Any]]:
    """The latest assessment of each part of the report of one JIT and period (ISO dates)."""
    async with driver.session() as session:
        result = await session.run(READ_NOTES, jit=jit, first=first, last=last)
        return [dict(record["note"]) async for record in result]


async def clear_facts(driver: AsyncDriver, jits: Sequence[str] | None = None) -> int:
    """Delete the facts and notes (of some JITs); returns how many facts."""
    async with driver.session() as session:
        await (
            await session.run(CLEAR_NOTES, jits=list(jits) if jits is not None else None)
        ).consume()
        result = await session.run(CLEAR, jits=list(jits) if jits is not None else None)
        record = await result.single()
        return int(record["deleted"]) if record else 0
