"""Pipeline: leads with 5 identifiers each through the command topic and through the gateway,
each service's pass-through next to the raw consume → produce loop, the projection next to raw
``UNWIND … MERGE``, and the rate the whole pipeline sustains with the projection's lag bounded.

Pass-through is measured the same way for every faust service: its input topic is filled while
it is stopped (or faster than it reads), the service is started, and its consumer group's
committed offsets are sampled until it has caught up; the rate runs from the first sample that
shows progress, so start-up is not counted. Services are started one after the other (leads,
then deconfliction on the leads' output, then the projection on both), so each is measured
alone on the machine's two cores.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from typing import Any

from bench import baselines
from bench.support import (
    Figure,
    Run,
    Target,
    gateway_paths,
    http_load,
    not_wired,
    percentiles,
    produce,
    service_time,
    watch_drain,
    wired_roles,
    worker_lift,
)
from bench.workload import EVENTS_PER_LEAD, bench_jit, lead_body, lead_stream, raise_alert
from events.topics import (
    ALERT_COMMANDS,
    DECONFLICTION_COMMANDS,
    DECONFLICTION_HITS,
    DECONFLICTION_INDEX,
    LEAD_COMMANDS,
    LEAD_EVENTS,
)
from services.projection.graph import PROJECTED_TOPICS

GROUP = "pipeline"
STATEMENTS = "pipeline.projection.statements"
LEADS = "pipeline.leads.command_topic"
DECONFLICTION = "pipeline.deconfliction.passthrough"
PROJECTION = "pipeline.projection.passthrough"
ALERTS = "pipeline.alerts.passthrough"
GATEWAY = "pipeline.gateway.leads"
SUSTAINED = "pipeline.sustained"

PASS_THROUGH = Target("≥ 30% of the raw consume → produce loop", "ratio", at_least=0.30)
PROJECTION_TARGET = Target("≥ 70% of raw UNWIND MERGE, batch 1,000", "ratio", at_least=0.70)
SUSTAINED_TARGET = Target("≥ 5,000 events/s sustained", "value", at_least=5_000)
LAG_BOUND_S = 10.0
"""The projection lag (seconds, as ``/health`` reports it) a sustained rate may not stay above
(three samples in a row), and the time the backlog may take to drain after the load stops."""


def figure_ids(quick: bool) -> list[str]:
    return [STATEMENTS, LEADS, DECONFLICTION, PROJECTION, ALERTS, GATEWAY, SUSTAINED]


def _topics(run: Run, *specs: Any) -> list[str]:
    return [run.platform.topic(s.name) for s in specs]


def statements(run: Run, fig: Figure) -> None:
    """The projection's own write statements in-process, batch 1,000: no Kafka in the way."""
    from bench.reads import lead_events
    from bench.workload import Jit
    from services.kit.graphdb import async_driver
    from services.projection.agents import BATCH, ensure_schema, write
    from services.projection.canonical import Scope
    from services.projection.rebuild import clear_graph

    jit = Jit.new(3)
    events, _ = lead_events(jit, 0, run.size(300, 5_000), uuid.uuid4().hex[:6])

    async def measure() -> None:
        driver = async_driver(run.settings)
        try:
            await ensure_schema(driver)
            with run.watch() as cpu:
                began = time.perf_counter()
                for i in range(0, len(events), BATCH):
                    await write(driver, events[i : i + BATCH])
                seconds = time.perf_counter() - began
            fig.value = round(len(events) / seconds, 1)
            fig.cpu = cpu.result
            fig.params = {"events": len(events), "batch": BATCH}
            timed, again = await statement_times(driver, run, jit)
            fig.params.update({"statements": timed, "timed_events": again})
        finally:
            await clear_graph(
                driver, scope=Scope(jits=frozenset({jit.id}), teams=frozenset(jit.teams))
            )
            await driver.close()

    asyncio.run(measure())
    fig.notes.append(
        "each event is several MERGEs (node, audience union, relationships, activity), "
        "the raw baseline one node and one relationship per row"
    )
    shape = fig.params.get("statements") or {}
    rows = sum(v["rows"] for v in shape.values())
    spent = sum(v["ms"] for v in shape.values())
    per_event = rows / max(fig.params.get("timed_events", 1), 1)
    raw = run.results.value(baselines.unwind_id(1_000))
    heaviest = sorted(shape.items(), key=lambda kv: -kv[1]["ms"])[:3]
    split = ", ".join(
        f"{name} ({v['rows']:,} rows) {100 * v['ms'] / spent:.0f}%" for name, v in heaviest
    )
    fig.bound = (
        f"a batch of {BATCH:,} events is {len(shape)} UNWIND statements with "
        f"{per_event:.1f} rows per event (the raw baseline: 1 row per node)"
        + (f"; rows alone predict ≈{raw / per_event:,.0f} events/s at the raw rate" if raw else "")
        + (f"; share of a batch's time by statement: {split}" if split else "")
    )
    fig.lift = (
        "fewer and lighter rows per event: the audience union (a COLLECT over the stored list "
        "on every MERGE) computed once per node per batch instead of once per row, and the "
        "relationship rows' two endpoint MERGEs as MATCHes where the node was just written; "
        "Neo4j on a core of its own"
    )


