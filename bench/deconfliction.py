"""Deconfliction at scale: registration throughput, hit latency and memory with many
identifiers registered (quick: 10,000; full: 1,000,000 and 10,000,000).

Two measurements, side by side:

*service*: the deconfliction worker as deployed (faust, tables in its memory store, changelog
topics). A national system's bulk path fills it: ``RegisterBlindTokens`` commands of 5,000
tokens each on ``interlock.deconfliction.commands``; throughput is tokens per second until the
worker's consumer group has caught up on every topic it reads; memory is the worker's resident
memory growth per identifier; hit latency is a probe registering, as another team, a token
already held, until the ``DeconflictionHit`` arrives on ``interlock.deconfliction.events``.

*domain*: the same index (``decide_registration`` then ``register`` on a dict of JSON states,
which is what faust's memory store holds) in this process, without Kafka: what the index itself
costs per identifier, and so whether the memory store can hold 10,000,000 on this machine.

Neither is allowed to take the machine down: before each chunk the resident memory a size would
need is projected from what has been measured, and a size beyond the budget (30% of the memory
available, at most 6 GiB: the machine is shared) is capped, with the bound reported.
"""

from __future__ import annotations

import base64
import gc
import os
import random
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench import baselines
from bench.support import (
    ROOT,
    Figure,
    Run,
    Tail,
    Target,
    available_memory_bytes,
    not_wired,
    percentiles,
    produce,
    rss_bytes,
)
from bench.workload import register_jit
from events.codec import encode, envelop
from events.deconfliction import BlindToken, RegisterBlindTokens, TokenRegistered
from events.envelope import Actor, Addressed
from events.identifiers import IdentifierKind
from events.topics import (
    DECONFLICTION_COMMANDS,
    DECONFLICTION_EVENTS,
    DECONFLICTION_HITS,
    DECONFLICTION_INDEX,
    LEAD_EVENTS,
)

GROUP = "deconfliction"
TOKENS_PER_COMMAND = 5_000
"""A command of 5,000 tokens is about 0.6 MB, under the 1 MB an event may be."""
HIT_TYPE = "interlock.deconfliction.hit_detected"
HIT_TARGET = Target("p99 < 100 ms with 10,000,000 identifiers", "value", at_most=100.0)
GIB = 1024**3


def sizes(quick: bool, where: str = "domain") -> list[tuple[str, int]]:
    """Identifiers registered per step: the quick run's worker step is smaller, because the
    worker registers a few hundred per second on this machine while others share it."""
    if quick:
        return [("5k", 5_000)] if where == "service" else [("10k", 10_000)]
    return [("1M", 1_000_000), ("10M", 10_000_000)]


def fid(where: str, label: str, metric: str) -> str:
    return f"deconfliction.{where}.{label}.{metric}"


def figure_ids(quick: bool) -> list[str]:
    return [
        fid(where, label, metric)
        for where in ("service", "domain")
        for label, _ in sizes(quick, where)
        for metric in ("registration", "hit_latency", "memory")
    ]


def memory_budget() -> int:
    """The most resident memory a measurement may add: 30% of what is available, ≤ 6 GiB (the
    machine is shared)."""
    return min(int(available_memory_bytes() * 0.3), 6 * GIB)


def random_token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()


def blind(tokens: list[str]) -> tuple[BlindToken, ...]:
    return tuple(BlindToken(kind=IdentifierKind.HANDLE, token=t, key_version=1) for t in tokens)


class Sample:
    """A bounded random sample of the tokens registered, to probe hits against."""

    def __init__(self, keep: int = 2_000, seed: int = 11) -> None:
        self.keep = keep
        self.items: list[str] = []
        self.seen = 0
        self.rng = random.Random(seed)

    def add(self, token: str) -> None:
        self.seen += 1
        if len(self.items) < self.keep:
            self.items.append(token)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < self.keep:
                self.items[slot] = token


def _figures(run: Run, where: str, label: str, count: int) -> dict[str, Figure]:
    """The three figures of one size, registered with the results."""
    figs = _blank(where, label, count)
    for fig in figs.values():
        run.results.add(fig)
    return figs


def _blank(where: str, label: str, count: int) -> dict[str, Figure]:
    what = "worker (faust, memory store)" if where == "service" else "index in-process (domain)"
    return {
        "registration": (
            Figure(
                fid(where, label, "registration"),
                GROUP,
                f"Deconfliction {what}: registration, {label} identifiers",
                "identifiers/s",
                baseline=baselines.KAFKA_CONSUME_PRODUCE,
                params={"planned": count},
            )
        ),
        "hit_latency": (
            Figure(
                fid(where, label, "hit_latency"),
                GROUP,
                f"Deconfliction {what}: hit latency with {label} registered",
                "ms",
                baseline=baselines.KAFKA_ROUND_TRIP if where == "service" else None,
                targets=[HIT_TARGET] if where == "service" else [],
                params={"planned": count},
            )
        ),
        "memory": (
            Figure(
                fid(where, label, "memory"),
                GROUP,
                f"Deconfliction {what}: memory per identifier, {label} registered",
                "bytes/identifier",
                params={"planned": count},
            )
        ),
    }


