"""What every benchmark group shares: figures and results, the progress display, percentiles,
per-process CPU and memory from ``/proc``, Kafka bookkeeping, and the platform's process roles.

Absolute numbers on a shared 2-core machine drift, so every figure names the raw baseline it is
compared with (measured in the same run) and the CPU each process used while it was measured:
that is what says where a figure is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from services.kit.kafka import admin_client, consumer_for, new_producer
from services.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

Status = Literal["ok", "unavailable", "error"]


# ----------------------------------------------------------------------------------- progress


class Progress:
    """One line per step with the time since the run started; plain text, no terminal tricks."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        print(f"[{self.elapsed:7.1f}s] {text}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        began = time.monotonic()
        self.say(f"{text} …")
        try:
            yield
        finally:
            self.say(f"{text}: {time.monotonic() - began:.1f}s")


# ------------------------------------------------------------------------------------ figures


@dataclass(frozen=True)
class Target:
    """A goal a figure is reported against (never asserted). ``on`` picks the number compared:
    the figure's value or its ratio to the baseline."""

    text: str
    on: Literal["value", "ratio"]
    at_least: float | None = None
    at_most: float | None = None

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        number = value if self.on == "value" else ratio
        if number is None:
            return None
        if self.at_least is not None and number < self.at_least:
            return False
        return not (self.at_most is not None and number > self.at_most)


@dataclass
class Figure:
    """One measured number (a rate, or a latency's p99) with its baseline, targets and context."""

    id: str
    group: str
    title: str
    unit: str
    value: float | None = None
    stats: dict[str, float] = field(default_factory=dict)
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    targets: list[Target] = field(default_factory=list)
    met: bool | None = None
    status: Status = "ok"
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    """Per process: percent of one core used while this figure was measured."""
    bound: str | None = None
    """What bounds the figure, from what this run measured; told when a target is missed."""
    lift: str | None = None
    """What would lift the figure; told when a target is missed."""

    def unavailable(self, reason: str) -> Figure:
        self.status, self.reason, self.value = "unavailable", reason, None
        return self

    def failed(self, reason: str) -> Figure:
        self.status, self.reason, self.value = "error", reason, None
        return self

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = [asdict(t) for t in self.targets]
        return data