async def statement_times(driver: Any, run: Run, jit: Any) -> tuple[dict[str, Any], int]:
    """Each of the projection's statements timed alone, over a few batches of new leads' events
    (one transaction each): where a batch's time goes."""
    import re

    from bench.reads import lead_events
    from services.projection.agents import BATCH
    from services.projection.graph import plan

    events, _ = lead_events(jit, 1_000_000, run.size(250, 375), uuid.uuid4().hex[:6])
    found: dict[str, dict[str, float]] = {}
    for i in range(0, len(events), BATCH):
        for cypher, rows in plan(events[i : i + BATCH]):
            labels = re.findall(r"MERGE \(\w+:(\w+)", cypher)
            rel = re.search(r"\[\w*:(\w+)", cypher)
            name = "+".join(dict.fromkeys(labels)) + (f" -{rel.group(1)}->" if rel else "")

            async def work(tx: Any, cypher: str = cypher, rows: list[Any] = rows) -> None:
                await (await tx.run(cypher, rows=rows)).consume()

            began = time.perf_counter()
            async with driver.session() as session:
                await session.execute_write(work)
            entry = found.setdefault(name, {"rows": 0, "ms": 0.0})
            entry["rows"] += len(rows)
            entry["ms"] += (time.perf_counter() - began) * 1000
    return {k: {"rows": int(v["rows"]), "ms": round(v["ms"], 1)} for k, v in found.items()}, len(
        events
    )


def new_key_cost(run: Run) -> dict[str, float]:
    """What creating a new subject's data key costs its writer (``services.kit.keys``: catch up
    with the key topic, then a confirmed write), as the leads worker does for each new lead
    before it can seal the lead's events; ms percentiles, empty if there is no key ring."""
    try:
        from services.kit.keys import KafkaKeyRing
    except ImportError:
        return {}
    ring = KafkaKeyRing(run.settings, name="bench-keys").start()
    try:
        if not ring.wait_loaded(30):
            return {}
        times = []
        for _ in range(run.size(10, 30)):
            began = time.perf_counter()
            ring.sealing_key(f"bench-{uuid.uuid4().hex}")
            times.append((time.perf_counter() - began) * 1000)
        return {**percentiles(times), "mean": round(sum(times) / len(times), 3)}
    finally:
        ring.stop()