def _small(mem: Figure, registered: int) -> None:
    if registered < 100_000:
        mem.notes.append(
            f"only {registered:,} registered: the growth includes fixed allocations, so bytes "
            "per identifier is overstated; the full run's figure is the one to extrapolate"
        )


def _capped(figs: dict[str, Figure], reached: int, planned: int, per_id: float, why: str) -> None:
    need = per_id * planned / GIB
    for fig in figs.values():
        fig.params["registered"] = reached
        if reached < planned:
            fig.notes.append(
                f"capped at {reached:,} identifiers ({why}); {planned:,} would need about "
                f"{need:,.1f} GiB of resident memory at the measured {per_id:,.0f} bytes each"
            )


# ------------------------------------------------------------------------------------- domain


def domain_index(run: Run) -> None:
    """The index's own cost, in this process: tokens/s, µs per hit decision, bytes per entry."""
    from services.deconfliction import domain
    from services.deconfliction.domain import TokenHolders
    from services.deconfliction.tokens import TokenKeys
    from services.kit.streams import state_from_json, state_to_json

    keys = TokenKeys(os.urandom(32))
    jit, team_a, team_b = "bench-index", "NL-BINDEX", "RO-BINDEX"
    members = {team_a, team_b}
    actor_a = Actor(member="bench", team=team_a, roles=("national_system",))
    actor_b = Actor(member="bench", team=team_b, roles=("national_system",))
    table: dict[bytes, Any] = {}
    sample = Sample()
    rng = random.Random(5)
    gc.collect()
    base_rss = rss_bytes(os.getpid()) or 0
    budget = memory_budget()
    registered = 0
    spent = 0.0

    def index(command: RegisterBlindTokens) -> list[Any]:
        now = datetime.now(UTC)
        hits: list[Any] = []
        for item in domain.decide_registration(
            command, jit=jit, keys=keys, now=now, members=members
        ):
            reg = item.event if isinstance(item, Addressed) else item
            assert isinstance(reg, TokenRegistered)
            entry = reg.token.encode()
            state = state_from_json(TokenHolders, table.get(entry))
            new, found = domain.register(state, reg, now=now, desks={})
            table[entry] = state_to_json(new)
            hits += found
        return hits

    try:
        for label, planned in sizes(run.quick):
            figs = _figures(run, "domain", label, planned)
            step_from, spent_from = registered, spent
            deadline = time.monotonic() + run.step_cap * (1 if run.quick else 3)
            why = ""
            step = run.progress.step(f"deconfliction: domain index to {label} identifiers")
            with step, run.watch() as cpu:
                while registered < planned:
                    grown = (rss_bytes(os.getpid()) or 0) - base_rss
                    per_id = grown / registered if registered > 10_000 else 2_000.0
                    if per_id * (registered + TOKENS_PER_COMMAND) > budget:
                        why = f"memory budget of {budget / GIB:.1f} GiB"
                        break
                    if time.monotonic() > deadline:
                        why = "the step's time cap"
                        break
                    chunk = [random_token(rng) for _ in range(TOKENS_PER_COMMAND)]
                    for t in chunk:
                        sample.add(t)
                    command = RegisterBlindTokens(
                        actor=actor_a, source_ref=f"src-{registered}", tokens=blind(chunk)
                    )
                    began = time.perf_counter()
                    index(command)
                    spent += time.perf_counter() - began
                    registered += len(chunk)
                    if not run.quick and registered % 500_000 == 0:
                        run.progress.say(f"  domain index: {registered:,} identifiers")
            grown = (rss_bytes(os.getpid()) or 0) - base_rss
            per_id = grown / registered if registered else 0.0
            reg = figs["registration"]
            step_spent = spent - spent_from
            reg.value = round((registered - step_from) / step_spent, 1) if step_spent else None
            reg.cpu = cpu.result
            reg.notes.append("national systems' bulk path (RegisterBlindTokens, 5,000 a command)")
            latencies = []
            for k in range(run.size(200, 1_000)):
                token = sample.items[k % len(sample.items)]
                probe = RegisterBlindTokens(
                    actor=actor_b, source_ref=f"probe-{label}-{k}", tokens=blind([token])
                )
                began = time.perf_counter()
                hits = index(probe)
                latencies.append((time.perf_counter() - began) * 1000)
                if not hits:
                    raise RuntimeError("a probe of a registered token found no hit")
            hit = figs["hit_latency"]
            hit.stats = percentiles(latencies)
            hit.value = hit.stats.get("p99")
            hit.notes.append("the decision alone: tokenise, read the entry, register, write it")
            mem = figs["memory"]
            mem.value = round(per_id, 1)
            mem.params.update({"rss_growth_gib": round(grown / GIB, 2), "entries": len(table)})
            _capped(figs, registered, planned, per_id, why or "")
            _small(mem, registered)
            if registered >= planned and planned < 10_000_000:
                mem.notes.append(
                    f"10,000,000 identifiers would need about {per_id * 1e7 / GIB:,.1f} GiB "
                    "in one process's memory store"
                )
            run.progress.say(
                f"  domain {label}: {reg.value:,} identifiers/s, hit p99 {hit.value:.2f} ms, "
                f"{per_id:,.0f} bytes/identifier"
            )
            if registered < planned:
                for later_label, later in sizes(run.quick):
                    if later > planned:
                        for fig in _figures(run, "domain", later_label, later).values():
                            fig.unavailable(f"the {label} step was already capped: {why}")
                break
    finally:
        table.clear()
        gc.collect()