class Results:
    """The run's figures, in the order they were measured; ratios are filled in at the end."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}

    def add(self, figure: Figure) -> Figure:
        self.figures[figure.id] = figure
        return figure

    def get(self, figure_id: str) -> Figure | None:
        return self.figures.get(figure_id)

    def value(self, figure_id: str) -> float | None:
        found = self.figures.get(figure_id)
        return found.value if found is not None and found.status == "ok" else None

    def settle(self) -> None:
        """Ratios to the baselines and whether each target is met."""
        for fig in self.figures.values():
            if fig.status == "ok" and fig.value is None:
                fig.failed("no value was measured")
        for fig in self.figures.values():
            base = self.value(fig.baseline) if fig.baseline else None
            fig.baseline_value = base
            if fig.value is not None and base:
                fig.ratio = float(f"{fig.value / base:.4g}")
            verdicts = [t.met(fig.value, fig.ratio) for t in fig.targets]
            fig.met = None if not verdicts or None in verdicts else all(verdicts)
            if fig.status != "ok":
                continue
            bound = bound_note(fig.cpu)
            if fig.met is False:
                found = [b for b in (fig.bound, bound) if b] or [
                    "no process used a full core: waiting (round trips, acknowledgements, "
                    "commit intervals), not CPU"
                ]
                fig.notes.append("**bound by**: " + "; ".join(found))
                if fig.lift:
                    fig.notes.append("**lift by**: " + fig.lift.removeprefix("lift: "))
            elif bound:
                fig.notes.append(bound)


def guarded(
    results: Results,
    progress: Progress,
    figure: Figure,
    measure: Callable[[Figure], Any],
) -> Figure:
    """Run one measurement; an exception becomes an ``error`` figure with the reason, so one
    broken step never loses the rest of the run."""
    results.add(figure)
    try:
        outcome = measure(figure)
        if asyncio.iscoroutine(outcome):
            asyncio.run(outcome)
    except Exception as exc:  # noqa: BLE001 - any failure of a step is reported, the run goes on
        figure.failed(f"{type(exc).__name__}: {exc}"[:500])
        progress.say(f"  ! {figure.id}: {figure.reason}")
    return figure


def percentiles(samples: Sequence[float], points: Iterable[int] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles (and the count) of ``samples``."""
    ordered = sorted(samples)
    out: dict[str, float] = {"n": float(len(ordered))}
    if not ordered:
        return out
    for p in points:
        rank = max(1, -(-p * len(ordered) // 100))
        out[f"p{p}"] = round(ordered[rank - 1], 3)
    out["max"] = round(ordered[-1], 3)
    return out


# ------------------------------------------------------------------------------ the machine


def machine() -> dict[str, Any]:
    """Cores, memory and CPU model, and how busy the machine is (others share it)."""
    info: dict[str, Any] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("MemTotal", "MemAvailable"):
                key = "memory_gib" if name == "MemTotal" else "memory_available_gib"
                info[key] = round(int(rest.split()[0]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.partition(":")[2].strip()
                break
    with contextlib.suppress(OSError):
        info["load_average"] = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    return info


def available_memory_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process, from ``/proc``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _machine_ticks() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


class CpuWatch:
    """CPU used by named processes (percent of one core) and by the whole machine over a span."""

    def __init__(self, processes: Mapping[str, int]) -> None:
        self.processes = dict(processes)
        self._start: dict[str, float] = {}
        self._wall = 0.0
        self._machine = (0, 0)

    def __enter__(self) -> CpuWatch:
        self._wall = time.monotonic()
        self._machine = _machine_ticks()
        for name, pid in self.processes.items():
            used = cpu_seconds(pid)
            if used is not None:
                self._start[name] = used
        return self

    def __exit__(self, *_: object) -> None:
        self.result = self.read()

    def read(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._wall, 1e-6)
        out: dict[str, float] = {}
        for name, before in self._start.items():
            now = cpu_seconds(self.processes[name])
            if now is not None:
                out[name] = round(100 * (now - before) / wall, 1)
        busy, total = _machine_ticks()
        if total > self._machine[1]:
            share = (busy - self._machine[0]) / (total - self._machine[1])
            out["machine (all processes)"] = round(100 * share * (os.cpu_count() or 1), 1)
        return out


def bound_note(cpu: Mapping[str, float]) -> str | None:
    """What a CPU sample says bounds a figure: one process at a full core, or the machine."""
    if not cpu:
        return None
    cores = os.cpu_count() or 1
    whole = cpu.get("machine (all processes)")
    ours = {k: v for k, v in cpu.items() if k != "machine (all processes)"}
    top = max(ours.items(), key=lambda kv: kv[1]) if ours else None
    parts = []
    if top is not None and top[1] >= 85:
        parts.append(f"{top[0]} at {top[1]:.0f}% of one core (a Python process uses one core)")
    if whole is not None and whole >= 85 * cores:
        others = whole - sum(ours.values())
        parts.append(
            f"the machine's {cores} cores were {whole / cores:.0f}% busy"
            + (f" ({others:.0f}% of a core by processes outside this run)" if others > 20 else "")
        )
    return "bounded by CPU: " + "; ".join(parts) if parts else None


def service_time(
    rate: float | None,
    cpu: Mapping[str, float],
    role: str,
    unit: str,
    *,
    confirms: str,
    confirm: Figure | None,
) -> str | None:
    """Where one record's time goes in a faust worker, from this run's measurements: the rate
    gives the time per record, the role's CPU share the part spent computing, the rest is
    waiting; ``confirm`` (the raw confirmation baseline) says what one awaited broker
    confirmation costs."""
    used = cpu.get(f"role {role}")
    if not rate or used is None:
        return None
    per = 1000 / rate
    busy = per * used / 100
    text = (
        f"one {unit} every {per:.1f} ms in the {role} worker: {busy:.1f} ms of its CPU "
        f"({used:.0f}% of a core) and {per - busy:.1f} ms waiting; {confirms}"
    )
    if confirm is not None and confirm.status == "ok" and "p50" in confirm.stats:
        text += (
            f"; one awaited acks=all confirmation costs {confirm.stats['p50']:.1f} ms (p50, "
            f"{confirm.stats['p99']:.1f} ms p99) with the services' producer settings"
        )
    return text


def worker_lift(rate: float | None, cpu: Mapping[str, float], role: str, unit: str) -> str:
    """The lift for a worker that already confirms per batch: its CPU, then more processes."""
    used = cpu.get(f"role {role}")
    text = "more partitions and one worker process per core (each faust worker is one Python "
    text += "thread)"
    if rate and used:
        busy = 1000 / rate * used / 100
        text = (
            f"the worker's own CPU allows ≈{1000 / busy:,.0f} {unit}/s ({busy:.1f} ms each); "
            + text
        )
    return text


def listener_pid(port: int) -> int | None:
    """The process listening on a loopback TCP port (Kafka's or Neo4j's), found via ``/proc``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return int(proc.name)
    return None


# ------------------------------------------------------------------------------------- Kafka


def admin(settings: Settings) -> AdminClient:
    return admin_client(settings, {"log_level": 4})


def create_topics(settings: Settings, names: Sequence[str], partitions: int) -> None:
    client = admin(settings)  # kept referenced until every future is settled
    futures = client.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=-1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=30)


def delete_topics_with_prefix(settings: Settings, prefix: str) -> int:
    """Delete this run's topics and consumer groups (the prefix is unique to the run)."""
    client = admin(settings)
    names = [t for t in client.list_topics(timeout=15).topics if t.startswith(prefix)]
    if names:
        for future in client.delete_topics(names, operation_timeout=30).values():
            with contextlib.suppress(KafkaException):
                future.result(timeout=60)
    with contextlib.suppress(Exception):  # groups are bookkeeping; best effort
        listed = client.list_consumer_groups().result(timeout=15)
        groups = [g.group_id for g in listed.valid if g.group_id.startswith(prefix)]
        if groups:
            for future in client.delete_consumer_groups(groups).values():
                with contextlib.suppress(KafkaException):
                    future.result(timeout=30)
    return len(names)


class Offsets:
    """End offsets of topics and committed offsets of consumer groups, summed over partitions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.admin = admin(settings)
        self.consumer = consumer_for(
            settings,
            {
                "group.id": f"{settings.topic_prefix}bench-offsets-{uuid.uuid4().hex[:6]}",
                "enable.auto.commit": False,
            },
        )
        self._partitions: dict[str, list[int]] = {}

    def partitions(self, topic: str) -> list[int]:
        if topic not in self._partitions:
            meta = self.consumer.list_topics(topic, timeout=10).topics.get(topic)
            self._partitions[topic] = sorted(meta.partitions) if meta and meta.partitions else []
        return self._partitions[topic]

    def end(self, topics: Iterable[str]) -> int:
        total = 0
        for topic in topics:
            for p in self.partitions(topic):
                total += self.consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=10, cached=False
                )[1]
        return total

    def committed(self, group: str, topics: Iterable[str]) -> int:
        from confluent_kafka import ConsumerGroupTopicPartitions

        wanted = [TopicPartition(t, p) for t in topics for p in self.partitions(t)]
        request = [ConsumerGroupTopicPartitions(group, wanted)]
        found = self.admin.list_consumer_group_offsets(request)[group].result(timeout=10)
        return sum(max(tp.offset, 0) for tp in found.topic_partitions)

    def group_topics(self, group: str) -> set[str]:
        """The topics a group has committed offsets on so far."""
        from confluent_kafka import ConsumerGroupTopicPartitions

        request = [ConsumerGroupTopicPartitions(group)]
        found = self.admin.list_consumer_group_offsets(request)[group].result(timeout=10)
        return {tp.topic for tp in found.topic_partitions if tp.offset >= 0}

    def behind(self, group: str, topics: Iterable[str]) -> int:
        """Records on ``topics`` (and on any other topic the group reads) not yet committed."""
        every = {*topics, *self.group_topics(group)}
        return self.end(every) - self.committed(group, every)

    def caught_up(self, group: str, topics: Iterable[str], *, timeout: float) -> bool:
        """Wait (bounded) until the group has committed everything on its topics."""
        deadline = time.monotonic() + timeout
        wanted = list(topics)
        while time.monotonic() < deadline:
            if self.behind(group, wanted) <= 0:
                return True
            time.sleep(0.3)
        return False

    def close(self) -> None:
        self.consumer.close()


@dataclass
class Drain:
    """How fast a consumer group worked through a backlog."""

    records: int
    seconds: float
    complete: bool

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def watch_drain(
    offsets: Offsets,
    group: str,
    topics: Sequence[str],
    *,
    target: int,
    timeout: float,
    interval: float = 0.2,
) -> Drain:
    """Sample a group's committed offsets until they reach ``target``; the rate is taken from
    the first sample that shows progress to the last, so start-up time is not counted."""
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    start_value = offsets.committed(group, topics)
    last = (time.monotonic(), start_value)
    while time.monotonic() < deadline:
        now, value = time.monotonic(), offsets.committed(group, topics)
        if first is None and value > start_value:
            first = last  # the sample before the first progress: work began after it
        last = (now, value)
        if value >= target:
            break
        time.sleep(interval)
    if first is None:
        if start_value >= target:
            raise RuntimeError(
                f"{group} had consumed the whole backlog before the first sample: "
                "make the backlog larger"
            )
        raise RuntimeError(f"{group} made no progress within {timeout:.0f}s")
    return Drain(last[1] - first[1], last[0] - first[0], last[1] >= target)


# ---------------------------------------------------------------------------------- platform


def wired_roles() -> set[str]:
    """The process roles that exist now: those of ``services/roles.py``."""
    from services.roles import process_roles

    return set(process_roles())


def gateway_paths(settings: Settings) -> set[str]:
    """The gateway's documented paths (the app is built, not started): which routers it has."""
    from services.gateway.app import create_app

    return set(create_app(settings).openapi()["paths"])


class BenchPlatform:
    """The platform's process roles for one run, started like ``tests/support/platform.py``
    starts them: a unique topic prefix, ``start(role)``, ``wait_ready``."""

    def __init__(self, *, kafka_bootstrap: str, neo4j: tuple[str, str, str], partitions: int):
        from tests.support.platform import Platform, platform_env

        self.run_dir = Path(tempfile.mkdtemp(prefix="interlock-benchrun-"))
        env = platform_env(kafka_bootstrap, neo4j, self.run_dir)
        env["INTERLOCK_TOPIC_PREFIX"] = f"benchrun-{uuid.uuid4().hex[:8]}."
        env["INTERLOCK_PARTITIONS"] = str(partitions)
        env["INTERLOCK_LOG_LEVEL"] = "warning"
        env["INTERLOCK_COMMAND_TIMEOUT_SECONDS"] = "30"
        self.platform = Platform(env=env, run_dir=self.run_dir)
        self.settings = self.platform.settings
        self.prefix = self.settings.topic_prefix

    @property
    def base_url(self) -> str:
        return self.platform.base_url

    def group(self, role: str) -> str:
        """The consumer group of a faust role (its app id, see ``services.kit.streams``)."""
        return f"{self.prefix}interlock-{role}"

    def topic(self, logical: str) -> str:
        return self.settings.topic(logical)

    def provision(self) -> None:
        from services.provisioning import provision_all

        with contextlib.redirect_stdout(sys.stderr):
            provision_all(self.settings)

    def start(self, *roles: str, timeout: float = 180) -> None:
        for role in roles:
            self.platform.start(role)
        self.platform.wait_ready(roles, timeout=timeout)

    def stop(self, role: str) -> None:
        self.platform.stop(role)

    def running(self, role: str) -> bool:
        proc = self.platform.processes.get(role)
        return proc is not None and proc.poll() is None

    def pids(self) -> dict[str, int]:
        return {r: p.pid for r, p in self.platform.processes.items() if p.poll() is None}

    def tail(self, role: str) -> str:
        return self.platform.tail(role, 15)

    def stop_roles(self, roles: Iterable[str]) -> None:
        """Stop roles all at once (each takes seconds to leave its consumer group)."""
        stopping = [(r, self.platform.processes[r]) for r in roles if r in self.platform.processes]
        for _, proc in stopping:
            if proc.poll() is None:
                proc.terminate()
        for role, proc in stopping:
            try:
                proc.wait(timeout=30)
            except Exception:  # noqa: BLE001 - a process that will not stop is killed
                proc.kill()
                proc.wait(timeout=10)
            self.platform.processes.pop(role, None)

    def close(self) -> None:
        """Stop every role, then delete the run's topics, consumer groups and faust data."""
        self.stop_roles(list(self.platform.processes))
        with contextlib.suppress(Exception):
            delete_topics_with_prefix(self.settings, self.prefix)
        for path in (ROOT / ".data" / "faust").glob(f"{self.prefix}*"):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)


class Tail:
    """A thread that reads a topic from its end and hands each record (value, receipt time) to a
    callback: how the benchmarks see events as a subscriber would."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        on_record: Callable[[bytes, float], None],
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.on_record = on_record
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"tail-{topic}")

    def __enter__(self) -> Tail:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError(f"could not start reading {self.topic}")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        consumer = consumer_for(
            self.settings,
            {
                "group.id": f"{self.settings.topic_prefix}bench-tail-{uuid.uuid4().hex[:6]}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 5,
            },
        )
        try:
            meta = consumer.list_topics(self.topic, timeout=10).topics[self.topic]
            ends = [
                TopicPartition(
                    self.topic, p, consumer.get_watermark_offsets(TopicPartition(self.topic, p))[1]
                )
                for p in meta.partitions
            ]
            consumer.assign(ends)
            self._ready.set()
            while not self._stop.is_set():
                # poll() returns at the first record; consume(n, timeout) would wait the whole
                # timeout for n records and add up to that much to every latency measured.
                first = consumer.poll(0.1)
                if first is None:
                    continue
                for msg in [first, *consumer.consume(num_messages=500, timeout=0)]:
                    value = msg.value()
                    if msg.error() is None and value is not None:
                        self.on_record(value, time.time())
        finally:
            consumer.close()


# --------------------------------------------------------------------------------- producing


def produce(
    settings: Settings,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes]],
    *,
    rate: float | None = None,
    stop: threading.Event | None = None,
) -> tuple[int, float]:
    """Write records as the platform's producers do (idempotent, acks=all); at ``rate`` records
    per second when given, else as fast as the broker takes them. Returns (sent, seconds)."""

    from services.kit.kafka import producer_config

    producer = new_producer(producer_config(settings))
    failed: list[str] = []

    def done(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(str(err))

    started = time.perf_counter()
    sent = 0
    for key, value in records:
        if stop is not None and stop.is_set():
            break
        if rate:
            ahead = sent / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=done)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        sent += 1
    if producer.flush(60) or failed:
        raise RuntimeError(f"records not delivered: {failed[:3]}")
    return sent, time.perf_counter() - started


# --------------------------------------------------------------------------------- HTTP load


@dataclass
class HttpLoad:
    """What a closed-loop HTTP load produced: successes, failures, latencies (ms)."""

    ok: int
    failed: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


async def http_load(
    base_url: str,
    send: Callable[[Any, int], Any],
    *,
    concurrency: int,
    seconds: float,
    ok_statuses: frozenset[int] = frozenset({200, 201}),
    max_requests: int | None = None,
) -> HttpLoad:
    """``concurrency`` workers send requests back to back for ``seconds`` (bounded: stops at
    ``max_requests`` too). ``send(client, n)`` makes the n-th request and returns the response."""
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(max_requests if max_requests is not None else 10**9))
    ok = failed = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal ok, failed
            while time.perf_counter() < deadline:
                n = next(counter, None)
                if n is None:
                    return
                began = time.perf_counter()
                try:
                    response = await send(client, n)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                statuses[status] = statuses.get(status, 0) + 1
                if status in ok_statuses:
                    ok += 1
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return HttpLoad(ok, failed, elapsed, latencies, statuses)


def wait_http(url: str, *, timeout: float = 60, proc: Any = None) -> None:
    """Poll ``url`` until it answers 200 (or the process behind it exits)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def scaled(quick: bool, quick_value: Any, full_value: Any) -> Any:
    """The quick run's size or the full run's."""
    return quick_value if quick else full_value


# ------------------------------------------------------------------------------------ the run


@dataclass
class Run:
    """Everything a benchmark group needs: sizes, the results, the platform, the infra's pids."""

    quick: bool
    results: Results
    progress: Progress
    platform: BenchPlatform
    infra_pids: dict[str, int] = field(default_factory=dict)
    step_cap: float = 60.0
    """Most seconds any one measurement may take (bounded loops only)."""
    shared: dict[str, Any] = field(default_factory=dict)
    """What one group leaves for the next (the JIT, the roles started)."""

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    def size(self, quick_value: Any, full_value: Any) -> Any:
        return scaled(self.quick, quick_value, full_value)

    def watch(self, *roles: str, extra: Mapping[str, int] | None = None) -> CpuWatch:
        """CPU of the named platform roles, this process, Kafka and Neo4j."""
        pids = {f"role {r}": p for r, p in self.platform.pids().items() if r in roles}
        pids["bench (load and clients)"] = os.getpid()
        pids.update(self.infra_pids)
        pids.update(extra or {})
        return CpuWatch(pids)

    def measure(self, figure: Figure, measure: Callable[[Figure], Any]) -> Figure:
        return guarded(self.results, self.progress, figure, measure)

    def ensure(self, *roles: str) -> list[str]:
        """Start the roles that are wired but not running; returns the roles not wired."""
        wired = wired_roles()
        missing = [r for r in roles if r not in wired]
        wanted = [r for r in roles if r in wired and not self.platform.running(r)]
        if wanted:
            with self.progress.step(f"starting {', '.join(wanted)}"):
                self.platform.start(*wanted)
        return missing

    def close(self) -> None:
        """Stop the roles, delete what the projection wrote for the run's JITs (and its
        checkpoints), then the run's topics, groups and files."""
        self.platform.stop_roles(list(self.platform.pids()))
        jits = self.shared.get("jits", [])
        try:
            asyncio.run(self._clear_graph(jits))
        finally:
            if "offsets" in self.shared:
                self.shared.pop("offsets").close()
            self.platform.close()

    async def _clear_graph(self, jits: Sequence[Any]) -> None:
        from services.kit.graphdb import async_driver

        driver = async_driver(self.settings)
        try:
            await delete_graph(
                driver,
                jits=[j.id for j in jits],
                teams=[t for j in jits for t in j.teams],
                checkpoint_group=self.platform.group("projection"),
            )
        finally:
            await driver.close()

    def offsets(self) -> Offsets:
        if "offsets" not in self.shared:
            self.shared["offsets"] = Offsets(self.settings)
        found: Offsets = self.shared["offsets"]
        return found


def not_wired(roles: Sequence[str]) -> str:
    return (
        f"the {', '.join(roles)} role{'s are' if len(roles) > 1 else ' is'} not wired yet "
        f"(not in services/roles.py)"
    )


async def delete_graph(
    driver: Any, *, jits: Sequence[str], teams: Sequence[str], checkpoint_group: str
) -> int:
    """Delete the nodes of some JITs and teams, relationships first, in small transactions: a
    run can leave hundreds of thousands of registrations on one JIT, and one DETACH DELETE of a
    node that dense exceeds Neo4j's transaction memory."""
    from services.projection.canonical import Scope
    from services.projection.graph import UNIQUE_IDS

    scope = Scope(jits=frozenset(jits), teams=frozenset(teams))
    params = {**scope.params(), "group": checkpoint_group}
    where = scope.cypher("n")
    deleted = 0
    async with driver.session() as session:
        for label in UNIQUE_IDS:
            match = (
                "MATCH (n:ProjectionCheckpoint) WHERE n.group = $group"
                if label == "ProjectionCheckpoint"
                else f"MATCH (n:{label}) WHERE {where}"
            )
            for pattern in ("(n)-[r]->()", "(n)<-[r]-()"):
                await (
                    await session.run(
                        f"{match} MATCH {pattern} "
                        "CALL (r) { DELETE r } IN TRANSACTIONS OF 5000 ROWS",
                        params,
                    )
                ).consume()
            result = await session.run(
                f"{match} CALL (n) {{ DELETE n }} IN TRANSACTIONS OF 5000 ROWS "
                "RETURN count(*) AS deleted",
                params,
            )
            record = await result.single()
            deleted += int(record["deleted"]) if record else 0
    return deleted
