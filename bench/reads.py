"""Reads: p50/p99 of the suspect card and of the 2-hop network, per team, next to ``RETURN 1``.

The graph is written with the projection's own statements (``services.projection.agents.write``)
from the events the leads service itself decides (``services.leads`` domain, ``run_decide``), so
it has exactly the shape the live projection gives it: audiences, victims' identity audiences,
mentions, owners. Leads are round-robin over three teams, each shared with the next team, and
every few leads share a handle with another team's lead, so each team sees a different part of
the graph and the 2-hop network crosses teams. Reads go through ``GraphViews``, the one query
layer the gateway uses. Everything written is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from neo4j import READ_ACCESS, AsyncDriver

from bench.support import Figure, Run, Target, percentiles
from bench.workload import Jit, submit_lead
from events.envelope import Envelope
from events.leads import EntityObserved
from events.outcomes import CommandAccepted, CommandRejected
from services.kit.graphdb import async_driver
from services.projection.agents import BATCH, ensure_schema, write
from services.projection.canonical import Scope
from services.projection.rebuild import clear_graph
from services.projection.views import GraphViews

GROUP = "reads"
RETURN_1 = "reads.return_1"
TEAM_LABELS = ("team_a", "team_b", "team_c")
CARD_TARGETS = [
    Target("p99 < 20 ms", "value", at_most=20.0),
    Target("≤ 3× RETURN 1 (p99)", "ratio", at_most=3.0),
]


def card_id(label: str) -> str:
    return f"reads.card.{label}"


def network_id(label: str) -> str:
    return f"reads.network_2hop.{label}"


def figure_ids(quick: bool) -> list[str]:
    return [
        RETURN_1,
        *(card_id(t) for t in TEAM_LABELS),
        *(network_id(t) for t in TEAM_LABELS),
    ]


def lead_events(
    jit: Jit, start: int, count: int, tag: str
) -> tuple[list[Envelope], list[tuple[str, str]]]:
    """The events the leads service decides for leads ``start``…, and (team, suspect id)."""
    from services.kit.streams import OUTCOME_TYPES, run_decide
    from services.leads.agents import LEADS

    now = datetime.now(UTC)
    events: list[Envelope] = []
    suspects: list[tuple[str, str]] = []
    teams = jit.teams
    for n in range(start, start + count):
        team = teams[n % len(teams)]
        share = (teams[(n + 1) % len(teams)],)
        shared = n - 1 - (n % 4) if n % 4 and n > 4 else None
        cause = submit_lead(jit, team, n, tag, shared=shared, releasable_to=share)
        outputs = run_decide(LEADS, cause, None, now=now, context={"jit": jit.id})
        for env in outputs.envelopes:
            if env.type in OUTCOME_TYPES:
                if isinstance(env.data, CommandRejected):
                    raise RuntimeError(f"lead refused: {env.data.reason}")
                assert isinstance(env.data, CommandAccepted)
                continue
            events.append(env)
            data = env.data
            if isinstance(data, EntityObserved) and data.person and data.role == "suspect":
                suspects.append((team, data.entity_id))
    return events, suspects


async def count_nodes(driver: AsyncDriver, scope: Scope) -> int:
    async with driver.session() as session:
        result = await session.run(
            f"MATCH (n) WHERE {scope.cypher('n')} RETURN count(n) AS n", scope.params()
        )
        record = await result.single()
        return int(record["n"]) if record else 0


async def load_graph(run: Run, driver: AsyncDriver, jit: Jit, nodes: int) -> dict[str, Any]:
    """Write leads until the JIT's part of the graph has about ``nodes`` nodes (bounded by the
    step cap); returns what was written and the suspects to read."""
    tag = uuid.uuid4().hex[:6]
    scope = Scope(jits=frozenset({jit.id}), teams=frozenset(jit.teams))
    probe, _ = lead_events(jit, 0, 30, f"p{tag}")
    await write(driver, probe)
    per_lead = max(1.0, await count_nodes(driver, scope) / 30)
    await clear_graph(driver, scope=scope)
    leads = max(30, int(nodes / per_lead))
    deadline = time.monotonic() + run.step_cap * (1 if run.quick else 4)
    suspects: list[tuple[str, str]] = []
    written = events_written = 0
    seconds = 0.0
    chunk = 2_000
    while written < leads and time.monotonic() < deadline:
        size = min(chunk, leads - written)
        events, found = lead_events(jit, written, size, tag)
        suspects += found
        began = time.perf_counter()
        for i in range(0, len(events), BATCH):
            await write(driver, events[i : i + BATCH])
        seconds += time.perf_counter() - began
        written += size
        events_written += len(events)
        if not run.quick and written % 20_000 < chunk:
            run.progress.say(f"  graph: {written:,}/{leads:,} leads written")
    total = await count_nodes(driver, scope)
    return {
        "leads": written,
        "events": events_written,
        "nodes": total,
        "nodes_per_lead": round(per_lead, 1),
        "load_seconds": round(seconds, 1),
        "load_events_per_s": round(events_written / seconds, 1) if seconds else None,
        "suspects": suspects,
        "capped": written < leads,
    }


async def round_trip(driver: AsyncDriver) -> float:
    """``RETURN 1`` the way ``GraphViews`` reads: one auto-commit read in a fresh session."""
    began = time.perf_counter()
    async with driver.session(default_access_mode=READ_ACCESS) as session:
        result = await session.run("RETURN 1 AS one")
        [record.data() async for record in result]
    return (time.perf_counter() - began) * 1000


async def timed(call: Any) -> float:
    began = time.perf_counter()
    await call
    return (time.perf_counter() - began) * 1000


async def measure(run: Run, figures: dict[str, Figure]) -> None:
    jit = Jit.new(3)
    scope = Scope(jits=frozenset({jit.id}), teams=frozenset(jit.teams))
    driver = async_driver(run.settings)
    try:
        await ensure_schema(driver)
        with run.progress.step(f"reads: loading a graph of ~{run.size(5_000, 1_000_000):,} nodes"):
            graph = await load_graph(run, driver, jit, run.size(5_000, 1_000_000))
        suspects: list[tuple[str, str]] = graph.pop("suspects")
        run.progress.say(
            f"  graph: {graph['nodes']:,} nodes from {graph['leads']:,} leads "
            f"({graph['load_events_per_s']:,} events/s through the projection's statements)"
        )
        views = GraphViews(driver)
        iterations = run.size(40, 400)
        rng = random.Random(7)
        for _ in range(10):
            await round_trip(driver)
        with run.watch() as cpu:
            samples = [await round_trip(driver) for _ in range(iterations * 2)]
        base = figures[RETURN_1]
        base.stats = percentiles(samples)
        base.value = base.stats.get("p99")
        base.cpu = cpu.result
        base.params = {"samples": len(samples), **graph}
        for label, team in zip(TEAM_LABELS, jit.teams, strict=True):
            visible = [s for t, s in suspects if t in (team, jit.teams[jit.teams.index(team) - 1])]
            picks = [rng.choice(visible) for _ in range(iterations)]
            for pid in picks[:5]:
                await views.card(team=team, jit=jit.id, person_id=pid)
                await views.network(team=team, jit=jit.id, person_id=pid, depth=2)
            card, network = figures[card_id(label)], figures[network_id(label)]
            sizes: list[int] = []
            with run.watch() as cpu:
                card_ms = []
                for pid in picks:
                    card_ms.append(await timed(views.card(team=team, jit=jit.id, person_id=pid)))
            card.stats, card.cpu = percentiles(card_ms), cpu.result
            card.value = card.stats.get("p99")
            with run.watch() as cpu:
                net_ms = []
                for pid in picks:
                    began = time.perf_counter()
                    found = await views.network(team=team, jit=jit.id, person_id=pid, depth=2)
                    net_ms.append((time.perf_counter() - began) * 1000)
                    sizes.append(len(found["nodes"]) if found else 0)
            network.stats, network.cpu = percentiles(net_ms), cpu.result
            network.value = network.stats.get("p99")
            for fig in (card, network):
                fig.params = {"team": team, "reads": len(picks), "graph_nodes": graph["nodes"]}
            if "p50" in card.stats and "p50" in base.stats:
                card.bound = (
                    "one Cypher read (the person and each section over paths the team may "
                    f"see): p50 {card.stats['p50']:.1f} ms against RETURN 1's "
                    f"{base.stats['p50']:.1f} ms, so the query's own work is "
                    f"≈{card.stats['p50'] - base.stats['p50']:.1f} ms; p99 "
                    f"{card.stats['p99']:.1f} ms against RETURN 1's {base.stats['p99']:.1f} ms: "
                    "the tail is the shared machine's (Neo4j and the reader wait for a core)"
                )
            network.params["median_nodes_returned"] = sorted(sizes)[len(sizes) // 2]
            run.progress.say(
                f"  {label}: card p50/p99 {card.stats['p50']:.1f}/{card.stats['p99']:.1f} ms, "
                f"2-hop p50/p99 {network.stats['p50']:.1f}/{network.stats['p99']:.1f} ms"
            )
        if graph["capped"]:
            for fig in figures.values():
                fig.notes.append(
                    f"graph load stopped at the step cap: {graph['nodes']:,} nodes, not the "
                    f"{run.size(5_000, 1_000_000):,} planned"
                )
    finally:
        try:
            with run.progress.step("reads: deleting the benchmark graph"):
                await clear_graph(driver, scope=scope)
        finally:
            await driver.close()


def run_group(run: Run) -> None:
    figures = {
        RETURN_1: Figure(RETURN_1, GROUP, "Neo4j RETURN 1 round trip (auto-commit read)", "ms"),
    }
    for label in TEAM_LABELS:
        figures[card_id(label)] = Figure(
            card_id(label),
            GROUP,
            f"Suspect card (GraphViews.card), {label.replace('_', ' ')}",
            "ms",
            baseline=RETURN_1,
            targets=list(CARD_TARGETS),
            lift="a card kept per person by the projection (a read of one node), or one query "
            "per card section run concurrently; Neo4j on cores of its own",
        )
        figures[network_id(label)] = Figure(
            network_id(label),
            GROUP,
            f"2-hop network (GraphViews.network), {label.replace('_', ' ')}",
            "ms",
            baseline=RETURN_1,
        )
    for fig in figures.values():
        run.results.add(fig)
    try:
        asyncio.run(measure(run, figures))
    except Exception as exc:  # noqa: BLE001 - reported on the figures, the run goes on
        for fig in figures.values():
            if fig.value is None and fig.status == "ok":
                fig.failed(f"{type(exc).__name__}: {exc}"[:500])
        run.progress.say(f"  ! reads: {type(exc).__name__}: {exc}"[:300])