# ------------------------------------------------------------------------------------ service


def service_index(run: Run) -> None:
    """The deconfliction worker filled through its command topic, probed for hits."""
    planned_sizes = sizes(run.quick, "service")
    if "deconfliction" not in _wired():
        for label, planned in planned_sizes:
            for fig in _figures(run, "service", label, planned).values():
                fig.unavailable(not_wired(["deconfliction"]))
        return
    run.ensure("deconfliction")
    # The worker alone on the machine: nothing else consumes what it writes meanwhile.
    run.platform.stop_roles([r for r in run.platform.pids() if r != "deconfliction"])
    jit = register_jit(run, 2)
    team_a, team_b = jit.teams
    pid = run.platform.pids()["deconfliction"]
    offsets = run.offsets()
    group = run.platform.group("deconfliction")
    commands = run.platform.topic(DECONFLICTION_COMMANDS.name)
    topics = [
        run.platform.topic(t.name)
        for t in (DECONFLICTION_COMMANDS, DECONFLICTION_INDEX, DECONFLICTION_HITS, LEAD_EVENTS)
    ]
    offsets.caught_up(group, topics, timeout=run.step_cap)
    gc.collect()
    base_rss = rss_bytes(pid) or 0
    budget = memory_budget()
    disk_free = shutil.disk_usage(ROOT).free
    rng = random.Random(9)
    sample = Sample()
    registered = 0
    spent = 0.0
    actor_a = Actor(member="bench", team=team_a, roles=("national_system",))
    actor_b = Actor(member="bench", team=team_b, roles=("national_system",))

    def command(actor: Actor, tokens: list[str], ref: str) -> tuple[bytes, bytes, str]:
        env = envelop(
            RegisterBlindTokens(actor=actor, source_ref=ref, tokens=blind(tokens)),
            subject=ref,
            jit=jit.id,
            originator=actor.team,
            source="/interlock/bench",
            correlation_id=str(uuid.uuid4()),
        )
        return ref.encode(), encode(env), env.correlation_id

    for label, planned in planned_sizes:
        figs = _figures(run, "service", label, planned)
        step_from, spent_from = registered, spent
        deadline = time.monotonic() + run.step_cap * (1 if run.quick else 3)
        why = ""
        per_id = 2_000.0
        step = run.progress.step(f"deconfliction: worker index to {label} identifiers")
        with step, run.watch("deconfliction") as cpu:
            while registered < planned:
                if time.monotonic() > deadline:
                    why = "the step's time cap"
                    break
                grown = (rss_bytes(pid) or 0) - base_rss
                per_id = grown / registered if registered > 10_000 else 2_000.0
                chunk_size = min(planned - registered, run.size(10_000, 100_000))
                if per_id * (registered + chunk_size) > budget:
                    why = f"memory budget of {budget / GIB:.1f} GiB"
                    break
                if 3_000 * (registered + chunk_size) > disk_free * 0.25:
                    why = "a quarter of the free disk (each token is kept on three topics)"
                    break
                batch = []
                for i in range(0, chunk_size, TOKENS_PER_COMMAND):
                    tokens = [
                        random_token(rng) for _ in range(min(TOKENS_PER_COMMAND, chunk_size - i))
                    ]
                    for t in tokens:
                        sample.add(t)
                    key, value, _ = command(actor_a, tokens, f"bulk-{registered + i}")
                    batch.append((key, value))
                began = time.perf_counter()
                produce(run.settings, commands, batch)
                if not offsets.caught_up(
                    group, topics, timeout=max(1.0, deadline - time.monotonic())
                ):
                    why = "the step's time cap (the worker had not caught up)"
                    spent += time.perf_counter() - began
                    registered += chunk_size
                    break
                spent += time.perf_counter() - began
                registered += chunk_size
                if not run.quick:
                    run.progress.say(f"  worker index: {registered:,} identifiers")
        # Memory and hits are measured on an index that holds every token sent, not a backlog.
        if not offsets.caught_up(group, topics, timeout=run.step_cap):
            figs["hit_latency"].notes.append("measured while the worker still had a backlog")
        grown = (rss_bytes(pid) or 0) - base_rss
        per_id = grown / registered if registered else 0.0
        reg = figs["registration"]
        step_spent = spent - spent_from
        reg.value = round((registered - step_from) / step_spent, 1) if step_spent else None
        reg.cpu = cpu.result
        reg.notes.append("tokens/s until the worker caught up on its command, index and hit topics")
        reg.lift = "lift: more partitions and workers (the index is partitioned by token)"
        hit = figs["hit_latency"]
        latencies, missed = _probe_hits(
            run, sample, lambda t, k, at=label: command(actor_b, [t], f"probe-{at}-{k}")
        )
        hit.stats = percentiles(latencies)
        hit.value = hit.stats.get("p99")
        hit.params["missed_within_10s"] = missed
        hit.notes.append("from the probe's command written to the topic to the hit event read")
        hit.lift = (
            "lift: the index in a store with O(1) reads that does not grow the worker's heap "
            "(RocksDB), and fewer hops (index and admit in one step)"
        )
        mem = figs["memory"]
        mem.value = round(per_id, 1)
        mem.params.update(
            {
                "rss_growth_gib": round(grown / GIB, 2),
                "rss_gib": round((rss_bytes(pid) or 0) / GIB, 2),
            }
        )
        _capped(figs, registered, planned, per_id, why)
        _small(mem, registered)
        mem.notes.append(
            f"10,000,000 identifiers would need about {per_id * 1e7 / GIB:,.1f} GiB in the "
            "worker's memory store, rebuilt from the changelog at every start"
        )
        run.progress.say(
            f"  worker {label}: {reg.value} identifiers/s, hit p99 {hit.value} ms, "
            f"{per_id:,.0f} bytes/identifier"
        )
        if registered < planned:
            for later_label, later in planned_sizes:
                if later > planned:
                    for fig in _figures(run, "service", later_label, later).values():
                        fig.unavailable(f"the {label} step was already capped: {why}")
            break


