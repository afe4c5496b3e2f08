"""The release worker: the sharing policy applied once, per-team feeds out, national systems'
commands relayed in.

Feeds: every catalogued event topic (but the directory, outcomes, dead letters and audit) is
read in one consumer group; each event goes, as each team may see it, to that team's feed topic
with the source record's key, so a feed is in order per aggregate. A batch's offsets are
acknowledged only after every feed record of the batch is acknowledged by the broker
(at-least-once); a replay after a crash writes the same CloudEvents ids again, so a national
system drops repeats by id.

Directory: every worker keeps its own full copy of the JIT records (a consumer with no group,
from the start of the compacted topic), loaded before the first event is released. Before a
team is refused for want of JIT membership, the copy is brought up to the topic's end, so a
JIT record written just before an event is never missed.

Relay: a national system writes commands to its own ``<context>.commands.<TEAM>`` topic, which
only its principal may write. The relay checks that the command speaks for that team only
(:func:`services.release.policy.admit_command`) and forwards the record unchanged, with its key,
to the shared command topic; anything else goes to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

import faust
from mode import Service

from events.codec import InvalidEvent, decode, encode, sealed_subject
from events.envelope import Envelope
from events.topics import DIRECTORY, feed_topic
from services.kit.compacted import CompactedReader
from services.kit.disclosure import regions_of
from services.kit.kafka import OutgoingRecord, dead_letter_record, dead_letter_topic, ensure_topics
from services.kit.logging import get_logger
from services.kit.readers import Message, PatternReader
from services.kit.settings import Settings
from services.kit.streams import DeadLetters, create_app, decode_or_explain, raw_topic
from services.release.policy import (
    Directory,
    admit_command,
    decide,
    fed_topics,
    links_of,
    parse_team_command_topic,
    view_for,
)
from services.release.shares import ShareBook

log = get_logger()

BATCH = 500
BATCH_WITHIN = 0.05
CATCH_UP_TIMEOUT = 5.0


class DirectoryView:
    """This worker's own, whole copy of the directory's JIT records, kept current by a thread."""

    def __init__(self, settings: Settings) -> None:
        self._directory = Directory()
        self._reader = CompactedReader(
            settings,
            settings.topic(DIRECTORY.name),
            self._take,
            name="release-directory",
        )

    @property
    def snapshot(self) -> Directory:
        return self._directory

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    def wait_loaded(self, timeout: float) -> bool:
        """Block until the whole topic has been read once (or the timeout passes)."""
        return self._reader.wait_loaded(timeout)

    async def loaded(self) -> None:
        """Return once the whole topic has been read once (at once when it has)."""
        while not await asyncio.to_thread(self.wait_loaded, 1.0):
            log.info("waiting for the directory", topic=self._reader.topic)

    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        """Block until every record on the directory topic now has been read."""
        return self._reader.catch_up(timeout)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        envelope: Envelope | None = None
        if value is not None:
            try:
                envelope = decode(value)
            except InvalidEvent as exc:
                log.warning("directory record skipped", reason=exc.reason)
        self._directory = self._directory.with_record(
            key.decode("utf-8", "replace") if key is not None else None, envelope
        )


class FeedTopics:
    """Creates per-team feed topics on first use and remembers the ones that exist."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.known: set[str] = set()

    def name(self, team: str) -> str:
        return self.settings.topic(feed_topic(team).name)

    def ensure(self, teams: Iterable[str]) -> None:
        missing = {self.name(t): feed_topic(t) for t in teams if self.name(t) not in self.known}
        if missing:
            ensure_topics(self.settings, missing)
            self.known |= set(missing)


def command_relay(settings: Settings) -> PatternReader:
    """Forwards national systems' commands from their own topics to the shared command topics;
    a command a team may not send there is dead-lettered with the reason."""
    prefix = settings.topic_prefix

    def relay(msg: Message) -> list[OutgoingRecord]:
        target, value, reason = _route(settings, msg)
        if target is not None and value is not None:
            return [(target, msg.key(), value, None)]
        key, record = dead_letter_record(
            service="release-relay",
            topic=msg.topic() or "",
            partition=msg.partition() or 0,
            offset=msg.offset() or 0,
            key=msg.key(),
            value=msg.value(),
            reason=reason,
        )
        log.warning("command refused at the relay", topic=msg.topic(), reason=reason)
        return [(dead_letter_topic(settings), key, record, None)]

    return PatternReader(
        settings,
        pattern=f"^{re.escape(prefix)}interlock\\.[a-z]+\\.commands\\.[A-Z]{{2}}-[A-Z0-9]{{2,16}}$",
        group=settings.topic("interlock-release-relay"),
        name="release-relay",
        route=relay,
        batch=200,
    )


