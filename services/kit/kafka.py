"""confluent-kafka plumbing: the one place Kafka clients are built, idempotent publishing, topic
provisioning, dead letters.

Every Kafka client in Interlock (producer, consumer, admin client, faust app; services, tests,
benchmarks and the sample subscriber alike) is made here, from ``client_config``: it carries the
process's SCRAM principal and, on ``SASL_SSL``, the CA to verify the broker with. A unit test
(tests/unit/kit/test_kafka_clients.py) fails on a client built anywhere else.

Discipline from confluent-kafka's own examples: ``poll(0)`` after each produce, delivery
callbacks that surface errors, ``flush()`` at shutdown, every admin future checked.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from events.codec import encode, partition_key
from events.deadletter import DeadLetter
from events.envelope import Envelope
from events.topics import ALL_TOPICS, CLOUDEVENTS_CONTENT_TYPE, DEAD_LETTER, TopicSpec
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()


UNASSIGNED = -1
"""librdkafka's "no partition chosen": the key's partition by the configured partitioner."""

OutgoingRecord = tuple[str, bytes | None, bytes, int | None]
"""A record to write: topic, key, value, and its partition when not the key's."""


class DeliveryFailed(RuntimeError):
    """The broker did not confirm a record: the caller must not report success.

    ``retriable`` is False when the broker refused the record for good (too large, not
    authorised, invalid): sending it again cannot succeed.
    """

    def __init__(self, message: str, *, retriable: bool = True) -> None:
        super().__init__(message)
        self.retriable = retriable


REFUSALS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_MSG,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.INVALID_RECORD,
        KafkaError.POLICY_VIOLATION,
        KafkaError._INVALID_ARG,
    }
)
"""Delivery errors that retrying cannot mend (delivery reports carry no retriable flag)."""


def refused(err: KafkaError) -> bool:
    """Whether a delivery error is the broker's refusal for good of the record."""
    return err.code() in REFUSALS