def _probe_hits(run: Run, sample: Sample, make: Any) -> tuple[list[float], int]:
    from confluent_kafka import Producer

    from services.kit.kafka import producer_config

    arrived: dict[str, float] = {}
    watching: set[str] = set()
    cond = threading.Condition()

    def on_record(raw: bytes, received: float) -> None:
        import json

        try:
            wire = json.loads(raw)
        except ValueError:
            return
        if wire.get("type") == HIT_TYPE and wire.get("correlationid") in watching:
            with cond:
                arrived.setdefault(wire["correlationid"], received)
                cond.notify_all()

    producer = Producer(producer_config(run.settings))
    topic = run.platform.topic(DECONFLICTION_COMMANDS.name)
    latencies: list[float] = []
    missed = 0
    probes = run.size(10, 200)
    stop_at = time.monotonic() + run.step_cap
    with Tail(run.settings, run.platform.topic(DECONFLICTION_EVENTS.name), on_record):
        for k in range(probes + 1):
            if time.monotonic() > stop_at:
                break
            key, value, correlation = make(sample.items[k % len(sample.items)], k)
            watching.add(correlation)
            sent = time.time()
            producer.produce(topic, key=key, value=value)
            producer.flush(10)
            deadline = time.monotonic() + 10
            with cond:
                while correlation not in arrived and time.monotonic() < deadline:
                    cond.wait(0.2)
            if k == 0:
                continue  # warm-up: the worker may still be syncing its directory view
            if correlation in arrived:
                latencies.append((arrived[correlation] - sent) * 1000)
            else:
                missed += 1
            time.sleep(0.05)
    return latencies, missed


def _wired() -> set[str]:
    from bench.support import wired_roles

    return wired_roles()


def run_group(run: Run) -> None:
    for where, measure in (("domain", domain_index), ("service", service_index)):
        try:
            measure(run)
        except Exception as exc:  # noqa: BLE001 - reported on the figures, the run goes on
            reason = f"{type(exc).__name__}: {exc}"[:500]
            run.progress.say(f"  ! deconfliction {where}: {reason}")
            for label, planned in sizes(run.quick, where):
                for metric in ("registration", "hit_latency", "memory"):
                    fig = run.results.get(fid(where, label, metric))
                    if fig is None:
                        fig = run.results.add(_blank(where, label, planned)[metric])
                    if fig.value is None and fig.status == "ok":
                        fig.failed(reason)