def _route(settings: Settings, msg: Message) -> tuple[str | None, bytes | None, str]:
    name = (msg.topic() or "").removeprefix(settings.topic_prefix)
    parsed = parse_team_command_topic(name)
    if parsed is None:
        return None, None, f"{name} is not a team's command topic"
    context, team = parsed
    value = msg.value()
    try:
        envelope = decode(value)
    except InvalidEvent as exc:
        return None, None, exc.reason
    reason = admit_command(envelope, team=team, context=context)
    if reason is not None:
        return None, None, reason
    return settings.topic(context.name), value, ""


def build(settings: Settings) -> faust.App:
    """The release worker: sharing policy → per-team feeds; national systems' commands relayed."""
    app = create_app("release", settings)
    directory = DirectoryView(settings)
    shares = ShareBook(settings)
    feeds = FeedTopics(settings)
    relay = command_relay(settings)
    dead = DeadLetters(app, settings, "release")
    sources = [raw_topic(app, settings, t) for t in fed_topics()]
    channel = app.topic(
        *[t.get_topic_name() for t in sources], key_serializer="raw", value_serializer="raw"
    )
    outputs: dict[str, faust.TopicT] = {}

    class Background(Service):
        """Loads the directory before the worker reports ready; runs the relay."""

        async def on_start(self) -> None:
            await directory.loaded()
            await shares.loaded()
            relay.start()

        async def on_stop(self) -> None:
            relay.stop()
            directory.stop()
            shares.stop()

    app.service(Background)

    def output(team: str) -> faust.TopicT:
        if team not in outputs:
            outputs[team] = raw_topic(app, settings, feeds.name(team))
        return outputs[team]

    @app.agent(channel, name=f"{app.conf.id}.release")  # type: ignore[untyped-decorator]
    async def release_events(stream: faust.StreamT[bytes]) -> None:
        # faust's StreamT stub lacks noack_take, which the Stream it is at run time has
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            await _release(list(batch))
            for event in batch:
                event.ack()

    async def _release(batch: list[faust.EventT[bytes]]) -> None:
        """Write one batch's feed records; the batch is acknowledged only after this returns."""
        await directory.loaded()
        await shares.loaded()
        decoded: list[tuple[faust.EventT[bytes], Envelope]] = []
        for event in batch:
            envelope, error, _ = decode_or_explain(event.value)
            if envelope is None:
                assert error is not None
                await dead.refuse(event, error)
            else:
                decoded.append((event, envelope))
        await shares.remember(env for _, env in decoded)
        known = await shares.knowing(set().union(*(links_of(env) for _, env in decoded)))
        snapshot = directory.snapshot
        if any(decide(env, snapshot).withheld for _, env in decoded):
            await asyncio.to_thread(directory.catch_up)
            snapshot = directory.snapshot
        records: list[tuple[str, Any, bytes]] = []
        for event, envelope in decoded:
            sealed = sealed_subject(envelope) is not None
            decision = decide(envelope, snapshot)
            if decision.withheld:
                log.info(
                    "not released to teams outside the JIT",
                    event_id=envelope.id,
                    jit=envelope.jit,
                    teams=sorted(decision.withheld),
                )
            regions = regions_of(snapshot.jits.get(envelope.jit, envelope.audience))
            for team in sorted(decision.teams):
                view = view_for(envelope, team, regions, known)
                if view is None:
                    continue
                value = event.value if view is envelope and not sealed else encode(view, seal=False)
                records.append((team, event.message.key, value))
        if not records:
            return
        await asyncio.to_thread(feeds.ensure, {team for team, _, _ in records})
        pending = [await output(team).send(key=key, value=value) for team, key, value in records]
        await asyncio.gather(*pending)

    return app
