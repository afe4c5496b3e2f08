"""Latency under load: lead submission → deconfliction hit event, and AlertRaised → receipt by
100 connected SSE desk clients, at stated rates.

*Lead → hit*: while background leads flow at a stated rate, probe pairs go in one at a time:
team A's lead registers a handle, then team B's lead names the same handle; the latency runs from
B's command being written to the lead command topic to the ``DeconflictionHit`` (matched by B's
correlation id) arriving on ``interlock.deconfliction.events``, read as a subscriber would.

*Alert → desk*: 100 desk officers' EventSource connections (spread over the JIT's three desks)
stay open on the gateway; ``RaiseAlert`` commands for all three desks go in at a stated rate;
each client measures, per page, its receipt time minus the ``time`` of the ``AlertRaised``
event the page carries. Clients and the load generator share the bench process (and the
machine's two cores) with everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from bench import baselines
from bench.support import (
    Figure,
    Run,
    Tail,
    Target,
    gateway_paths,
    not_wired,
    percentiles,
    produce,
)
from bench.workload import Jit, bench_jit, lead_stream, raise_alert, register_jit, submit_lead
from events.codec import encode
from events.topics import ALERT_COMMANDS, DECONFLICTION_EVENTS, LEAD_COMMANDS
from services.kit.kafka import new_producer

GROUP = "latency"
LEAD_TO_HIT = "latency.lead_to_hit"
HIT_TYPE = "interlock.deconfliction.hit_detected"
TOKEN_TYPE = "interlock.deconfliction.token_registered"
ROUTED_TYPE = "interlock.alert.routed"
DESK_CLIENTS = 100
ALERT_TARGET = Target("p99 < 250 ms (100 SSE clients, 500 alerts/s)", "value", at_most=250.0)


def alert_rates(quick: bool) -> list[int]:
    return [20] if quick else [50, 500]


def alert_id(rate: int) -> str:
    return f"latency.alert_to_desk.{rate}_per_s"


def figure_ids(quick: bool) -> list[str]:
    return [LEAD_TO_HIT, *(alert_id(r) for r in alert_rates(quick))]


class Seen:
    """Records by correlation id, as a subscriber of the deconfliction events saw them."""

    def __init__(self) -> None:
        self.by_correlation: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.cond = threading.Condition()
        self.watching: set[str] = set()

    def on_record(self, raw: bytes, received: float) -> None:
        try:
            wire = json.loads(raw)
        except ValueError:
            return
        correlation = wire.get("correlationid")
        if correlation in self.watching:
            with self.cond:
                self.by_correlation[correlation].append((str(wire.get("type")), received))
                self.cond.notify_all()

    def wait(self, correlation: str, kind: str, timeout: float) -> float | None:
        """When the first record of ``kind`` for ``correlation`` arrived, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for seen_kind, at in self.by_correlation.get(correlation, ()):
                    if seen_kind == kind:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))