def leads_passthrough(run: Run, fig: Figure) -> None:
    if "leads" not in wired_roles():
        fig.unavailable(not_wired(["leads"]))
        return
    jit = bench_jit(run)
    count = run.size(250, 5_000)
    with run.progress.step(f"pipeline: encoding {count:,} lead commands"):
        commands = lead_stream(jit, count, run.shared["tag"])
    topic = run.platform.topic(LEAD_COMMANDS.name)
    offsets = run.offsets()
    target = offsets.end([topic]) + count
    produce(run.settings, topic, commands)
    run.ensure("leads", "gateway")
    with run.watch("leads") as cpu:
        drain = watch_drain(
            offsets, run.platform.group("leads"), [topic], target=target, timeout=run.step_cap
        )
    fig.value = round(drain.rate, 1)
    fig.cpu = cpu.result
    fig.params = {
        "commands": count,
        "identifiers_per_lead": 5,
        "records_out_per_command": EVENTS_PER_LEAD + 1,
        "records_out_per_s": round(drain.rate * (EVENTS_PER_LEAD + 1), 1),
        "complete": drain.complete,
    }
    fig.notes.append(
        f"each command is decoded, decided and answered with {EVENTS_PER_LEAD} events and an "
        "outcome; the raw loop copies one record"
    )
    key = new_key_cost(run)
    fig.params["new_data_key_ms"] = key
    fig.bound = service_time(
        fig.value,
        fig.cpu,
        "leads",
        "command",
        confirms="per polled batch (up to 500 commands, or what arrived within 5 ms) one "
        f"awaited confirmation of its events ({EVENTS_PER_LEAD} a lead), then the states, then "
        "the outcomes; the batch's new leads get their data keys together, in a thread "
        "(services/kit/keys.py prepare: one catch-up with the key topic, one flushed write)"
        + (
            f"; one key created alone costs {key['p50']:.1f} ms p50, {key['p99']:.1f} ms p99, "
            f"{key['mean']:.1f} ms on average, measured here"
            if "p50" in key
            else ""
        ),
        confirm=run.results.get(baselines.KAFKA_CONFIRM),
    )
    fig.lift = worker_lift(fig.value, fig.cpu, "leads", "commands")


def deconfliction_passthrough(run: Run, fig: Figure) -> None:
    if "deconfliction" not in wired_roles():
        fig.unavailable(not_wired(["deconfliction"]))
        return
    if "jit" not in run.shared:
        fig.unavailable("no lead events to read: the leads figure did not run")
        return
    offsets = run.offsets()
    source = run.platform.topic(LEAD_EVENTS.name)
    topics = _topics(run, LEAD_EVENTS, DECONFLICTION_COMMANDS, DECONFLICTION_INDEX)
    topics += _topics(run, DECONFLICTION_HITS)
    target = offsets.end([source])
    run.ensure("deconfliction")
    group = run.platform.group("deconfliction")
    began = time.monotonic()
    with run.watch("deconfliction") as cpu:
        drain = watch_drain(offsets, group, [source], target=target, timeout=run.step_cap)
        whole = offsets.caught_up(group, topics, timeout=run.step_cap)
    fig.value = round(drain.rate, 1)
    fig.cpu = cpu.result
    index = offsets.end([run.platform.topic(DECONFLICTION_INDEX.name)])
    fig.params = {
        "lead_events": target,
        "index_records": index,
        "index_caught_up": whole,
        "seconds_until_index_caught_up": round(time.monotonic() - began, 1),
        "complete": drain.complete,
    }
    fig.notes.append(
        "input: lead events; each EntityObserved becomes TokenRegistered/PersonRegistered "
        "twice (the team's event and the index record), then an index update in the same process"
    )
    fig.bound = service_time(
        fig.value,
        fig.cpu,
        "deconfliction",
        "lead event",
        confirms="register_entities confirms a batch of up to 500 lead events' registrations at "
        "once, then index_registration reads and writes one table entry per registration (two "
        "index records per identifier) in the same Python thread",
        confirm=run.results.get(baselines.KAFKA_CONFIRM),
    )
    fig.lift = (
        "the index agent's table reads and writes are CPU (JSON and pydantic per entry): a "
        "worker process per core (the index is partitioned by token), entries kept as "
        "compact bytes instead of JSON models"
    )


