"""Deconfliction at scale: registration throughput, hit latency, memory and restart with many
identifiers registered (quick: thousands; full: 1,000,000 and 10,000,000).

Three measurements, side by side:

*domain*: the index itself (``decide_registration`` then ``register`` on a dict of JSON states,
which is what faust's memory store holds) in this process, without Kafka: what one entry costs
in time and memory, and so whether a memory store could hold 10,000,000 on this machine.

*service*: the deconfliction worker as deployed by default (faust, tables in its memory store,
rebuilt from the changelog topics at every start). A national system's bulk path fills it:
``RegisterBlindTokens`` commands of 5,000 tokens each on ``interlock.deconfliction.commands``;
throughput is tokens per second until the worker's consumer group has caught up on every topic
it reads; memory is the worker's resident memory growth per identifier; hit latency is probes
registering, as another team, tokens already held, at a stated rate, until each
``DeconflictionHit`` arrives on ``interlock.deconfliction.events``; restart is SIGTERM, then a
new process until it says it is ready. Registering through Kafka runs at hundreds to a thousand
tokens a second here, so this worker is measured at 100,000 (full run) and extrapolated.

*rocksdb*: the same worker with ``INTERLOCK_DECONFLICTION_STORE=rocksdb://``, at 1,000,000 and
10,000,000 identifiers. The bulk of its index is **preloaded**: written straight into the
RocksDB store the worker then opens, with the worker's own functions (``bench/preload.py`` says
how and what differs), because registering 10,000,000 through Kafka would take hours. It runs
on a topic prefix of its own (its own topics, consumer group and changelogs) with its store
under ``.data/bench/``, deleted at the end. On top of the preloaded index everything is
measured through Kafka as for the memory store: a sample of registrations, hit probes at a
stated rate, the worker's resident memory, and its restart.

Nothing is allowed to take the machine down: the in-process index and the memory store project
the resident memory a size would need from what has been measured, and a size beyond the budget
(30% of the memory available, at most 6 GiB: the machine is shared) is capped, with the bound
reported.
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import baselines
from bench.preload import (
    TOKENS_PER_COMMAND,
    IndexPreload,
    blind,
    disk_bytes,
    random_token,
)
from bench.support import (
    ROOT,
    BenchPlatform,
    Figure,
    Offsets,
    Run,
    Tail,
    Target,
    available_memory_bytes,
    not_wired,
    percentiles,
    produce,
    rss_bytes,
)
from bench.workload import Jit, register_jit
from events.codec import encode, envelop
from events.deconfliction import RegisterBlindTokens, TokenRegistered
from events.envelope import Actor, Addressed
from events.topics import (
    DECONFLICTION_COMMANDS,
    DECONFLICTION_EVENTS,
    DECONFLICTION_HITS,
    DECONFLICTION_INDEX,
    LEAD_EVENTS,
)
from services.kit.kafka import new_producer
from services.kit.settings import Settings

GROUP = "deconfliction"
HIT_TYPE = "interlock.deconfliction.hit_detected"
HIT_TARGET = Target("p99 < 100 ms with 10,000,000 identifiers", "value", at_most=100.0)
GIB = 1024**3
MIB = 1024**2
WHERE = ("domain", "service", "rocksdb")
ROCKSDB_ROLE = "role deconfliction (RocksDB store)"


def sizes(quick: bool, where: str = "domain") -> list[tuple[str, int]]:
    """Identifiers registered per step. Through Kafka the worker registers hundreds to a
    thousand a second on this machine, so the memory-store worker is measured at 100,000 and
    the 1,000,000 and 10,000,000 figures come from the preloaded RocksDB store; the in-process
    index stops at 1,000,000 (what 10,000,000 would cost follows from its bytes per entry)."""
    if quick:
        return {"domain": [("10k", 10_000)], "service": [("5k", 5_000)]}.get(
            where, [("20k", 20_000)]
        )
    if where == "service":
        return [("100k", 100_000)]
    if where == "domain":
        return [("1M", 1_000_000)]
    return [("1M", 1_000_000), ("10M", 10_000_000)]


def scale_note(quick: bool) -> str:
    """How this group's sizes were chosen, for the table's header."""
    if quick:
        return (
            "Deconfliction (quick): 10,000 in-process, 5,000 through the memory-store worker, "
            "20,000 preloaded into the RocksDB-store worker."
        )
    return (
        "Deconfliction: the index in-process is measured at 1,000,000 (its memory per "
        "identifier says what 10,000,000 would need; the earlier in-process 10M step stopped "
        "at its memory budget anyway); the memory-store worker is filled through Kafka to "
        "100,000 identifiers "
        "(it registers about a thousand a second here, so 1,000,000 would take the better part "
        "of an hour and 10,000,000 hours, and its memory store would not fit); the "
        "1,000,000 and 10,000,000 figures are the RocksDB-store worker's, the bulk of its index "
        "preloaded straight into its store (bench/preload.py) and every figure measured "
        "through Kafka on top of it."
    )


def metrics(where: str) -> tuple[str, ...]:
    base = ("registration", "hit_latency", "memory")
    return base if where == "domain" else (*base, "restart")


def probing(quick: bool) -> tuple[int, float]:
    """Hit probes per step and the rate they are sent at (probes/s)."""
    return (20, 10.0) if quick else (200, 20.0)


def fid(where: str, label: str, metric: str) -> str:
    return f"deconfliction.{where}.{label}.{metric}"


def figure_ids(quick: bool) -> list[str]:
    return [
        fid(where, label, metric)
        for where in WHERE
        for label, _ in sizes(quick, where)
        for metric in metrics(where)
    ]


def memory_budget() -> int:
    """The most resident memory a measurement may add: 30% of what is available, ≤ 6 GiB (the
    machine is shared)."""
    return min(int(available_memory_bytes() * 0.3), 6 * GIB)


class Sample:
    """A bounded random sample of the tokens registered, to probe hits against."""

    def __init__(self, keep: int = 2_000, seed: int = 11) -> None:
        self.keep = keep
        self.items: list[str] = []
        self.seen = 0
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def add(self, token: str) -> None:
        self.seen += 1
        if len(self.items) < self.keep:
            self.items.append(token)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < self.keep:
                self.items[slot] = token

    def fresh(self, count: int) -> list[str]:
        """``count`` sampled tokens not probed before (a probe adds a holder to its token)."""
        picked = [t for t in self.items if t not in self.used][:count]
        self.used.update(picked)
        return picked


def _figures(run: Run, where: str, label: str, count: int) -> dict[str, Figure]:
    """The figures of one size, registered with the results."""
    figs = _blank(where, label, count, run.quick)
    for fig in figs.values():
        run.results.add(fig)
    return figs


def _blank(where: str, label: str, count: int, quick: bool = False) -> dict[str, Figure]:
    what = {
        "domain": "index in-process (domain)",
        "service": "worker (faust, memory store)",
        "rocksdb": "worker (faust, RocksDB store, index preloaded)",
    }[where]
    _, rate = probing(quick)
    at = "" if where == "domain" else f", probes at {rate:.0f}/s"
    figs = {
        "registration": Figure(
            fid(where, label, "registration"),
            GROUP,
            f"Deconfliction {what}: registration, {label} identifiers",
            "identifiers/s",
            baseline=baselines.KAFKA_CONSUME_PRODUCE,
            params={"planned": count},
        ),
        "hit_latency": Figure(
            fid(where, label, "hit_latency"),
            GROUP,
            f"Deconfliction {what}: hit latency with {label} registered{at}",
            "ms",
            baseline=None if where == "domain" else baselines.KAFKA_ROUND_TRIP,
            targets=[HIT_TARGET] if where == "rocksdb" else [],
            params={"planned": count},
        ),
        "memory": Figure(
            fid(where, label, "memory"),
            GROUP,
            f"Deconfliction {what}: "
            + (
                f"worker resident memory with {label} registered"
                if where == "rocksdb"
                else f"memory per identifier, {label} registered"
            ),
            "MiB" if where == "rocksdb" else "bytes/identifier",
            params={"planned": count},
        ),
    }
    if where != "domain":
        figs["restart"] = Figure(
            fid(where, label, "restart"),
            GROUP,
            f"Deconfliction {what}: restart (start → ready) with {label} registered",
            "s",
            params={"planned": count},
        )
    return figs


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


def _later_unavailable(run: Run, where: str, label: str, planned: int, why: str) -> None:
    for later_label, later in sizes(run.quick, where):
        if later > planned:
            for fig in _figures(run, where, later_label, later).values():
                fig.unavailable(f"the {label} step was already capped: {why}")


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
                _later_unavailable(run, "domain", label, planned, why)
                break
    finally:
        table.clear()
        gc.collect()


# ---------------------------------------------------------------------- through the worker


def command(jit: str, actor: Actor, tokens: list[str], ref: str) -> tuple[bytes, bytes, str]:
    """A national system's ``RegisterBlindTokens`` as written to the command topic."""
    env = envelop(
        RegisterBlindTokens(actor=actor, source_ref=ref, tokens=blind(tokens)),
        subject=ref,
        jit=jit,
        originator=actor.team,
        source="/interlock/bench",
        correlation_id=str(uuid.uuid4()),
    )
    return ref.encode(), encode(env), env.correlation_id


