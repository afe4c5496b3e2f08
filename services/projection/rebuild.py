"""Rebuild the graph from the log: clear it, replay every projected topic from the beginning.

The log is the system of record; the graph is a projection of it. Because every write is
idempotent and ordered per aggregate, the rebuilt graph equals the live one (``canonical``).
The live projection should be stopped meanwhile; it resumes from its committed offsets after.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from neo4j import AsyncDriver

from events.codec import ErasedEvent, InvalidEvent, decode
from events.deconfliction import DeconflictionHit
from events.directory import DeskRegistered, JitRegistered, MemberRegistered, TeamRegistered
from events.envelope import Envelope
from events.topics import TopicSpec
from services.kit.keys import KafkaKeyRing
from services.kit.logging import get_logger
from services.kit.logs import LogReader
from services.kit.settings import Settings
from services.projection.agents import BATCH, ensure_schema, write_until_done
from services.projection.canonical import GraphDigest, Scope, graph_digest
from services.projection.graph import (
    IGNORED,
    PROJECTED_TOPICS,
    STATEMENTS,
    UNIQUE_IDS,
    checkpoint_rows,
)

log = get_logger()


@dataclass
class RebuildReport:
    """What a rebuild read, wrote and skipped, and the graph it left."""

    read: int = 0
    projected: int = 0
    ignored: int = 0
    invalid: int = 0
    erased: int = 0
    out_of_scope: int = 0
    batches: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    digest: GraphDigest | None = None

    def summary(self) -> str:
        lines = [
            f"read {self.read} records in {self.seconds:.1f}s: projected {self.projected}, "
            f"ignored {self.ignored}, invalid {self.invalid}, erased {self.erased}, "
            f"out of scope {self.out_of_scope}",
        ]
        if self.digest:
            lines.append(
                f"graph: {self.digest.nodes} nodes, {self.digest.relationships} relationships, "
                f"sha256 {self.digest.sha256}"
            )
        lines.extend(f"  {t}: {n}" for t, n in sorted(self.by_type.items()))
        return "\n".join(lines)


def in_scope(env: Envelope, scope: Scope | None) -> bool:
    """Whether an event belongs to the part of the graph being rebuilt."""
    if scope is None:
        return True
    data = env.data
    if isinstance(data, JitRegistered):
        return data.jit_id in scope.jits
    if isinstance(data, TeamRegistered | DeskRegistered):
        return data.team in scope.teams
    if isinstance(data, MemberRegistered):
        return False
    if isinstance(data, DeconflictionHit):
        return bool({data.registering.jit, data.holding.jit} & scope.jits)
    return env.jit in scope.jits


async def clear_graph(
    driver: AsyncDriver, *, scope: Scope | None = None, checkpoint_group: str | None = None
) -> int:
    """Delete the graph (or the scope of it), in transactions of 5000 nodes. Returns how many.

    A scope is deleted label by label, so each pass uses that label's index on ``jit``.
    """
    params = {**(scope.params() if scope else {}), "group": checkpoint_group}
    passes = (
        [("", "true")]
        if scope is None
        else [
            (f":{label}", scope.cypher_for("n", label))
            for label in UNIQUE_IDS
            if label not in ("Entity", "ProjectionCheckpoint")
        ]
        + [(":Entity", scope.cypher_for("n", "Entity"))]
    )
    passes.append((":ProjectionCheckpoint", "n.group = $group"))
    total = 0
    async with driver.session() as session:
        for label, where in passes:
            result = await session.run(
                f"MATCH (n{label}) WHERE {where} "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS "
                "RETURN count(*) AS deleted",
                params,
            )
            record = await result.single()
            total += int(record["deleted"]) if record else 0
    return total


async def rebuild(
    settings: Settings,
    driver: AsyncDriver,
    *,
    scope: Scope | None = None,
    clear: bool = True,
    batch: int = BATCH,
    checkpoint_group: str | None = None,
    topics: Sequence[TopicSpec] = PROJECTED_TOPICS,
) -> RebuildReport:
    """Clear the graph (or a scope of it) and replay the projected topics into it."""
    started = time.monotonic()
    ring = KafkaKeyRing(settings, name="rebuild").start()
    report = RebuildReport()
    if clear:
        removed = await clear_graph(driver, scope=scope, checkpoint_group=checkpoint_group)
        log.info("graph cleared", nodes=removed, scoped=scope is not None)
    await ensure_schema(driver)
    reader = await asyncio.to_thread(
        LogReader, settings, [settings.topic(t.name) for t in topics], group="interlock-rebuild"
    )
    batches = reader.batches(batch)
    try:
        while True:
            records = await asyncio.to_thread(next, batches, None)
            if records is None:
                break
            envelopes: list[Envelope] = []
            for msg in records:
                report.read += 1
                try:
                    env = decode(msg.value(), ring=ring)
                except ErasedEvent:
                    report.erased += 1
                    continue
                except InvalidEvent:
                    report.invalid += 1
                    continue
                if not in_scope(env, scope):
                    report.out_of_scope += 1
                    continue
                if env.type in STATEMENTS:
                    report.projected += 1
                    report.by_type[env.type] = report.by_type.get(env.type, 0) + 1
                    envelopes.append(env)
                else:
                    report.ignored += 1
                    if env.type not in IGNORED:
                        log.warning("event type not projected", type=env.type)
            positions = [
                (str(m.topic()), int(m.partition() or 0), int(m.offset() or 0), m.timestamp()[1])
                for m in records
            ]
            checkpoints = checkpoint_rows(checkpoint_group, positions) if checkpoint_group else []
            await write_until_done(driver, envelopes, checkpoints=checkpoints)
            report.batches += 1
    finally:
        reader.close()
        ring.stop()
    report.seconds = time.monotonic() - started
    report.digest = await graph_digest(driver, scope=scope)
    return report