def projection_passthrough(run: Run, fig: Figure) -> None:
    if "projection" not in wired_roles():
        fig.unavailable(not_wired(["projection"]))
        return
    offsets = run.offsets()
    topics = _topics(run, *PROJECTED_TOPICS)
    target = offsets.end(topics)
    run.ensure("projection")
    with run.watch("projection") as cpu:
        drain = watch_drain(
            offsets, run.platform.group("projection"), topics, target=target, timeout=run.step_cap
        )
    fig.value = round(drain.rate, 1)
    fig.cpu = cpu.result
    fig.params = {"events": target, "batch": 1_000, "complete": drain.complete}
    fig.notes.append("events/s from Kafka into Neo4j; the baseline is nodes/s of one MERGE per row")
    alone = run.results.value(STATEMENTS)
    fig.bound = service_time(
        fig.value,
        fig.cpu,
        "projection",
        "event",
        confirms="batches of up to 1,000 events, each one Neo4j write transaction"
        + (
            f"; the same statements without Kafka ran {alone:,.0f} events/s (see the "
            "statements row): the graph writes, not Kafka, bound it"
            if alone
            else ""
        ),
        confirm=None,
    )
    fig.lift = (
        "lift: several projection workers (partitions are independent), statements grouped "
        "per label across a batch (fewer round trips), Neo4j page cache and a second core for it"
    )


def alerts_passthrough(run: Run, fig: Figure) -> None:
    from services.alerts.settings import AlertsSettings

    alerts = AlertsSettings()
    missing = run.ensure("alerts", "gateway")
    if "alerts" in missing:
        fig.unavailable(not_wired(["alerts"]))
        return
    jit = bench_jit(run)
    offsets = run.offsets()
    topic = run.platform.topic(ALERT_COMMANDS.name)
    group = run.platform.group("alerts")
    if not offsets.caught_up(group, [topic], timeout=run.step_cap):
        fig.notes.append("the alerts worker had not caught up with its other topics")
    count = run.size(150, 5_000)
    records = [raise_alert(jit, n, run.shared["tag"]) for n in range(count)]
    target = offsets.end([topic]) + count
    with run.watch("alerts") as cpu:
        produce(run.settings, topic, records)
        drain = watch_drain(offsets, group, [topic], target=target, timeout=run.step_cap)
    fig.value = round(drain.rate, 1)
    fig.cpu = cpu.result
    fig.params = {"commands": count, "target_teams": len(jit.teams), "complete": drain.complete}
    fig.notes.append(
        "alert commands are keyed by JIT: one JIT is one partition, so one worker, in series"
    )
    fig.bound = service_time(
        fig.value,
        fig.cpu,
        "alerts",
        "command",
        confirms=f"per polled batch (up to {alerts.command_batch_size} commands, or what "
        f"arrived within {alerts.command_batch_seconds * 1000:.0f} ms) one awaited confirmation "
        f"of its AlertRaised events and their routing to {len(jit.teams)} desks, then the "
        "states; one JIT's commands in series",
        confirm=run.results.get(baselines.KAFKA_CONFIRM),
    )
    fig.lift = worker_lift(fig.value, fig.cpu, "alerts", "commands")