def lead_to_hit(run: Run, fig: Figure) -> None:
    missing = run.ensure("leads", "deconfliction")
    if missing:
        fig.unavailable(not_wired(missing))
        return

    from services.kit.kafka import producer_config

    main = bench_jit(run)
    probe_jit = register_jit(run, 2)
    a, b = probe_jit.teams
    probes = run.size(10, 200)
    background = run.size(5, 20)
    tag = f"p{uuid.uuid4().hex[:5]}"
    longest = run.size(20.0, 240.0)
    with run.progress.step(f"latency: encoding {int(background * longest):,} background leads"):
        load = lead_stream(main, int(background * longest), f"bg{tag}", start=20_000_000)
    commands = run.platform.topic(LEAD_COMMANDS.name)
    seen = Seen()
    producer = new_producer(producer_config(run.settings))
    stop = threading.Event()
    latencies: list[float] = []
    late: list[tuple[str, float]] = []
    missed = 0
    with Tail(run.settings, run.platform.topic(DECONFLICTION_EVENTS.name), seen.on_record):
        feeder = threading.Thread(
            target=produce,
            args=(run.settings, commands, load),
            kwargs={"rate": background, "stop": stop},
            daemon=True,
        )
        with run.watch("leads", "deconfliction") as cpu:
            feeder.start()
            deadline = time.monotonic() + longest
            for k in range(probes + 1):  # the first probe warms up (directory sync), not counted
                if time.monotonic() > deadline:
                    break
                n = 2 * k
                first = submit_lead(probe_jit, a, n, tag, correlation_id=str(uuid.uuid4()))
                second = submit_lead(
                    probe_jit, b, n + 1, tag, shared=n, correlation_id=str(uuid.uuid4())
                )
                seen.watching.update({first.correlation_id, second.correlation_id})
                producer.produce(commands, key=first.subject.encode(), value=encode(first))
                producer.flush(10)
                seen.wait(first.correlation_id, TOKEN_TYPE, timeout=10)
                sent = time.time()
                producer.produce(commands, key=second.subject.encode(), value=encode(second))
                producer.flush(10)
                hit = seen.wait(second.correlation_id, HIT_TYPE, timeout=10)
                if k == 0:
                    continue
                if hit is None:
                    late.append((second.correlation_id, sent))
                else:
                    latencies.append((hit - sent) * 1000)
                time.sleep(0.2)
            stop.set()
            feeder.join(timeout=30)
            # A hit later than the probe's 10 s wait still counts, with its whole latency; only
            # one that never comes within the step cap is missed.
            until = time.monotonic() + run.step_cap
            for correlation, sent in late:
                hit = seen.wait(correlation, HIT_TYPE, timeout=max(0.0, until - time.monotonic()))
                if hit is None:
                    missed += 1
                else:
                    latencies.append((hit - sent) * 1000)
    fig.stats = percentiles(latencies)
    fig.value = fig.stats.get("p99")
    fig.cpu = cpu.result
    fig.params = {
        "probes": len(latencies),
        "later_than_10s": len(late) - missed,
        "missed": missed,
        "background_leads_per_s": background,
        "background_events_per_s": background * 8,
        "submitted_via": "lead command topic",
    }
    fig.title = f"Lead submission → DeconflictionHit, under {background} leads/s of background load"
    fig.notes.append(
        "four consumer hops: leads → register_entities → index → admit_hits, each awaiting "
        "acks=all before acknowledging"
    )
    if late:
        fig.notes.append(
            f"{len(late) - missed} probe(s) saw their hit only after the 10 s each probe waits "
            f"(counted with their whole latency); {missed} saw none within the step cap"
        )


async def _desk_clients(
    run: Run, jit: Jit, rate: int, seconds: float, fig: Figure
) -> tuple[list[float], dict[str, Any]]:
    import httpx

    from services.kit.identity import Issuer

    issuer = Issuer(run.settings)
    tokens = {
        team: issuer.issue(
            member=f"desk-{team.lower()}", team=team, jits=(jit.id,), roles=("desk_officer",)
        )
        for team in jit.teams
    }
    tag = uuid.uuid4().hex[:6]
    alerts = [raise_alert(jit, n, tag) for n in range(int(rate * seconds))]
    wanted = {json.loads(value)["data"]["alert_id"] for _, value in alerts}
    latencies: list[float] = []
    connected = 0
    refused: dict[int, int] = defaultdict(int)
    all_connected = asyncio.Event()
    all_received = asyncio.Event()
    stop = asyncio.Event()
    received = 0
    expected = len(wanted) * DESK_CLIENTS

    async def client(http: httpx.AsyncClient, team: str) -> None:
        nonlocal connected, received
        headers = {"Authorization": f"Bearer {tokens[team]}", "Accept": "text/event-stream"}
        try:
            async with http.stream("GET", f"/desks/{team}/alerts/stream", headers=headers) as resp:
                if resp.status_code != 200:
                    refused[resp.status_code] += 1
                    return
                data: list[str] = []
                first = True
                async for line in resp.aiter_lines():
                    if first:
                        first = False
                        connected += 1
                        if connected == DESK_CLIENTS:
                            all_connected.set()
                    if stop.is_set():
                        return
                    if line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif line == "" and data:
                        now = time.time()
                        message = json.loads("\n".join(data))
                        data = []
                        event = message.get("event", {})
                        alert = message.get("alert")
                        if (
                            event.get("type") == ROUTED_TYPE
                            and alert is not None
                            and event.get("data", {}).get("alert_id") in wanted
                        ):
                            raised = datetime.fromisoformat(alert["time"]).timestamp()
                            latencies.append((now - raised) * 1000)
                            received += 1
                            if received >= expected:
                                all_received.set()
        except (httpx.HTTPError, asyncio.CancelledError):
            return

    limits = httpx.Limits(max_connections=DESK_CLIENTS + 10)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(
        base_url=run.platform.base_url, limits=limits, timeout=timeout
    ) as http:
        teams = [jit.teams[i % len(jit.teams)] for i in range(DESK_CLIENTS)]
        tasks = [asyncio.create_task(client(http, team)) for team in teams]
        try:
            await asyncio.wait_for(all_connected.wait(), timeout=run.step_cap)
        except TimeoutError:
            fig.notes.append(f"only {connected} of {DESK_CLIENTS} desk clients connected")
        topic = run.platform.topic(ALERT_COMMANDS.name)
        with run.watch("alerts", "gateway") as cpu:
            sending = asyncio.create_task(
                asyncio.to_thread(produce, run.settings, topic, alerts, rate=rate)
            )
            sent, spent = await sending
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_received.wait(), timeout=min(run.step_cap, 30.0))
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    fig.cpu = cpu.result
    params = {
        "desk_clients": DESK_CLIENTS,
        "connected": connected,
        "refused": dict(refused),
        "alerts": sent,
        "offered_alerts_per_s": rate,
        "achieved_alerts_per_s": round(sent / spent, 1) if spent else None,
        "expected_receipts": expected,
        "receipts": received,
    }
    return latencies, params


