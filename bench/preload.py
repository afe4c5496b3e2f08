"""Bulk preload of the deconfliction worker's RocksDB index, for the 1,000,000 and 10,000,000
identifier figures.

Why: the worker registers a few hundred to a thousand identifiers a second through Kafka on this
machine, so filling its index with 10,000,000 that way takes hours. The benchmark writes the bulk
of the index straight into the RocksDB store the worker then opens, and measures the worker
through Kafka on top of it (registrations, hits, memory, restart).

How, with the worker's own code rather than a copy of its format:

- the worker's faust app is built by ``services.deconfliction.agents.build`` with the RocksDB
  store and the table directory the worker process is given (``APP_TABLEDIR``), so the tables,
  their files, RocksDB options and serialisers are the worker's;
- each token becomes a ``TokenRegistered`` through ``domain.decide_registration`` (what the
  worker does with a national system's ``RegisterBlindTokens``), and its index entry through
  ``domain.register`` on no previous state and ``state_to_json`` (what ``index_registration``
  writes for a token nobody holds yet);
- the entry is written to the RocksDB partition ``index_registration`` writes it to (the index
  topic's partition of the token key: ``agents.partition_of``, Kafka's murmur2), encoded by the
  table's store, in write batches.

What differs from registering through Kafka: the preloaded entries are not on the index or event
topics, nor in the table's changelog topic. A worker that opens this store has them; a worker on
another machine that took over a partition would not (it rebuilds from the changelog).
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events.deconfliction import BlindToken, RegisterBlindTokens, TokenRegistered
from events.envelope import Actor, Addressed
from events.identifiers import IdentifierKind
from services.kit.settings import Settings

TOKENS_PER_COMMAND = 5_000
"""Tokens per ``RegisterBlindTokens`` (a national system's bulk path): about 0.6 MB a command."""
TABLE = "token_to_holders"


def random_token(rng: random.Random) -> str:
    """A blind token as a national system sends it: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()


def blind(tokens: list[str]) -> tuple[BlindToken, ...]:
    return tuple(BlindToken(kind=IdentifierKind.HANDLE, token=t, key_version=1) for t in tokens)


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def _own_key_ring() -> Iterator[None]:
    """Building a service's app installs a key ring in this process (``create_app``): the
    commands the benchmark writes afterwards would be sealed as a service seals its events.
    The preload needs the app's tables only, so the process's ring is put back as it was."""
    from events import sealing

    before = sealing.installed()
    try:
        yield
    finally:
        built = sealing.installed()
        if built is not before:
            sealing.install(before)
            stop = getattr(built, "stop", None)
            if callable(stop):
                stop()


def disk_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (the store's SST files, logs and manifests)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


class IndexPreload:
    """Writes registrations of random tokens, as ``team`` of ``jit``, into the worker's RocksDB
    token index at ``tabledir``. Not thread-safe; the worker must not have the store open (RocksDB
    locks it): call :meth:`close` before the worker starts."""

    def __init__(
        self,
        settings: Settings,
        tabledir: Path,
        *,
        jit: str,
        team: str,
        members: frozenset[str],
        partitions: int,
        seed: int = 3,
    ) -> None:
        from services.deconfliction import agents
        from services.deconfliction.settings import DeconflictionSettings
        from services.deconfliction.tokens import TokenKeys

        config = DeconflictionSettings(store="rocksdb://")
        with _environment("APP_TABLEDIR", str(tabledir)), _own_key_ring():
            self.app = agents.build(settings, config)
        if Path(self.app.conf.tabledir) != tabledir:
            raise RuntimeError(f"the worker's tables would be in {self.app.conf.tabledir}")
        # The worker's key ring and secret (``DeconflictionWorker.keys``), for registration ids.
        self.keys = TokenKeys(
            settings.deconfliction_secret.get_secret_value().encode("utf-8"), config.key_ring()
        )
        self.store: Any = self.app.tables[TABLE].data
        self.tabledir = tabledir
        self.jit = jit
        self.members = members
        self.partitions = partitions
        self.actor = Actor(member="bench-preload", team=team, roles=("national_system",))
        self.rng = random.Random(seed)
        self.written = 0
        self.seconds = 0.0
        self.closing_seconds = 0.0

    def _entries(self, tokens: list[str], now: datetime) -> dict[int, list[tuple[bytes, bytes]]]:
        """The worker's index entries of one bulk registration, by RocksDB partition."""
        from services.deconfliction import agents, domain
        from services.kit.streams import state_to_json

        command = RegisterBlindTokens(
            actor=self.actor, source_ref=f"preload-{self.written}", tokens=blind(tokens)
        )
        by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
        for item in domain.decide_registration(
            command, jit=self.jit, keys=self.keys, now=now, members=self.members
        ):
            registration = item.event if isinstance(item, Addressed) else item
            assert isinstance(registration, TokenRegistered)
            entry = registration.token.encode()
            state, hits = domain.register(None, registration, now=now, desks={})
            assert not hits
            partition = agents.partition_of(entry, self.partitions)
            by_partition.setdefault(partition, []).append(
                (self.store._encode_key(entry), self.store._encode_value(state_to_json(state)))
            )
        return by_partition

    def add(
        self,
        count: int,
        *,
        keep: Callable[[str], None] | None = None,
        deadline: float | None = None,
        report: Callable[[int, float], None] | None = None,
    ) -> int:
        """Write ``count`` more registrations (fewer if ``deadline``, a monotonic time, passes);
        ``keep`` sees every token written (for a sample to probe). Returns how many were
        written."""
        import rocksdict

        done = 0
        began = time.perf_counter()
        next_report = 500_000
        while done < count:
            if deadline is not None and time.monotonic() > deadline:
                break
            tokens = [random_token(self.rng) for _ in range(min(TOKENS_PER_COMMAND, count - done))]
            now = datetime.now(UTC)
            for partition, entries in self._entries(tokens, now).items():
                batch = rocksdict.WriteBatch(raw_mode=True)
                for key, value in entries:
                    batch.put(key, value)
                self.store._db_for_partition(partition).write(batch)
            if keep is not None:
                for token in tokens:
                    keep(token)
            done += len(tokens)
            self.written += len(tokens)
            if report is not None and done >= next_report:
                next_report += 500_000
                report(self.written, done / (time.perf_counter() - began))
        self.seconds += time.perf_counter() - began
        return done

    def close(self, *, compact: bool = True) -> None:
        """Flush and (optionally) compact each partition's store, then close it, so that the
        worker opens a settled store, as a long-running one would be."""
        began = time.perf_counter()
        dbs = self.store._dbs
        for partition in list(dbs):
            db = dbs.pop(partition)
            db.flush(True)
            if compact:
                db.compact_range(None, None)
            db.close()
        self.closing_seconds += time.perf_counter() - began

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0
