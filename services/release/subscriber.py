"""A sample national-system subscriber: ``interlock feed subscribe``.

It does what a national system's integration does, with nothing of Interlock but the published
contract: it reads its team's feed over SASL/SCRAM with its own credentials, checks every event
against the JSON Schemas in ``contracts/schemas/`` (the CloudEvents envelope, then the payload
schema its ``type`` names), drops repeats by event id, and prints each event. Without a replay
option it resumes from its consumer group's committed offsets; ``--from-offset`` and
``--from-time`` replay from an offset or a point in time without touching those offsets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from jsonschema import Draft202012Validator

MECHANISM = "SCRAM-SHA-512"
PASSWORD_ENV = "INTERLOCK_FEED_PASSWORD"
"""Where the password may come from instead of a file: never a command-line argument, which
every user of the machine can read in the process list."""
FEED_PREFIX = "interlock.feed."
SEEN_IDS = 100_000


class SubscribeError(RuntimeError):
    """The subscriber cannot go on; the message says why (authentication, authorisation, …)."""


def consumer_config(
    *,
    bootstrap: str,
    user: str,
    password: str,
    group: str,
    ca_file: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The client settings a national system needs: SASL_SSL with the broker's certificate
    verified against the deployment's CA (``ca_file``; host name included), SCRAM-SHA-512, its
    group. Without a CA file: SASL_PLAINTEXT, for a deployment that serves no TLS."""
    tls: dict[str, Any] = {"security.protocol": "SASL_PLAINTEXT"}
    if ca_file:
        tls = {
            "security.protocol": "SASL_SSL",
            "ssl.ca.location": ca_file,
            "enable.ssl.certificate.verification": True,
            "ssl.endpoint.identification.algorithm": "https",
        }
    return {
        "bootstrap.servers": bootstrap,
        **tls,
        "sasl.mechanism": MECHANISM,
        "sasl.username": user,
        "sasl.password": password,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        **extra,
    }


class Contract:
    """The published JSON Schemas: the envelope, and one payload schema per event type."""

    def __init__(self, envelope: dict[str, Any], payloads: dict[str, dict[str, Any]]) -> None:
        self.envelope = Draft202012Validator(envelope)
        self.payloads = {t: Draft202012Validator(s) for t, s in payloads.items()}

    @classmethod
    def from_dir(cls, root: Path) -> Contract:
        """Load ``root/schemas/*.json`` as published by ``interlock contracts``."""
        schemas = root / "schemas"
        envelope_file = schemas / "cloudevent.json"
        if not envelope_file.is_file():
            raise FileNotFoundError(
                f"{envelope_file} not found: point --contracts at the published contracts "
                "(generate them with `interlock contracts`)"
            )
        payloads: dict[str, dict[str, Any]] = {}
        for path in sorted(schemas.glob("*.json")):
            if path.name == "cloudevent.json":
                continue
            schema = json.loads(path.read_text())
            if schema.get("x-interlock-kind", "event") == "event":
                payloads[schema.get("x-interlock-type", path.stem)] = schema
        return cls(json.loads(envelope_file.read_text()), payloads)

    def problems(self, wire: Any) -> list[str]:
        """Everything wrong with one CloudEvent, each naming the attribute or payload field."""
        if not isinstance(wire, dict):
            return [f"(root): a CloudEvent is a JSON object, not {type(wire).__name__}"]
        found = [_say("", e) for e in self.envelope.iter_errors(wire)]
        payload = self.payloads.get(str(wire.get("type")))
        if payload is None:
            found.append(f"type: {wire.get('type')!r} is not an event type of the contract")
        else:
            found += [_say("data", e) for e in payload.iter_errors(wire.get("data"))]
        return found


def _say(prefix: str, error: Any) -> str:
    path = ".".join(str(p) for p in (prefix, *error.absolute_path) if p != "")
    return f"{path or '(root)'}: {error.message}"


@dataclass
class Options:
    """What to read and how."""

    team: str
    bootstrap: str
    user: str
    password: str
    group: str | None = None
    ca_file: str | None = None
    """The deployment's CA (PEM): connect over SASL_SSL and verify the broker with it."""
    topic_prefix: str = ""
    from_offsets: list[str] = field(default_factory=list)
    from_time: datetime | None = None
    from_beginning: bool = False
    max_events: int | None = None
    idle_exit: float | None = None
    output: str = "text"

    @property
    def topic(self) -> str:
        return f"{self.topic_prefix}{FEED_PREFIX}{self.team}"

    @property
    def replay(self) -> bool:
        return bool(self.from_offsets) or self.from_time is not None or self.from_beginning

    @property
    def group_id(self) -> str:
        return self.group or f"{self.user}-subscriber"