def prober(jit: str, actor: Actor, label: str) -> Callable[[str, int], tuple[bytes, bytes, str]]:
    """The k-th probe: ``actor`` registers a token someone else already holds."""

    def make(token: str, k: int) -> tuple[bytes, bytes, str]:
        return command(jit, actor, [token], f"probe-{label}-{k}")

    return make


TOKEN_TYPE = "interlock.deconfliction.token_registered"
STAGES = {
    "decided": "command written → registration decided (command poll, decode, decide)",
    "detected": "registration decided → hit detected (registrations and outcome confirmed, "
    "index poll, entry read, register)",
    "told": "hit detected → hit read by a subscriber (candidate confirmed, entry written, hit "
    "topic poll, admit, hit confirmed, subscriber fetch)",
}
"""The legs of a probe, timed by the events' own timestamps (one machine, one clock)."""


@dataclass
class Probes:
    """What hit probes measured: end-to-end latencies (ms), misses, and each leg's latencies."""

    latencies: list[float]
    missed: int
    stages: dict[str, list[float]]

    def stage_p50(self) -> dict[str, float]:
        return {k: percentiles(v).get("p50", 0.0) for k, v in self.stages.items() if v}


def probe_hits(
    settings: Settings,
    commands: str,
    events: str,
    tokens: list[str],
    make: Callable[[str, int], tuple[bytes, bytes, str]],
    *,
    rate: float,
    wait: float = 10.0,
) -> Probes:
    """Register each token as another team, at ``rate`` per second whatever the answers (open
    loop), and time each until its ``DeconflictionHit`` is read from ``events`` as a subscriber
    reads it; the registration's ``registered_at`` and the hit's ``detected_at`` split the time
    into legs. The first probe warms up (the worker may still be syncing its directory view) and
    is waited for and not counted."""

    from services.kit.kafka import producer_config

    arrived: dict[str, float] = {}
    decided: dict[str, float] = {}
    detected: dict[str, float] = {}
    sent: dict[str, float] = {}
    watching: set[str] = set()
    cond = threading.Condition()

    def stamp(text: Any) -> float | None:
        try:
            return datetime.fromisoformat(str(text)).timestamp()
        except ValueError:
            return None

    def on_record(raw: bytes, received: float) -> None:
        try:
            wire = json.loads(raw)
        except ValueError:
            return
        correlation = wire.get("correlationid")
        if correlation not in watching:
            return
        data = wire.get("data")
        if not isinstance(data, dict):
            data = {}  # sealed data (a JWE string): the envelope's own fields still tell
        with cond:
            if wire.get("type") == TOKEN_TYPE and (at := stamp(data.get("registered_at"))):
                decided.setdefault(correlation, at)
            elif wire.get("type") == HIT_TYPE:
                arrived.setdefault(correlation, received)
                if at := stamp(data.get("detected_at")):
                    detected.setdefault(correlation, at)
                cond.notify_all()

    def until(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with cond:
            while not done() and time.monotonic() < deadline:
                cond.wait(0.2)

    producer = new_producer(producer_config(settings))
    with Tail(settings, events, on_record):
        key, value, warm = make(tokens[0], 0)
        watching.add(warm)
        producer.produce(commands, key=key, value=value)
        producer.flush(10)
        until(lambda: warm in arrived, wait)
        started = time.perf_counter()
        for k, token in enumerate(tokens[1:], 1):
            ahead = (k - 1) / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
            key, value, correlation = make(token, k)
            watching.add(correlation)
            sent[correlation] = time.time()
            producer.produce(commands, key=key, value=value)
            producer.flush(10)
        until(lambda: all(c in arrived for c in sent), wait)
    done = [c for c in sent if c in arrived]
    stages: dict[str, list[float]] = {k: [] for k in STAGES}
    for c in done:
        if c in decided and c in detected:
            stages["decided"].append((decided[c] - sent[c]) * 1000)
            stages["detected"].append((detected[c] - decided[c]) * 1000)
            stages["told"].append((arrived[c] - detected[c]) * 1000)
    return Probes([(arrived[c] - sent[c]) * 1000 for c in done], len(sent) - len(done), stages)


def restart(platform: BenchPlatform, role: str, timeout: float) -> tuple[float, float]:
    """SIGTERM the role, then start a new process: (seconds to exit, seconds start → ready)."""
    began = time.monotonic()
    platform.stop_roles([role])
    stopped = time.monotonic() - began
    began = time.monotonic()
    platform.start(role, timeout=timeout)
    return stopped, time.monotonic() - began


def changelogs(platform: BenchPlatform) -> list[str]:
    """The worker's table changelog topics (faust names them ``<app id>-<table>-changelog``)."""
    from bench.support import admin

    app_id = platform.group("deconfliction")
    topics = admin(platform.settings).list_topics(timeout=10).topics
    return sorted(t for t in topics if t.startswith(f"{app_id}-") and t.endswith("-changelog"))


def _hit_figure(run: Run, hit: Figure, probes: Probes, rate: float, hops: str) -> None:
    hit.stats = percentiles(probes.latencies)
    hit.value = hit.stats.get("p99")
    legs = probes.stage_p50()
    hit.params.update(
        {
            "probes": len(probes.latencies),
            "missed": probes.missed,
            "probes_per_s": rate,
            "legs_p50_ms": {k: round(v, 1) for k, v in legs.items()},
            "legs_p99_ms": {k: percentiles(v).get("p99") for k, v in probes.stages.items() if v},
        }
    )
    hit.notes.append(
        f"{len(probes.latencies)} probes at {rate:.0f}/s (open loop), each a token another team "
        "holds, from the command written to the hit event read"
    )
    if probes.missed:
        hit.notes.append(f"{probes.missed} probe(s) saw no hit within the step cap")
    confirm = run.results.get(baselines.KAFKA_CONFIRM)
    one = confirm.stats.get("p50") if confirm is not None and confirm.status == "ok" else None
    split = ", ".join(f"{STAGES[k].split(' (')[0]} {v:.0f} ms" for k, v in legs.items())
    hit.bound = hops + (f"; p50 of each leg: {split}" if split else "")
    if one:
        hit.bound += f"; one awaited confirmation costs {one:.1f} ms (p50)"
    tails = {k: percentiles(v).get("p99", 0.0) for k, v in probes.stages.items() if v}
    worst = max(tails, key=lambda k: tails[k]) if tails else None
    if worst is not None:
        hit.bound += (
            f"; the p99 comes from single legs that stall: worst {STAGES[worst].split(' (')[0]} "
            f"p99 {tails[worst]:.0f} ms (one Python thread runs all four agents, the commits and "
            "the timers, on a machine whose cores others share)"
        )
    hit.lift = (
        "index and admit in one step (one hop and one confirmation fewer), the worker on cores "
        "of its own (the p50 legs are a few ms each: one poll and one confirmation), and the "
        "index agent in a process of its own so that bulk registrations do not queue probes"
    )


HOPS = (
    "three consumer hops in one worker: handle_command (decide, confirm registrations and "
    "outcome) → index_registration (read the entry, confirm the hit candidate, write) → "
    "admit_hit (confirm the hit, record it)"
)


def service_index(run: Run) -> None:
    """The deconfliction worker (memory store) filled through its command topic, probed for
    hits, then restarted."""
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
    probes, rate = probing(run.quick)

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
                chunk_size = min(planned - registered, run.size(10_000, 50_000))
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
                    key, value, _ = command(jit.id, actor_a, tokens, f"bulk-{registered + i}")
                    batch.append((key, value))
                began = time.perf_counter()
                produce(run.settings, commands, batch)
                caught = offsets.caught_up(
                    group, topics, timeout=max(1.0, deadline - time.monotonic())
                )
                spent += time.perf_counter() - began
                registered += chunk_size
                if not caught:
                    why = "the step's time cap (the worker had not caught up)"
                    break
                if not run.quick:
                    run.progress.say(f"  worker index: {registered:,} identifiers")
        # Memory and hits are measured on an index that holds every token sent, not a backlog.
        if not offsets.caught_up(group, topics, timeout=run.step_cap):
            figs["hit_latency"].notes.append("measured while the worker still had a backlog")
        gc.collect()
        grown = (rss_bytes(pid) or 0) - base_rss
        per_id = grown / registered if registered else 0.0
        reg = figs["registration"]
        step_spent = spent - spent_from
        reg.value = round((registered - step_from) / step_spent, 1) if step_spent else None
        reg.cpu = cpu.result
        reg.notes.append("tokens/s until the worker caught up on its command, index and hit topics")
        if reg.value:
            reg.notes.append(
                f"10,000,000 through Kafka at this rate would take {1e7 / reg.value / 3600:,.1f} h"
            )
        with run.progress.step(f"deconfliction: {probes} hit probes at {rate:.0f}/s"):
            probes_seen = probe_hits(
                run.settings,
                commands,
                run.platform.topic(DECONFLICTION_EVENTS.name),
                sample.fresh(probes + 1),
                prober(jit.id, actor_b, label),
                rate=rate,
                wait=run.step_cap,
            )
        _hit_figure(run, figs["hit_latency"], probes_seen, rate, HOPS)
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
        replay = offsets.end(changelogs(run.platform))
        with run.progress.step("deconfliction: restarting the memory-store worker"):
            stopped, ready = restart(run.platform, "deconfliction", timeout=run.step_cap * 2)
        pid = run.platform.pids()["deconfliction"]
        back = figs["restart"]
        back.value = round(ready, 1)
        back.params.update(
            {"stop_s": round(stopped, 1), "changelog_records": replay, "registered": registered}
        )
        back.notes.append(
            f"SIGTERM → exit {stopped:.1f} s, then a new process until ready: Python and faust "
            f"start, the group join, and the memory store rebuilt from {replay:,} changelog "
            "records (every table entry ever written)"
        )
        run.shared["memory_restart"] = (ready, registered)
        run.progress.say(
            f"  worker {label}: {reg.value} identifiers/s, hit p99 {figs['hit_latency'].value} ms, "
            f"{per_id:,.0f} bytes/identifier, restart {ready:.1f} s"
        )
        if registered < planned:
            _later_unavailable(run, "service", label, planned, why)
            break


# ----------------------------------------------------------------- RocksDB, index preloaded


def rocksdb_index(run: Run) -> None:
    """The worker on a RocksDB store whose index was preloaded to 1M, then 10M, identifiers;
    measured through Kafka at each size: a registration sample, hit probes, memory, restart."""
    planned_sizes = sizes(run.quick, "rocksdb")
    all_figs = {label: _figures(run, "rocksdb", label, n) for label, n in planned_sizes}
    if "deconfliction" not in _wired():
        for figs in all_figs.values():
            for fig in figs.values():
                fig.unavailable(not_wired(["deconfliction"]))
        return
    try:
        import rocksdict  # noqa: F401
    except ImportError:
        for figs in all_figs.values():
            for fig in figs.values():
                fig.unavailable("the RocksDB store needs the rocksdict package (not installed)")
        return
    from services.admin import publish

    # The run's own roles are stopped: this worker has the machine's two cores to itself.
    run.platform.stop_roles(list(run.platform.pids()))
    settings = run.settings
    rocks = BenchPlatform(
        kafka_bootstrap=settings.kafka_bootstrap,
        neo4j=(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        partitions=settings.partitions,
    )
    home = ROOT / ".data" / "bench" / f"rocksdb-{rocks.prefix.strip('.')}"
    tabledir = home / "tables"
    rocks.platform.env.update(
        {"INTERLOCK_DECONFLICTION_STORE": "rocksdb://", "APP_TABLEDIR": str(tabledir)}
    )
    offsets = Offsets(rocks.settings)
    preload: IndexPreload | None = None
    try:
        with run.progress.step(f"deconfliction: topics for the RocksDB worker ({rocks.prefix})"):
            rocks.provision()
        jit = Jit.new(2)
        publish(rocks.settings, jit.directory())
        team_a = jit.teams[0]
        index_partitions = len(offsets.partitions(rocks.topic(DECONFLICTION_INDEX.name)))
        preload = IndexPreload(
            rocks.settings,
            tabledir,
            jit=jit.id,
            team=team_a,
            members=frozenset(jit.teams),
            partitions=index_partitions,
        )
        _rocksdb_steps(run, rocks, offsets, preload, jit, all_figs)
    finally:
        if preload is not None:
            preload.close(compact=False)
        offsets.close()
        with run.progress.step("deconfliction: stopping the RocksDB worker, deleting its data"):
            size = disk_bytes(home) if home.exists() else 0
            rocks.close()
            shutil.rmtree(home, ignore_errors=True)
            run.progress.say(f"  deleted {home} ({size / GIB:.2f} GiB)")


def _rocksdb_steps(
    run: Run,
    rocks: BenchPlatform,
    offsets: Offsets,
    preload: IndexPreload,
    jit: Jit,
    all_figs: dict[str, dict[str, Figure]],
) -> None:
    team_a, team_b = jit.teams
    actor_a = Actor(member="bench", team=team_a, roles=("national_system",))
    actor_b = Actor(member="bench", team=team_b, roles=("national_system",))
    group = rocks.group("deconfliction")
    commands = rocks.topic(DECONFLICTION_COMMANDS.name)
    topics = [
        rocks.topic(t.name)
        for t in (DECONFLICTION_COMMANDS, DECONFLICTION_INDEX, DECONFLICTION_HITS, LEAD_EVENTS)
    ]
    probes, rate = probing(run.quick)
    sample_size = run.size(2_000, 20_000)
    sample = Sample()
    rng = random.Random(13)
    through_kafka = 0
    first_start = True
    for label, planned in sizes(run.quick, "rocksdb"):
        figs = all_figs[label]
        if rocks.running("deconfliction"):
            with run.progress.step("deconfliction: stopping the worker (RocksDB is locked)"):
                rocks.stop_roles(["deconfliction"])
        wanted = planned - preload.written - through_kafka
        deadline = time.monotonic() + run.step_cap * (1 if run.quick else 6)
        before = preload.written, preload.seconds
        with (
            run.progress.step(
                f"deconfliction: preloading {wanted:,} identifiers into the RocksDB index"
            ),
            run.watch() as cpu,
        ):
            added = preload.add(
                wanted,
                keep=sample.add,
                deadline=deadline,
                report=lambda n, r: run.progress.say(f"  preloaded {n:,} identifiers ({r:,.0f}/s)"),
            )
            closing = preload.closing_seconds
            preload.close()
            closing = preload.closing_seconds - closing
        preload_rate = (preload.written - before[0]) / max(preload.seconds - before[1], 1e-9)
        preload_cpu = cpu.result.get("bench (load and clients)")
        total = preload.written + through_kafka
        store = disk_bytes(preload.tabledir)
        why = "" if added >= wanted else "the step's time cap"
        for fig in figs.values():
            fig.params.update(
                {
                    "preloaded": preload.written,
                    "through_kafka_before": through_kafka,
                    "store_disk_bytes": store,
                    "store_dir": str(preload.tabledir.parent.relative_to(ROOT)),
                }
            )
        with run.progress.step(f"deconfliction: starting the RocksDB worker on {total:,}"):
            began = time.monotonic()
            rocks.start("deconfliction", timeout=run.step_cap * 2)
            started_in = time.monotonic() - began
        pid = rocks.pids()["deconfliction"]
        offsets.caught_up(group, topics, timeout=run.step_cap)
        rss_ready = rss_bytes(pid) or 0

        # Registrations through Kafka, on top of the preloaded index.
        batch = []
        for i in range(0, sample_size, TOKENS_PER_COMMAND):
            tokens = [random_token(rng) for _ in range(min(TOKENS_PER_COMMAND, sample_size - i))]
            key, value, _ = command(jit.id, actor_a, tokens, f"kafka-{through_kafka + i}")
            batch.append((key, value))
        reg = figs["registration"]
        with (
            run.progress.step(f"deconfliction: registering {sample_size:,} through Kafka"),
            run.watch(extra={ROCKSDB_ROLE: pid}) as cpu,
        ):
            began = time.perf_counter()
            produce(rocks.settings, commands, batch)
            caught = offsets.caught_up(group, topics, timeout=run.step_cap * 2)
            seconds = time.perf_counter() - began
        through_kafka += sample_size
        reg.value = round(sample_size / seconds, 1)
        reg.cpu = cpu.result
        reg.params.update({"sample": sample_size, "caught_up": caught})
        hours = 1e7 / reg.value / 3600
        reg.notes.append(
            f"**index preloaded**: {preload.written:,} of the {total:,} identifiers held when "
            "the worker started were written straight into its RocksDB store by "
            "bench/preload.py (the worker's own decide_registration → register → state_to_json, "
            "encoded by its table's store, in the partition the index topic gives the token) "
            f"at {preload_rate:,.0f}/s"
            + (f" ({preload_cpu:.0f}% of a core)" if preload_cpu is not None else "")
            + f", because 10,000,000 through Kafka at the {reg.value:,.0f}/s measured here "
            f"would take {hours:.1f} h; the preloaded entries are in no topic (not in the "
            "changelog: a worker elsewhere taking over a partition would not have them)"
        )
        reg.notes.append(
            f"the rate is a sample of {sample_size:,} new tokens registered through Kafka "
            "(RegisterBlindTokens, 5,000 a command) until the worker caught up on its topics"
        )
        if not caught:
            reg.notes.append("the worker had not caught up within the step cap")

        with run.progress.step(f"deconfliction: {probes} hit probes at {rate:.0f}/s"):
            probes_seen = probe_hits(
                rocks.settings,
                commands,
                rocks.topic(DECONFLICTION_EVENTS.name),
                sample.fresh(probes + 1),
                prober(jit.id, actor_b, label),
                rate=rate,
                wait=run.step_cap,
            )
        hit = figs["hit_latency"]
        _hit_figure(run, hit, probes_seen, rate, HOPS + ", each entry read from RocksDB")
        hit.notes.append(f"probed tokens drawn at random from all {preload.written:,} preloaded")
        rss = rss_bytes(pid) or 0
        mem = figs["memory"]
        mem.value = round(rss / MIB, 1)
        registered = total + sample_size
        mem.params.update(
            {
                "rss_at_ready_mib": round(rss_ready / MIB, 1),
                "registered": registered,
                "store_disk_bytes_per_identifier": round(store / max(total, 1), 1),
            }
        )
        mem.notes.append(
            f"resident memory after the registrations and probes ({rss_ready / MIB:,.0f} MiB "
            f"when ready); the index is on disk: {store / GIB:,.2f} GiB of RocksDB files for "
            f"{total:,} identifiers ({store / max(total, 1):,.0f} bytes each), read through "
            "RocksDB's block cache and bloom filters, so memory does not grow with the index"
        )
        replay = offsets.end(changelogs(rocks))
        with run.progress.step("deconfliction: restarting the RocksDB worker"):
            stopped, ready = restart(rocks, "deconfliction", timeout=run.step_cap * 2)
        back = figs["restart"]
        back.value = round(ready, 1)
        back.params.update(
            {
                "stop_s": round(stopped, 1),
                "start_after_preload_s": round(started_in, 1),
                "first_start": first_start,
                "changelog_records": replay,
                "registered": registered,
            }
        )
        back.notes.append(
            f"SIGTERM → exit {stopped:.1f} s, then a new process until ready; the store is "
            "opened, not rebuilt: faust replays only the changelog records after the offset "
            f"RocksDB persisted ({replay:,} changelog records in all); the start right after "
            f"the preload took {started_in:.1f} s"
        )
        memory = run.shared.get("memory_restart")
        if memory and memory[1]:
            back.notes.append(
                f"the memory-store worker took {memory[0]:.1f} s with {memory[1]:,} (it "
                f"replays its whole changelog): about {memory[0] * registered / memory[1]:,.0f} s "
                f"at {registered:,} if the replay rate held"
            )
        first_start = False
        for fig in (hit, mem, back):
            fig.notes.insert(
                0,
                f"index preloaded ({preload.written:,} of {total:,}; see the registration row)",
            )
        if preload.closing_seconds:
            reg.params["preload_flush_compact_s"] = round(closing, 1)
        run.progress.say(
            f"  RocksDB worker {label}: {reg.value:,} identifiers/s, hit p99 {hit.value} ms, "
            f"RSS {mem.value:,} MiB, store {store / GIB:.2f} GiB, restart {ready:.1f} s"
        )
        if why:
            for fig in figs.values():
                fig.notes.append(f"preload stopped at {total:,} identifiers ({why})")
            for later_label, later in sizes(run.quick, "rocksdb"):
                if later > planned:
                    for fig in all_figs[later_label].values():
                        fig.unavailable(f"the {label} preload was already capped: {why}")
            break


def _wired() -> set[str]:
    from bench.support import wired_roles

    return wired_roles()


def run_group(run: Run) -> None:
    for where, measure in (
        ("domain", domain_index),
        ("service", service_index),
        ("rocksdb", rocksdb_index),
    ):
        try:
            measure(run)
        except Exception as exc:  # noqa: BLE001 - reported on the figures, the run goes on
            reason = f"{type(exc).__name__}: {exc}"[:500]
            run.progress.say(f"  ! deconfliction {where}: {reason}")
            for label, planned in sizes(run.quick, where):
                for metric in metrics(where):
                    fig = run.results.get(fid(where, label, metric))
                    if fig is None:
                        fig = run.results.add(_blank(where, label, planned, run.quick)[metric])
                    if fig.value is None and fig.status == "ok":
                        fig.failed(reason)