def gateway_leads(run: Run, fig: Figure) -> None:
    missing = run.ensure("leads", "gateway")
    if missing:
        fig.unavailable(not_wired(missing))
        return
    if "/jits/{jit}/leads" not in gateway_paths(run.settings):
        fig.unavailable("the gateway has no leads router (POST /jits/{jit}/leads)")
        return
    from services.kit.identity import Issuer

    jit = bench_jit(run)
    token = Issuer(run.settings).issue(
        member=f"analyst-{jit.teams[0].lower()}",
        team=jit.teams[0],
        jits=(jit.id,),
        roles=("analyst",),
    )
    headers = {"Authorization": f"Bearer {token}"}
    seconds = run.size(5.0, 20.0)
    most = run.size(2_000, 20_000)
    tag = f"g{uuid.uuid4().hex[:5]}"
    with run.progress.step(f"pipeline: preparing {most:,} lead bodies"):
        bodies = [lead_body(n, tag) for n in range(most)]

    async def send(client: Any, n: int) -> Any:
        return await client.post(f"/jits/{jit.id}/leads", json=bodies[n], headers=headers)

    with run.watch("gateway", "leads") as cpu:
        load = asyncio.run(
            http_load(
                run.platform.base_url,
                send,
                concurrency=baselines.HTTP_CONCURRENCY,
                seconds=seconds,
                max_requests=most,
            )
        )
    fig.value = round(load.rate, 1)
    fig.stats = percentiles(load.latencies_ms)
    fig.cpu = cpu.result
    fig.params = {
        "concurrency": baselines.HTTP_CONCURRENCY,
        "seconds": round(load.seconds, 1),
        "statuses": {str(k): v for k, v in load.statuses.items()},
        "events_per_s": round(load.rate * EVENTS_PER_LEAD, 1),
    }
    if load.failed:
        fig.notes.append(
            f"{load.failed} requests were not answered 201/200 (202 means the outcome came "
            f"later than the gateway's wait): statuses {dict(sorted(load.statuses.items()))}"
        )
    fig.notes.append(
        "201 after the leads service's outcome came back over Kafka (p50 "
        f"{fig.stats.get('p50', 0):.0f} ms); the baseline answers at once"
    )
    fig.lift = "lift: more gateway processes behind one address (uvicorn workers), orjson"


async def _sustain(
    run: Run, rate: int, seconds: float, records: list[tuple[bytes, bytes]]
) -> dict[str, Any]:
    """Offer ``rate`` leads/s for ``seconds`` while sampling the projection's lag; stop once it
    has drained, or as soon as the lag is past the bound (the rate is not sustained)."""
    from services.kit.graphdb import async_driver
    from services.projection.lag import projection_lag
    from services.projection.views import GraphViews

    offsets = run.offsets()
    projected = _topics(run, *PROJECTED_TOPICS)
    group = run.platform.group("projection")
    topic = run.platform.topic(LEAD_COMMANDS.name)
    driver = async_driver(run.settings)
    views = GraphViews(driver)
    stop = threading.Event()
    lags: list[float] = []
    behind: list[int] = []
    over = 0
    try:
        before = offsets.committed(group, projected)
        began = time.monotonic()
        sending = asyncio.create_task(
            asyncio.to_thread(produce, run.settings, topic, records, rate=rate, stop=stop)
        )
        sent_at: float | None = None
        drained = False
        while time.monotonic() < began + seconds + LAG_BOUND_S + run.step_cap:
            lag = await projection_lag(run.settings, views)
            behind.append(int(lag["behind_records"]))
            if lag["lag_seconds"] is not None:
                lags.append(float(lag["lag_seconds"]))
            # One sample past the bound can be a partition that was idle for a while (its last
            # projected record is old); three in a row is a lag that is growing.
            over = over + 1 if lags and lags[-1] > LAG_BOUND_S else 0
            if sending.done() and sent_at is None:
                sent_at = time.monotonic()
            if sent_at is not None and lag["behind_records"] == 0:
                drained = True
                break
            if over >= 3:
                break
            if sent_at is not None and time.monotonic() - sent_at > LAG_BOUND_S:
                break
            await asyncio.sleep(0.5)
        stop.set()
        sent, _ = await sending
        sent_at = sent_at or time.monotonic()
        finished = time.monotonic()
        processed = offsets.committed(group, projected) - before
        worst = max(lags) if lags else None
        bounded = drained and over < 3
        return {
            "offered_leads_per_s": rate,
            "leads": sent,
            "events_projected": processed,
            "events_per_s": round(processed / (finished - began), 1),
            "max_lag_s": worst,
            "max_behind_records": max(behind) if behind else None,
            "drain_after_load_s": round(finished - sent_at, 1) if drained else None,
            "bounded": bounded,
        }
    finally:
        await driver.close()