@dataclass
class Summary:
    """What a run read."""

    events: int = 0
    invalid: int = 0
    repeats: int = 0
    ids: list[str] = field(default_factory=list)


def start_positions(
    consumer: Consumer, options: Options, partitions: list[int]
) -> list[TopicPartition]:
    """Where a replay starts on each partition: an offset (all or ``P:N``), a time, or the start."""
    topic = options.topic
    if options.from_time is not None:
        millis = int(options.from_time.timestamp() * 1000)
        found = consumer.offsets_for_times(
            [TopicPartition(topic, p, millis) for p in partitions], timeout=15
        )
        return [
            TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
            for tp in found
        ]
    if options.from_offsets:
        every: int | None = None
        each: dict[int, int] = {}
        for item in options.from_offsets:
            part, sep, offset = item.partition(":")
            try:
                if sep:
                    each[int(part)] = int(offset)
                else:
                    every = int(part)
            except ValueError:
                raise SubscribeError(
                    f"--from-offset: {item!r} is neither N nor PARTITION:N"
                ) from None
        default = every if every is not None else OFFSET_BEGINNING
        return [TopicPartition(topic, p, each.get(p, default)) for p in partitions]
    return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]


def subscribe(
    options: Options,
    contract: Contract,
    out: TextIO = sys.stdout,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> Summary:
    """Read the feed until ``max_events``, ``idle_exit`` seconds of quiet, or ``should_stop``."""
    import time

    fatal: list[str] = []

    def on_error(err: KafkaError) -> None:
        if err.fatal() or err.code() in (
            KafkaError._AUTHENTICATION,
            KafkaError.SASL_AUTHENTICATION_FAILED,
        ):
            fatal.append(err.str())

    consumer = Consumer(
        consumer_config(
            bootstrap=options.bootstrap,
            user=options.user,
            password=options.password,
            group=options.group_id,
            ca_file=options.ca_file,
            error_cb=on_error,
            **({} if options.replay else {"enable.auto.offset.store": False}),
        )
    )
    summary = Summary()
    seen: OrderedDict[str, None] = OrderedDict()
    try:
        partitions = _partitions(consumer, options.topic, fatal)
        if options.replay:
            consumer.assign(start_positions(consumer, options, partitions))
        else:
            consumer.subscribe([options.topic])
        quiet_since = time.monotonic()
        while not should_stop():
            if fatal:
                raise SubscribeError(f"refused by the broker: {fatal[0]}")
            if options.max_events is not None and summary.events >= options.max_events:
                break
            msg = consumer.poll(0.5)
            if msg is None:
                quiet = time.monotonic() - quiet_since
                if options.idle_exit is not None and quiet > options.idle_exit:
                    break
                continue
            quiet_since = time.monotonic()
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise SubscribeError(f"{options.topic}: {error.str()}")
            _handle(msg, contract, out, options, summary, seen)
            if not options.replay:
                consumer.store_offsets(msg)
                consumer.commit(asynchronous=True)
    finally:
        consumer.close()
    return summary


def _partitions(consumer: Consumer, topic: str, fatal: list[str]) -> list[int]:
    try:
        metadata = consumer.list_topics(topic, timeout=15)
    except KafkaException as exc:
        reason = fatal[0] if fatal else str(exc.args[0])
        raise SubscribeError(f"cannot read metadata of {topic}: {reason}") from None
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        reason = found.error.str() if found is not None and found.error else "no such topic"
        raise SubscribeError(f"{topic}: {reason}")
    return sorted(found.partitions)


def _handle(
    msg: Message,
    contract: Contract,
    out: TextIO,
    options: Options,
    summary: Summary,
    seen: OrderedDict[str, None],
) -> None:
    where = f"{msg.partition()}:{msg.offset()}"
    try:
        wire = json.loads(msg.value() or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        summary.invalid += 1
        print(f"{where} INVALID not JSON: {exc}", file=out)
        return
    event_id = str(wire.get("id")) if isinstance(wire, dict) else ""
    if event_id and event_id in seen:
        summary.repeats += 1
        return
    if event_id:
        seen[event_id] = None
        if len(seen) > SEEN_IDS:
            seen.popitem(last=False)
    problems = contract.problems(wire)
    summary.events += 1
    summary.ids.append(event_id)
    if problems:
        summary.invalid += 1
        print(f"{where} INVALID {event_id}: {'; '.join(problems[:5])}", file=out)
        return
    if options.output == "json":
        print(json.dumps(wire, separators=(",", ":"), ensure_ascii=False), file=out)
    else:
        print(
            f"{where} {wire.get('time')} {wire.get('type')} subject={wire.get('subject')} "
            f"id={event_id} originator={wire.get('originator')}",
            file=out,
        )


def load_contract(path: str) -> Contract:
    """The contract at ``path``; generated from the catalogue when ``path`` holds none yet."""
    root = Path(path)
    if (root / "schemas" / "cloudevent.json").is_file():
        return Contract.from_dir(root)
    from events.schemas import all_contracts

    print(f"note: no schemas under {root}/schemas; using the catalogue's own", file=sys.stderr)
    files = all_contracts()
    payloads = {
        doc["x-interlock-type"]: doc
        for name, doc in files.items()
        if name.startswith("schemas/") and doc.get("x-interlock-kind") == "event"
    }
    return Contract(files["schemas/cloudevent.json"], payloads)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", required=True, help="your team code, e.g. RO-DIICOT")
    parser.add_argument("--bootstrap", required=True, help="SASL listener, host:port")
    parser.add_argument("--user", required=True, help="your principal, e.g. ns-ro-diicot")
    parser.add_argument(
        "--password-file",
        help=f"read the password from this file (else from ${PASSWORD_ENV}; never an argument)",
    )
    parser.add_argument(
        "--ca-file",
        help="the deployment's CA certificate (PEM): SASL_SSL, the broker verified against it",
    )
    parser.add_argument("--group", help="consumer group id; must start with '<user>-'")
    parser.add_argument("--topic-prefix", default="", help="the deployment's topic prefix")
    replay = parser.add_mutually_exclusive_group()
    replay.add_argument(
        "--from-offset",
        action="append",
        default=[],
        metavar="N|P:N",
        help="replay from offset N on every partition, or from N on partition P (repeat)",
    )
    replay.add_argument("--from-time", help="replay from this ISO 8601 time (with offset)")
    replay.add_argument("--from-beginning", action="store_true", help="replay the whole feed")
    parser.add_argument("--max", type=int, dest="max_events", help="stop after N events")
    parser.add_argument("--idle-exit", type=float, help="stop after this many quiet seconds")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.add_argument("--contracts", default="contracts", help="the published contracts dir")


def options_from(args: argparse.Namespace) -> Options:
    if args.password_file:
        password = Path(args.password_file).read_text().strip()
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    else:
        raise SubscribeError(f"give --password-file or set {PASSWORD_ENV}")
    from_time = None
    if args.from_time:
        try:
            from_time = datetime.fromisoformat(args.from_time)
        except ValueError:
            reason = f"--from-time: {args.from_time!r} is not an ISO 8601 time"
            raise SubscribeError(reason) from None
        if from_time.tzinfo is None:
            raise SubscribeError("--from-time: give the UTC offset, e.g. 2026-11-28T09:00:00Z")
    return Options(
        team=args.team,
        bootstrap=args.bootstrap,
        user=args.user,
        password=password,
        group=args.group,
        ca_file=args.ca_file,
        topic_prefix=args.topic_prefix,
        from_offsets=list(args.from_offset),
        from_time=from_time,
        from_beginning=args.from_beginning,
        max_events=args.max_events,
        idle_exit=args.idle_exit,
        output=args.output,
    )


def run(args: argparse.Namespace, _settings: object = None) -> int:
    """The CLI handler: 0 all valid, 1 some invalid, 2 refused or misconfigured."""
    try:
        options = options_from(args)
        contract = load_contract(args.contracts)
        summary = subscribe(options, contract)
    except (SubscribeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    print(
        f"{summary.events} events, {summary.invalid} invalid, {summary.repeats} repeats dropped",
        file=sys.stderr,
    )
    return 1 if summary.invalid else 0
