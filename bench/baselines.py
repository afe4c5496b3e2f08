"""Raw baselines, measured in the same run as the platform: what Kafka, Neo4j and FastAPI do
with no Interlock code in the way. Every platform figure is given as a ratio to one of these.

- Kafka produce → consume of 1 KB records (acks=all, idempotent producer; the consumer stores
  each offset only after handling the record), events/s;
- a raw consume → produce loop (an offset is stored only once its output is acknowledged),
  events/s: the ceiling for any service that reads a topic and writes one;
- one record's produce → consume round trip, ms: the floor for any latency through Kafka;
- one awaited acks=all send confirmation with the services' producer (the kit's confluent-kafka
  ``Publisher``, linger 2 ms, as workers send their events), ms, and per record when 100 are
  awaited together: what a worker that confirms its outputs before writing its state waits;
- Neo4j ``UNWIND … MERGE`` of nodes with 5 properties and one relationship each, in managed
  write transactions of 100, 1,000 and 5,000 rows, nodes/s;
- a trivial FastAPI JSON endpoint under uvicorn (its own process) with the same HTTP client and
  concurrency the gateway is loaded with, requests/s.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer
from fastapi import FastAPI

from bench.support import (
    ROOT,
    Figure,
    Run,
    create_topics,
    http_load,
    percentiles,
    wait_http,
)
from services.kit.graphdb import async_driver
from services.kit.kafka import consumer_for, producer_for
from services.kit.settings import Settings

GROUP = "baselines"
RECORD_BYTES = 1024
BATCH_SIZES = (100, 1_000, 5_000)
HTTP_CONCURRENCY = 16

KAFKA_PRODUCE_CONSUME = "raw.kafka.produce_consume"
KAFKA_CONSUME_PRODUCE = "raw.kafka.consume_produce"
KAFKA_ROUND_TRIP = "raw.kafka.round_trip"
KAFKA_CONFIRM = "raw.kafka.confirm"
CONFIRM_BATCH = 100
FASTAPI = "raw.fastapi"


def unwind_id(batch: int) -> str:
    return f"raw.neo4j.unwind_merge.b{batch}"


def figure_ids(quick: bool) -> list[str]:
    return [
        KAFKA_PRODUCE_CONSUME,
        KAFKA_CONSUME_PRODUCE,
        KAFKA_ROUND_TRIP,
        KAFKA_CONFIRM,
        *(unwind_id(b) for b in BATCH_SIZES),
        FASTAPI,
    ]


def _producer(settings: Settings) -> Producer:
    return producer_for(
        settings,
        {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        },
    )


def _consumer(settings: Settings, **extra: Any) -> Consumer:
    return consumer_for(
        settings,
        {
            "group.id": f"{settings.topic_prefix}bench-raw-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 500,
            "enable.auto.offset.store": False,
            **extra,
        },
    )


def _assigned(consumer: Consumer, topic: str, timeout: float = 30) -> None:
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no partitions of {topic} assigned within {timeout}s")
        consumer.poll(0.1)


def _payload(i: int) -> bytes:
    head = f"{i:012d}".encode()
    return head + b"x" * (RECORD_BYTES - len(head))


def _fill(settings: Settings, topic: str, count: int) -> None:
    producer = _producer(settings)
    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=str(i % 97).encode(), value=_payload(i))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("prefill not delivered")


def produce_consume(run: Run, fig: Figure) -> None:
    count = run.size(20_000, 200_000)
    topic = run.platform.topic("bench.raw.produce-consume")
    create_topics(run.settings, [topic], run.settings.partitions)
    consumer = _consumer(run.settings)
    _assigned(consumer, topic)
    received = 0
    with run.watch() as cpu:
        started = time.perf_counter()
        filler = threading.Thread(target=_fill, args=(run.settings, topic, count), daemon=True)
        filler.start()
        deadline = time.monotonic() + run.step_cap
        while received < count and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=0.2):
                if msg.error() is None and len(msg.value() or b"") == RECORD_BYTES:
                    received += 1
                    consumer.store_offsets(message=msg)
        elapsed = time.perf_counter() - started
        filler.join(timeout=30)
    consumer.close()
    fig.value = round(received / elapsed, 1)
    fig.cpu = cpu.result
    fig.params = {"records": count, "received": received, "record_bytes": RECORD_BYTES}
    if received < count:
        fig.notes.append(f"stopped at the step cap of {run.step_cap:.0f}s")


def consume_produce(run: Run, fig: Figure) -> None:
    count = run.size(20_000, 200_000)
    source = run.platform.topic("bench.raw.loop-in")
    sink = run.platform.topic("bench.raw.loop-out")
    create_topics(run.settings, [source, sink], run.settings.partitions)
    _fill(run.settings, source, count)
    consumer = _consumer(run.settings)
    producer = _producer(run.settings)
    _assigned(consumer, source)
    delivered = 0

    def done(err: Any, _msg: Any, cause: Any) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1
            consumer.store_offsets(message=cause)

    consumed = 0
    started: float | None = None
    with run.watch() as cpu:
        deadline = time.monotonic() + run.step_cap
        while consumed < count and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=500, timeout=0.2)
            if batch and started is None:
                started = time.perf_counter()
            for msg in batch:
                if msg.error() is not None:
                    continue
                consumed += 1
                while True:
                    try:
                        producer.produce(
                            sink,
                            key=msg.key(),
                            value=msg.value(),
                            on_delivery=functools.partial(_delivered, done, msg),
                        )
                        break
                    except BufferError:
                        producer.poll(0.05)
                producer.poll(0)
        producer.flush(30)
        producer.poll(0)
        elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    fig.value = round(delivered / elapsed, 1) if elapsed > 0 else None
    fig.cpu = cpu.result
    fig.params = {"records": count, "delivered": delivered, "record_bytes": RECORD_BYTES}


def _delivered(done: Any, cause: Any, err: Any, msg: Any) -> None:
    done(err, msg, cause)


def round_trip(run: Run, fig: Figure) -> None:
    samples = run.size(100, 500)
    topic = run.platform.topic("bench.raw.round-trip")
    create_topics(run.settings, [topic], 1)
    consumer = _consumer(run.settings, **{"fetch.wait.max.ms": 5})
    _assigned(consumer, topic)
    producer = producer_for(
        run.settings,
        {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 0,
        },
    )
    latencies: list[float] = []
    deadline = time.monotonic() + run.step_cap
    with run.watch() as cpu:
        for i in range(samples):
            if time.monotonic() > deadline:
                break
            sent = time.perf_counter()
            producer.produce(topic, value=_payload(i))
            producer.poll(0)
            got = None
            while got is None and time.monotonic() < deadline:
                msg = consumer.poll(0.05)
                producer.poll(0)
                if msg is not None and msg.error() is None and msg.value() == _payload(i):
                    got = time.perf_counter()
                    consumer.store_offsets(message=msg)
            if got is not None:
                latencies.append((got - sent) * 1000)
            time.sleep(0.005)
    producer.flush(10)
    consumer.close()
    fig.stats = percentiles(latencies)
    fig.value = fig.stats.get("p99")
    fig.cpu = cpu.result
    fig.params = {"samples": len(latencies), "record_bytes": RECORD_BYTES}


def confirm(run: Run, fig: Figure) -> None:
    """Awaited sends as a worker makes them (the kit's confluent-kafka producer: acks=all,
    idempotent, linger 2 ms, one confirmation per batch): one at a time, then
    ``CONFIRM_BATCH`` at a time."""
    import asyncio

    from services.kit.kafka import Publisher

    samples = run.size(100, 500)
    batches = run.size(5, 20)
    topic = run.platform.topic("bench.raw.confirm")
    create_topics(run.settings, [topic], 1)

    async def measure() -> tuple[list[float], float]:
        publisher = Publisher(run.settings)
        try:
            for i in range(10):
                await publisher.send_records([(topic, None, _payload(i), None)])
            latencies = []
            deadline = time.monotonic() + run.step_cap
            for i in range(samples):
                if time.monotonic() > deadline:
                    break
                began = time.perf_counter()
                await publisher.send_records([(topic, None, _payload(i), None)])
                latencies.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            for _ in range(batches):
                await publisher.send_records(
                    [(topic, None, _payload(i), None) for i in range(CONFIRM_BATCH)]
                )
            batched = (time.perf_counter() - began) * 1000 / (batches * CONFIRM_BATCH)
            return latencies, batched
        finally:
            await asyncio.to_thread(publisher.close)

    with run.watch() as cpu:
        latencies, batched = asyncio.run(measure())
    fig.stats = percentiles(latencies)
    fig.value = fig.stats.get("p99")
    fig.cpu = cpu.result
    fig.params = {
        "samples": len(latencies),
        "record_bytes": RECORD_BYTES,
        "linger_ms": 2,
        f"ms_per_record_awaited_{CONFIRM_BATCH}_together": round(batched, 3),
    }
    fig.notes.append(
        f"awaited {CONFIRM_BATCH} together: {batched:.2f} ms per record, "
        f"{fig.stats.get('p50', 0) / batched:,.0f}× less than one at a time (p50)"
        if batched
        else "batched sends not measured"
    )


UNWIND = """
UNWIND $rows AS row
MERGE (n:BenchNode {id: row.id})
SET n.tag = row.tag, n.name = row.name, n.kind = row.kind, n.score = row.score, n.seen = row.seen
WITH n, row
MERGE (p:BenchNode {id: row.prev})
MERGE (n)-[:NEXT]->(p)
"""
"""Nodes with 5 properties and one relationship each: the shape of one projected entity."""


def unwind_rows(tag: str, count: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{tag}-{i}",
            "prev": f"{tag}-{max(i - 1, 0)}",
            "tag": tag,
            "name": f"node {i}",
            "kind": ("person", "identifier", "lead")[i % 3],
            "score": i / 7,
            "seen": i,
        }
        for i in range(offset, offset + count)
    ]


async def unwind_merge(driver: Any, rows: list[dict[str, Any]], batch: int) -> float:
    """Write ``rows`` in managed transactions of ``batch`` rows; seconds taken."""
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]

        async def work(tx: Any, chunk: list[dict[str, Any]] = chunk) -> None:
            await (await tx.run(UNWIND, rows=chunk)).consume()

        async with driver.session() as session:
            await session.execute_write(work)
    return time.perf_counter() - started


async def delete_tagged(driver: Any, tag: str) -> None:
    async with driver.session() as session:
        await (
            await session.run(
                "MATCH (n:BenchNode) WHERE n.tag = $tag "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
                tag=tag,
            )
        ).consume()


async def neo4j_unwind(run: Run, figures: dict[int, Figure]) -> None:
    sizes = {100: run.size(3_000, 20_000), 1_000: run.size(6_000, 100_000)}
    sizes[5_000] = run.size(10_000, 200_000)
    driver = async_driver(run.settings)
    try:
        async with driver.session() as session:
            for statement in (
                "CREATE CONSTRAINT bench_node_id IF NOT EXISTS "
                "FOR (n:BenchNode) REQUIRE n.id IS UNIQUE",
                "CREATE INDEX bench_node_tag IF NOT EXISTS FOR (n:BenchNode) ON (n.tag)",
            ):
                await (await session.run(statement)).consume()
        warm = f"warm{uuid.uuid4().hex[:6]}"
        await unwind_merge(driver, unwind_rows(warm, 500), 100)
        await delete_tagged(driver, warm)
        for batch, fig in figures.items():
            tag = f"b{batch}{uuid.uuid4().hex[:6]}"
            rows = unwind_rows(tag, sizes[batch])
            try:
                with run.watch() as cpu:
                    seconds = await unwind_merge(driver, rows, batch)
                fig.value = round(len(rows) / seconds, 1)
                fig.cpu = cpu.result
                fig.params = {"nodes": len(rows), "batch": batch, "properties": 5, "rels": 1}
                run.progress.say(f"  {fig.id}: {fig.value:,.0f} nodes/s")
            except Exception as exc:  # noqa: BLE001 - reported on the figure, the rest goes on
                fig.failed(f"{type(exc).__name__}: {exc}"[:500])
            finally:
                await delete_tagged(driver, tag)
    finally:
        await driver.close()


def trivial_app() -> FastAPI:
    """The smallest FastAPI JSON endpoint: the ceiling for any route of the gateway."""
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def fastapi_baseline(run: Run, fig: Figure) -> None:
    import asyncio

    from tests.support.platform import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.baselines:trivial_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/ping", proc=server)
        seconds = run.size(4.0, 15.0)

        async def send(client: Any, _n: int) -> Any:
            return await client.get("/ping")

        with run.watch(extra={"uvicorn (trivial app)": server.pid}) as cpu:
            load = asyncio.run(http_load(base, send, concurrency=HTTP_CONCURRENCY, seconds=seconds))
        fig.value = round(load.rate, 1)
        fig.stats = percentiles(load.latencies_ms)
        fig.cpu = cpu.result
        fig.params = {"concurrency": HTTP_CONCURRENCY, "seconds": seconds, "failed": load.failed}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def run_group(run: Run) -> None:
    """Every raw baseline, in the order the platform's figures need them."""
    run.measure(
        Figure(
            KAFKA_PRODUCE_CONSUME,
            GROUP,
            "Kafka produce → consume, 1 KB, acks=all, idempotent",
            "events/s",
        ),
        lambda f: produce_consume(run, f),
    )
    run.progress.say(f"  {KAFKA_PRODUCE_CONSUME}: {run.results.value(KAFKA_PRODUCE_CONSUME)}")
    run.measure(
        Figure(
            KAFKA_CONSUME_PRODUCE,
            GROUP,
            "Kafka consume → produce loop, 1 KB (offset stored after the output is acked)",
            "events/s",
        ),
        lambda f: consume_produce(run, f),
    )
    run.progress.say(f"  {KAFKA_CONSUME_PRODUCE}: {run.results.value(KAFKA_CONSUME_PRODUCE)}")
    run.measure(
        Figure(KAFKA_ROUND_TRIP, GROUP, "Kafka one record produce → consume, p99", "ms"),
        lambda f: round_trip(run, f),
    )
    run.measure(
        Figure(
            KAFKA_CONFIRM,
            GROUP,
            "Kafka acks=all confirmation of one awaited send (confluent-kafka, linger 2 ms, as "
            "the services send), p99",
            "ms",
        ),
        lambda f: confirm(run, f),
    )
    figures = {
        b: run.results.add(
            Figure(
                unwind_id(b),
                GROUP,
                f"Neo4j UNWIND … MERGE, 5 properties + 1 relationship, batch {b:,}",
                "nodes/s",
            )
        )
        for b in BATCH_SIZES
    }
    try:
        import asyncio

        asyncio.run(neo4j_unwind(run, figures))
    except Exception as exc:  # noqa: BLE001 - reported on the figures, the run goes on
        for fig in figures.values():
            if fig.value is None and fig.status == "ok":
                fig.failed(f"{type(exc).__name__}: {exc}"[:500])
    run.measure(
        Figure(
            FASTAPI,
            GROUP,
            f"Trivial FastAPI JSON endpoint (uvicorn, {HTTP_CONCURRENCY} concurrent)",
            "requests/s",
        ),
        lambda f: fastapi_baseline(run, f),
    )
    run.progress.say(f"  {FASTAPI}: {run.results.value(FASTAPI)}")