def watermarks(
    consumer: Consumer, topic: str, partition: int, timeout: float = 10.0
) -> tuple[int, int]:
    """A partition's low and high offsets, asked again while its leader is being elected.

    A topic created a moment ago answers NOT_LEADER_FOR_PARTITION (or LEADER_NOT_AVAILABLE)
    until the controller has placed its leader; that is a wait, not an error for the caller.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=max(0.1, deadline - time.monotonic())
            )
            return int(low), int(high)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            transient = isinstance(error, KafkaError) and (
                error.retriable()
                or error.code()
                in (
                    KafkaError.NOT_LEADER_FOR_PARTITION,
                    KafkaError.LEADER_NOT_AVAILABLE,
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                )
            )
            if not transient or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


Headers = list[tuple[str, bytes]]

CLOUDEVENT_HEADERS: Headers = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]
"""Structured mode of the CloudEvents Kafka protocol binding: the value is the whole event."""

_OTHER_CONTENT: tuple[tuple[str, Headers], ...] = tuple(
    (spec.name, [("content-type", spec.content_type.encode())])
    for spec in ALL_TOPICS
    if not spec.carries_cloudevents
)


def record_headers(topic: str) -> Headers:
    """The headers of every record Interlock writes to ``topic`` (prefixed or not): the
    ``content-type`` its value is in. The one place a record's headers are chosen; every
    producer (``Producer`` below, faust topics through ``services.kit.streams.raw_topic``)
    asks it."""
    for name, headers in _OTHER_CONTENT:
        if topic.endswith(name):
            return headers
    return CLOUDEVENT_HEADERS


class Producer(confluent_kafka.Producer):
    """confluent-kafka's producer, writing each record with the headers its topic's records
    carry (``record_headers``) unless the caller gives its own. Every producer in Interlock is
    this one (a unit test fails on another)."""

    def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("headers") is None:
            kwargs["headers"] = record_headers(topic)
        super().produce(topic, *args, **kwargs)


SCRAM = "SCRAM-SHA-512"


def kafka_config(
    bootstrap: str,
    *,
    protocol: str = "SASL_PLAINTEXT",
    username: str = "",
    password: str = "",
    ca_file: str = "",
    conf: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """librdkafka settings for one principal: SCRAM-SHA-512 over ``SASL_PLAINTEXT`` or
    ``SASL_SSL`` (the broker's certificate verified against ``ca_file``, host name included), or
    nothing on a ``PLAINTEXT`` broker. ``conf`` adds the client's own settings."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "security.protocol": protocol}
    if protocol.startswith("SASL_"):
        config |= {"sasl.mechanism": SCRAM, "sasl.username": username, "sasl.password": password}
    if protocol.endswith("SSL"):
        config["enable.ssl.certificate.verification"] = True
        config["ssl.endpoint.identification.algorithm"] = "https"
        if ca_file:
            config["ssl.ca.location"] = ca_file
    return config | dict(conf or {})


def client_config(settings: Settings, conf: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings of every Kafka client of this process: its bootstrap, principal, CA."""
    return kafka_config(
        settings.kafka_bootstrap,
        protocol=settings.kafka_security_protocol,
        username=settings.kafka_username,
        password=settings.kafka_secret() if settings.kafka_security_protocol != "PLAINTEXT" else "",
        ca_file=settings.kafka_ca_file,
        conf=conf,
    )


def new_consumer(config: Mapping[str, Any]) -> Consumer:
    """A consumer from settings made by ``client_config`` or ``kafka_config``."""
    _check(config)
    return Consumer(dict(config))


def new_admin(config: Mapping[str, Any]) -> AdminClient:
    """An admin client from settings made by ``client_config`` or ``kafka_config``."""
    _check(config)
    return AdminClient(dict(config))


def new_producer(config: Mapping[str, Any]) -> Producer:
    """A producer (the kit's, with record headers) from ``client_config``/``kafka_config``."""
    _check(config)
    return Producer(dict(config))


def consumer_for(settings: Settings, conf: Mapping[str, Any]) -> Consumer:
    """A consumer of this process's principal."""
    return new_consumer(client_config(settings, conf))


def admin_client(settings: Settings, conf: Mapping[str, Any] | None = None) -> AdminClient:
    """An admin client of this process's principal."""
    return new_admin(client_config(settings, conf))


def producer_for(settings: Settings, conf: Mapping[str, Any] | None = None) -> Producer:
    """A plain producer of this process's principal (``producer_config`` for the defaults)."""
    return new_producer(client_config(settings, conf))


def _check(config: Mapping[str, Any]) -> None:
    if "security.protocol" not in config:
        raise ValueError("a Kafka client's settings come from client_config or kafka_config")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the faust (aiokafka) clients on ``SASL_SSL``: the CA, host checked."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ca_file or None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def faust_app(settings: Settings, app_id: str, **options: Any) -> Any:
    """A faust app whose broker connections carry this process's principal (and CA)."""
    import faust

    if settings.kafka_security_protocol != "PLAINTEXT":
        options["broker_credentials"] = faust.SASLCredentials(
            username=settings.kafka_username,
            password=settings.kafka_secret(),
            mechanism=SCRAM,
            ssl_context=ssl_context(settings),
        )
    options.setdefault("broker", [f"kafka://{hp}" for hp in settings.kafka_bootstrap.split(",")])
    return faust.App(app_id, **options)


def producer_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    return client_config(settings) | {
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "linger.ms": 2,
        "compression.type": "lz4",
        "message.max.bytes": 2_000_000,
        **extra,
    }


class Publisher:
    """An idempotent producer of envelopes to their catalogued topics.

    ``publish`` blocks until every record is acknowledged by the broker; ``publish_async``
    awaits the same without blocking the event loop (a thread polls delivery reports).
    """

    def __init__(self, settings: Settings, **extra: Any) -> None:
        self._settings = settings
        self._producer = new_producer(producer_config(settings, **extra))
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def topic_of(self, envelope: Envelope) -> str:
        from events.catalogue import CATALOGUE

        return self._settings.topic(CATALOGUE.entry(envelope.type).topic.name)

    def _produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        on_done: Any,
        partition: int | None = None,
    ) -> None:
        placed = UNASSIGNED if partition is None else partition
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, partition=placed, on_delivery=on_done
                )
                break
            except BufferError:
                self._producer.poll(0.05)
        self._producer.poll(0)

    def publish(self, envelopes: Sequence[Envelope], topic: str | None = None) -> None:
        """Write envelopes and wait until the broker has them all (acks=all)."""
        errors: list[str] = []

        def done(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(f"{msg.topic()}: {err.str()}")

        for env in envelopes:
            self._produce(topic or self.topic_of(env), partition_key(env), encode(env), done)
        remaining = self._producer.flush(30)
        if remaining or errors:
            raise DeliveryFailed("; ".join(errors) or f"{remaining} records not delivered")

    def publish_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.publish_records([(topic, key, value, None)])

    def publish_records(self, records: Sequence[OutgoingRecord], timeout: float = 60) -> None:
        """Write ``(topic, key, value, partition or None)`` records and wait until the broker
        has them all; :class:`DeliveryFailed` (retriable or not) names what it refused."""
        errors: list[str] = []
        refusals: list[bool] = []

        def done(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(f"{msg.topic()}: {err.str()}")
                refusals.append(refused(err))

        for topic, key, value, partition in records:
            self._produce(topic, key, value, done, partition)
        remaining = self._producer.flush(timeout)
        if remaining or errors:
            raise DeliveryFailed(
                "; ".join(errors[:3]) or f"{remaining} records not delivered",
                retriable=not any(refusals),
            )

    def record_of(self, envelope: Envelope) -> OutgoingRecord:
        """An envelope as a record to its catalogued topic, keyed as the catalogue says."""
        return self.topic_of(envelope), partition_key(envelope), encode(envelope), None

    def _poll_forever(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def send(self, envelopes: Sequence[Envelope], topic: str | None = None) -> asyncio.Future[None]:
        """Write envelopes now; the future settles when the broker has acknowledged them all,
        or fails with the first refusal. One future per batch, not one per record: the
        delivery reports cost the event loop one wake-up however many records there are."""
        return self.send_records(
            [
                (topic or self.topic_of(env), partition_key(env), encode(env), None)
                for env in envelopes
            ]
        )

    def send_records(self, records: Sequence[OutgoingRecord]) -> asyncio.Future[None]:
        """Write ``(topic, key, value, partition or None)`` records now, confirmed as ``send``."""
        loop = asyncio.get_running_loop()
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll_forever, daemon=True)
            self._poller.start()
        confirmation = _Confirmation(loop, len(records))
        for topic, key, value, partition in records:
            self._produce(topic, key, value, confirmation.report, partition)
        return confirmation.future

    async def publish_async(self, envelopes: Sequence[Envelope], topic: str | None = None) -> None:
        """Write envelopes and await the broker's acknowledgement of each."""
        await self.send(envelopes, topic)

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=2)
        self._producer.flush(30)


class _Confirmation:
    """The acknowledgement of a batch of records, counted down by delivery reports (which come
    on the poller thread, or on the caller's within ``produce``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        self.future: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._left = count
        self._lock = threading.Lock()
        self._settled = False
        if count == 0:
            self._settled = True
            self.future.set_result(None)

    def report(self, err: KafkaError | None, msg: Message) -> None:
        with self._lock:
            if self._settled:
                return
            if err is None:
                self._left -= 1
                if self._left:
                    return
                outcome: Exception | None = None
            else:
                outcome = DeliveryFailed(f"{msg.topic()}: {err.str()}", retriable=not refused(err))
            self._settled = True
        self._loop.call_soon_threadsafe(_settle, self.future, outcome)


def _settle(fut: asyncio.Future[None], exc: Exception | None) -> None:
    if fut.done():
        return
    if exc is None:
        fut.set_result(None)
    else:
        fut.set_exception(exc)


def provision(
    settings: Settings, topics: Iterable[TopicSpec] = ALL_TOPICS, *, timeout: float = 30
) -> list[str]:
    """Create the catalogued topics that are missing; idempotent. Returns the names created."""
    wanted = [
        NewTopic(
            settings.topic(spec.name),
            num_partitions=min(spec.partitions, settings.partitions) if spec.partitions > 1 else 1,
            replication_factor=-1,
            config=spec.config(),
        )
        for spec in topics
    ]
    created = create_topics(settings, wanted, timeout=timeout)
    log.info("topics provisioned", created=len(created), total=len(wanted))
    return created


def create_topics(
    settings: Settings,
    topics: Sequence[NewTopic],
    *,
    timeout: float = 30,
    admin: AdminClient | None = None,
) -> list[str]:
    """Create the topics that are missing and wait until every partition of each has a leader.

    A consumer that joins its group while a topic it wants is not yet in the broker's metadata
    is assigned none of it, and faust keeps that view: a table whose changelog it missed fails
    every write with ``PartitionsMismatch`` until the process restarts. So creation is not done
    until the metadata shows the topic led.
    """
    if admin is None:
        admin = admin_client(settings)
    existing = admin.list_topics(timeout=timeout).topics
    missing = [t for t in topics if t.topic not in existing]
    created: list[str] = []
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=timeout).items():
            try:
                future.result()
                created.append(name)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
    await_leaders(admin, [t.topic for t in topics], timeout=timeout)
    return created


def await_leaders(admin: AdminClient, names: Sequence[str], *, timeout: float = 30) -> None:
    """Return once the metadata shows every partition of each topic with a leader."""
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting:
        metadata = admin.list_topics(timeout=max(1.0, deadline - time.monotonic()))
        waiting = [name for name in waiting if not _led(metadata.topics.get(name))]
        if not waiting:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"no leader within {timeout:.0f}s for {len(waiting)} topics: "
                f"{', '.join(sorted(waiting)[:5])}"
            )
        time.sleep(0.2)


def _led(topic: Any) -> bool:
    return (
        topic is not None
        and topic.error is None
        and bool(topic.partitions)
        and all(p.leader >= 0 and p.error is None for p in topic.partitions.values())
    )


def grow_partitions(settings: Settings, topic: str, count: int) -> None:
    """Raise a topic's partition count (never lowers it); used when scaling out."""
    client = admin_client(settings)
    current = len(client.list_topics(topic, timeout=10).topics[topic].partitions)
    if count > current:
        for future in client.create_partitions([NewPartitions(topic, count)]).values():
            future.result()


DEAD_LETTER_KEEP_BYTES = 64 * 1024
"""How much of a poison record the dead letter keeps: enough to inspect it, never so much that
the dead letter itself is too large for the broker (which would stop the service)."""


def dead_letter_record(
    *,
    service: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    reason: str,
    fields: Sequence[str] = (),
) -> tuple[bytes | None, bytes]:
    """The (key, value) of a dead-letter record for a raw record nobody could handle."""
    raw = value or b""
    if len(raw) > DEAD_LETTER_KEEP_BYTES:
        reason = f"{reason} (record of {len(raw)} bytes; first {DEAD_LETTER_KEEP_BYTES} kept)"
    record = DeadLetter(
        service=service,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode("utf-8", "replace")[:1024] if key is not None else None,
        value=base64.b64encode(raw[:DEAD_LETTER_KEEP_BYTES]).decode(),
        reason=reason[:4000],
        fields=tuple(fields),
        time=datetime.now(UTC),
    )
    return key, record.model_dump_json().encode()


def dead_letter_topic(settings: Settings) -> str:
    return settings.topic(DEAD_LETTER.name)


def take(consumer: Consumer, most: int, wait: float) -> list[Message]:
    """What has arrived, up to ``most`` records, waiting at most ``wait`` s for the first.

    ``Consumer.consume`` waits out its whole timeout unless the batch fills, which would add up
    to ``wait`` to every page's latency; ``poll`` returns with the first record.
    """
    first = consumer.poll(wait)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=most - 1, timeout=0)]


def ensure_topics(
    settings: Settings,
    specs: Mapping[str, TopicSpec],
    *,
    admin: AdminClient | None = None,
    timeout: float = 30,
) -> list[str]:
    """Create the named topics (each after its spec) that do not exist yet, led; returns the
    names created."""
    wanted = [
        NewTopic(
            name,
            num_partitions=min(spec.partitions, settings.partitions),
            replication_factor=-1,
            config=spec.config(),
        )
        for name, spec in specs.items()
    ]
    created = create_topics(settings, wanted, timeout=timeout, admin=admin)
    if created:
        log.info("topics created", topics=created)
    return created
