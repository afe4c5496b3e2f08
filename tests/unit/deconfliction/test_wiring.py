"""The pure parts of the deconfliction wiring: partitioning, settings, internal records, HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.catalogue import CATALOGUE
from events.codec import InvalidEvent, decode, encode, envelop
from events.deconfliction import ExpireTokens, MoveOperation
from services.deconfliction.agents import (
    INDEX_CATALOGUE,
    PLATFORM_TEAM,
    TICK_ACTOR,
    _lacks_desk,
    partition_of,
)
from services.deconfliction.settings import (
    DeconflictionSettings,
    load_deconfliction_settings,
)
from services.kit.settings import ConfigurationError
from services.kit.web import ApiError, build_command

from .builders import NL, RO, Index, phone, registration_command, tokenise


@pytest.mark.parametrize(
    ("key", "murmur2"),
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_partition_of_a_key_is_kafkas_default_partition(key: bytes, murmur2: int) -> None:
    """A key's partition is Kafka's murmur2 one (Java vectors): a sweep stays in its partition."""
    for partitions in (1, 3, 6, 12):
        assert partition_of(key, partitions) == (murmur2 & 0x7FFFFFFF) % partitions


def test_a_rotation_keeps_the_previous_key_version_live_for_the_grace_period() -> None:
    """After a rotation both key versions are live for the grace period, then only the new one."""
    rotated = datetime(2026, 1, 1, tzinfo=UTC)
    config = DeconflictionSettings(key_version=2, previous_key_version=1, rotated_at=rotated)
    ring = config.key_ring()
    assert ring.live_versions(rotated + timedelta(days=1)) == (2, 1)
    assert ring.live_versions(rotated + timedelta(days=31)) == (2,)


def test_a_rotation_without_its_time_stops_the_worker_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A previous key version without ROTATED_AT is a configuration error naming the variable."""
    monkeypatch.setenv("INTERLOCK_DECONFLICTION_KEY_VERSION", "2")
    monkeypatch.setenv("INTERLOCK_DECONFLICTION_PREVIOUS_KEY_VERSION", "1")
    with pytest.raises(ConfigurationError, match="INTERLOCK_DECONFLICTION_ROTATED_AT"):
        load_deconfliction_settings()


def test_a_bad_threshold_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fuzzy threshold above 1 is refused naming INTERLOCK_DECONFLICTION_FUZZY_THRESHOLD."""
    monkeypatch.setenv("INTERLOCK_DECONFLICTION_FUZZY_THRESHOLD", "1.5")
    with pytest.raises(ConfigurationError, match="INTERLOCK_DECONFLICTION_FUZZY_THRESHOLD"):
        load_deconfliction_settings()


def test_expiry_ticks_are_readable_on_the_index_topic_only() -> None:
    """An expiry tick decodes with the internal catalogue only, never from a public topic."""
    tick = envelop(
        ExpireTokens(actor=TICK_ACTOR),
        subject="expire-tokens",
        jit="platform",
        originator=PLATFORM_TEAM,
        source="/interlock/deconfliction",
        correlation_id="c-1",
        catalogue=INDEX_CATALOGUE,
    )
    assert isinstance(decode(encode(tick), INDEX_CATALOGUE).data, ExpireTokens)
    with pytest.raises(InvalidEvent, match="unknown event type"):
        decode(encode(tick), CATALOGUE)


def test_a_hit_without_a_desk_is_noticed() -> None:
    """A hit told without a team's desk is noticed (the worker then syncs the directory)."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    [hit] = index.feed(tokenise(registration_command(RO, "ro-1", [phone()])))
    assert not _lacks_desk(hit)
    event = hit.event
    bare = type(hit)(
        event.model_copy(update={"holding": event.holding.model_copy(update={"desk": None})}),  # type: ignore[attr-defined]
        subject=hit.subject,
    )
    assert _lacks_desk(bare)


def test_a_command_that_fails_its_own_checks_is_a_422_naming_the_field() -> None:
    """A move that gives a latitude without a longitude is refused before it is sent."""
    with pytest.raises(ApiError) as refused:
        build_command(
            MoveOperation,
            actor={"member": "m1", "team": NL},
            operation_id="op-1",
            latitude=44.4,
        )
    assert refused.value.status_code == 422
    assert "longitude" in str(refused.value.detail)


class _Sent:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, int]] = []

    async def send(self, *, key: bytes, value: bytes, partition: int) -> None:
        self.records.append((key, partition))


def _worker(ring_config: DeconflictionSettings, assigned: list[int]) -> Any:
    """A worker with dicts for tables and a stub consumer: the sweep and tick logic alone."""
    from services.deconfliction.agents import DeconflictionWorker
    from services.deconfliction.tokens import TokenKeys
    from services.kit.settings import Settings

    settings = Settings(topic_prefix="unit.", partitions=3)
    worker = object.__new__(DeconflictionWorker)
    worker.settings = settings
    worker.config = ring_config
    worker.keys = TokenKeys(b"k" * 32, ring_config.key_ring())
    worker.token_to_holders = {}
    worker.block_to_persons = {}
    worker._swept = {}
    worker.index_topic = _Sent()
    topic = settings.topic("interlock.deconfliction.index")

    class Consumer:
        def topic_partitions(self, name: str) -> int:
            return 3

        def assignment(self) -> set[Any]:
            from faust.types import TP

            return {TP(topic, p) for p in assigned}

    class App:
        consumer = Consumer()

    worker.app = App()
    return worker


ROTATED = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_sweep_drops_retired_holders_of_its_own_partition_only() -> None:
    """The sweep drops its own partition's holders under a retired key version, no one else's."""
    config = DeconflictionSettings(
        key_version=2, previous_key_version=1, rotated_at=ROTATED, grace_days=1
    )
    worker = _worker(config, [0, 1, 2])
    index = Index()
    for n in range(12):
        registration = tokenise(
            registration_command(NL, f"lead-{n}", [phone(f"+316100000{n:02d}")])
        )
        index.feed(registration)
    for token, holders in index.tokens.items():
        worker.token_to_holders[token.encode()] = holders.model_dump(mode="json")
    mine = {k for k in worker.token_to_holders if partition_of(k, 3) == 1}
    assert mine and len(mine) < len(worker.token_to_holders)
    live = worker.keys.ring.live_versions(ROTATED + timedelta(days=2))
    assert live == (2,)
    worker._sweep(1, live)
    assert not mine & set(worker.token_to_holders)
    assert len(worker.token_to_holders) == 12 - len(mine)


async def test_ticks_go_to_unswept_partitions_only_after_a_version_retired() -> None:
    """Expiry ticks go only to unswept assigned partitions, and only once a key version retired."""
    live_all = _worker(DeconflictionSettings(), [0, 1, 2])
    await live_all.tick_expiry()
    assert live_all.index_topic.records == []

    retired = _worker(
        DeconflictionSettings(key_version=2, previous_key_version=1, rotated_at=ROTATED),
        [0, 2],
    )
    retired._swept[2] = (2,)
    await retired.tick_expiry()
    assert retired.index_topic.records == [(b"expire-tokens", 0)]