def alert_to_desk(run: Run, fig: Figure, rate: int) -> None:
    missing = run.ensure("alerts", "gateway")
    if missing:
        fig.unavailable(not_wired(missing))
        return
    if "/desks/{team}/alerts/stream" not in gateway_paths(run.settings):
        fig.unavailable("the gateway has no desk stream (GET /desks/{team}/alerts/stream)")
        return
    jit = bench_jit(run)
    seconds = run.size(5.0, 10.0)
    latencies, params = asyncio.run(_desk_clients(run, jit, rate, seconds, fig))
    fig.stats = percentiles(latencies)
    fig.value = fig.stats.get("p99")
    fig.params = params
    if params["receipts"] < params["expected_receipts"]:
        fig.notes.append(
            f"{params['receipts']:,} of {params['expected_receipts']:,} pages arrived within "
            "the wait after the load stopped"
        )
    pages = DESK_CLIENTS * rate
    gateway = fig.cpu.get("role gateway")
    clients = fig.cpu.get("bench (load and clients)")
    fig.bound = (
        f"{DESK_CLIENTS} clients × {rate} alerts/s = {pages:,} SSE pages/s from one gateway "
        "process"
        + (
            f" at {gateway:.0f}% of a core ({gateway * 1e4 / pages:,.0f} µs of its CPU a page)"
            if gateway
            else ""
        )
        + (
            f", read by all {DESK_CLIENTS} clients in the bench's one Python process at "
            f"{clients:.0f}% of a core"
            if clients
            else ""
        )
        + f"; {params['receipts']:,} of {params['expected_receipts']:,} pages arrived"
    )
    alone = run.results.value("pipeline.alerts.passthrough")
    if alone and alone < rate:
        fig.bound += (
            f"; the alerts worker passes {alone:,.0f} commands/s alone, below the {rate}/s "
            "offered (AlertRaised is timed from when it is raised, so its queue is not in the "
            "figure, but it takes the same cores)"
        )
    fig.lift = (
        "several gateway processes (each desk hub reads the alert topic once and fans "
        "out), a pre-encoded SSE frame per team instead of one per client, clients on "
        "their own machine"
    )


def run_group(run: Run) -> None:
    run.measure(
        Figure(
            LEAD_TO_HIT,
            GROUP,
            "Lead submission → DeconflictionHit",
            "ms",
            baseline=baselines.KAFKA_ROUND_TRIP,
        ),
        lambda f: lead_to_hit(run, f),
    )
    hit = run.results.get(LEAD_TO_HIT)
    if hit is not None and hit.status == "ok" and "p50" in hit.stats:
        run.progress.say(f"  {LEAD_TO_HIT}: p50 {hit.stats['p50']:.0f} / p99 {hit.value:.0f} ms")
    for rate in alert_rates(run.quick):
        fig = run.measure(
            Figure(
                alert_id(rate),
                GROUP,
                f"AlertRaised → {DESK_CLIENTS} SSE desk clients, {rate} alerts/s",
                "ms",
                baseline=baselines.KAFKA_ROUND_TRIP,
                targets=[ALERT_TARGET],
            ),
            lambda f, r=rate: alert_to_desk(run, f, r),  # type: ignore[misc]
        )
        if fig.status == "ok" and "p50" in fig.stats:
            run.progress.say(
                f"  {fig.id}: p50 {fig.stats['p50']:.0f} / p99 {fig.stats['p99']:.0f} ms, "
                f"{fig.params.get('receipts')} receipts"
            )