def sustained_bound(
    stage_rates: dict[str, float],
    leads_commands: float | None,
    steps: list[dict[str, Any]],
    best: dict[str, Any],
    value: float,
) -> str:
    """What bounds the sustained rate: each stage's own rate, and how the first rate that was
    not sustained failed (the lag past the bound, or a backlog that did not drain)."""
    measured = {k: v for k, v in stage_rates.items() if v}
    what = {"leads": "events out", "deconfliction": "lead events in", "projection": "events in"}
    text = "each stage alone (events/s): " + ", ".join(
        f"{k} {v:,.0f} ({what[k]})" for k, v in measured.items()
    )
    if measured and min(measured, key=lambda k: measured[k]) == "leads" and leads_commands:
        text += f" (the leads worker, {leads_commands:,.0f} commands/s, is the slowest)"
    text += (
        f"; together, sharing {os.cpu_count()} cores with Kafka and Neo4j, {value:,.0f} "
        f"events/s at {best['offered_leads_per_s']} leads/s"
    )
    failed = [s for s in steps if not s["bounded"]]
    if failed:
        step = failed[0]
        rate = step["offered_leads_per_s"]
        if (step.get("max_lag_s") or 0) > LAG_BOUND_S:
            text += (
                f"; at {rate} leads/s the projection lag passed {LAG_BOUND_S:.0f} s "
                f"(max {step['max_lag_s']:.1f} s)"
            )
        else:
            text += (
                f"; at {rate} leads/s the backlog had not drained {LAG_BOUND_S:.0f} s after "
                f"the load stopped (up to {step.get('max_behind_records') or 0:,} records "
                f"behind, lag at most {step.get('max_lag_s') or 0:.1f} s)"
            )
    return text


def sustained(run: Run, fig: Figure) -> None:
    wired = wired_roles()
    missing = [r for r in ("leads", "projection") if r not in wired]
    if missing:
        fig.unavailable(not_wired(missing))
        return
    stages = ["leads", "deconfliction", "projection"] if "deconfliction" in wired else []
    stages = stages or ["leads", "projection"]
    run.ensure(*stages)
    jit = bench_jit(run)
    rates = run.size([10], [25, 50, 100, 200, 400, 800])
    seconds = run.size(6.0, 30.0)
    steps: list[dict[str, Any]] = []
    start = 10_000_000
    offsets = run.offsets()
    with run.watch(*stages) as cpu:
        for rate in rates:
            backlog = {}
            for role in stages:  # start each step on an idle pipeline
                group = run.platform.group(role)
                backlog[role] = offsets.behind(group, [])
                offsets.caught_up(group, [], timeout=run.step_cap)
            count = int(rate * seconds)
            records = lead_stream(jit, count, f"s{run.shared['tag']}", start=start)
            start += count
            step = asyncio.run(_sustain(run, rate, seconds, records))
            step["backlog_before"] = backlog
            steps.append(step)
            run.progress.say(
                f"  sustained at {rate} leads/s: {step['events_per_s']:,} events/s, "
                f"max lag {step['max_lag_s']} s, bounded: {step['bounded']}"
            )
            if not step["bounded"]:
                break
    settled = all(
        run.offsets().caught_up(run.platform.group(role), [], timeout=run.step_cap)
        for role in stages
    )
    if not settled:
        fig.notes.append("the backlog had not drained when the next step began")
    bounded = [s for s in steps if s["bounded"]]
    best = max(bounded, key=lambda s: s["events_per_s"]) if bounded else steps[0]
    fig.value = best["events_per_s"]
    fig.cpu = cpu.result
    fig.params = {
        "stages": " → ".join(stages),
        "lag_bound_s": LAG_BOUND_S,
        "steps": steps,
        "best_offered_leads_per_s": best["offered_leads_per_s"],
    }
    fig.title = f"Sustained pipeline ({' → '.join(stages)}), projection lag ≤ {LAG_BOUND_S:.0f} s"
    if "deconfliction" not in stages:
        fig.notes.append("without deconfliction: " + not_wired(["deconfliction"]))
    if not bounded:
        fig.notes.append("the lag was not bounded even at the lowest offered rate")
    if run.quick:
        fig.notes.append(f"quick run: one offered rate ({rates[0]} leads/s), not a ramp")
    fig.notes.append(
        "bounded by the slowest stage (see the pass-through figures) and by the two cores "
        "being shared by Kafka, Neo4j, every worker and the load generator"
    )
    stage_rates = {
        "leads": (run.results.value(LEADS) or 0) * EVENTS_PER_LEAD,
        "deconfliction": run.results.value(DECONFLICTION) or 0,
        "projection": run.results.value(PROJECTION) or 0,
    }
    fig.bound = sustained_bound(
        stage_rates, run.results.value(LEADS), steps, best, fig.value or 0.0
    )
    need = SUSTAINED_TARGET.at_least or 0
    leads_rate = run.results.value(LEADS)
    fig.lift = (
        f"{need:,.0f} events/s is {need / EVENTS_PER_LEAD:,.0f} leads/s"
        + (
            f", {need / EVENTS_PER_LEAD / leads_rate:,.1f}× the leads worker alone"
            if leads_rate
            else ""
        )
        + ": every stage is bound by its worker's own CPU (one Python thread each), so one "
        "worker process per core per stage on a machine with the cores for it; deconfliction, "
        "the slowest stage, keeps its index entries as JSON models (compact bytes would lift it)"
    )


def run_group(run: Run) -> None:
    def fig(fid: str, title: str, unit: str, **kw: Any) -> Figure:
        return Figure(fid, GROUP, title, unit, **kw)

    steps = [
        (
            fig(
                STATEMENTS,
                "Projection statements in-process (no Kafka), batch 1,000",
                "events/s",
                baseline=baselines.unwind_id(1_000),
                targets=[PROJECTION_TARGET],
            ),
            statements,
        ),
        (
            fig(
                LEADS,
                "Leads (5 identifiers) via the command topic: leads service pass-through",
                "commands/s",
                baseline=baselines.KAFKA_CONSUME_PRODUCE,
                targets=[PASS_THROUGH],
            ),
            leads_passthrough,
        ),
        (
            fig(
                DECONFLICTION,
                "Deconfliction pass-through (lead events in, registrations and index out)",
                "events/s",
                baseline=baselines.KAFKA_CONSUME_PRODUCE,
                targets=[PASS_THROUGH],
            ),
            deconfliction_passthrough,
        ),
        (
            fig(
                PROJECTION,
                "Projection pass-through (Kafka → Neo4j)",
                "events/s",
                baseline=baselines.unwind_id(1_000),
                targets=[PROJECTION_TARGET],
            ),
            projection_passthrough,
        ),
        (
            fig(
                ALERTS,
                "Alerts pass-through (RaiseAlert → raised, routed to 3 desks)",
                "commands/s",
                baseline=baselines.KAFKA_CONSUME_PRODUCE,
                targets=[PASS_THROUGH],
            ),
            alerts_passthrough,
        ),
        (
            fig(
                GATEWAY,
                f"Leads via the gateway (POST, {baselines.HTTP_CONCURRENCY} concurrent, 201 with "
                "the outcome)",
                "requests/s",
                baseline=baselines.FASTAPI,
            ),
            gateway_leads,
        ),
        (
            fig(
                SUSTAINED,
                "Sustained pipeline",
                "events/s",
                baseline=baselines.KAFKA_CONSUME_PRODUCE,
                targets=[SUSTAINED_TARGET],
            ),
            sustained,
        ),
    ]
    for figure, measure in steps:
        with run.progress.step(f"pipeline: {figure.id}"):
            run.measure(figure, lambda f, m=measure: m(run, f))  # type: ignore[misc]
        if figure.status == "ok" and figure.value is not None:
            run.progress.say(f"  {figure.id}: {figure.value:,} {figure.unit}")
