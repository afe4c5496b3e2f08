"""The key ring behind crypto-shredding: one data key per subject, on a compacted topic.

Each data key is stored wrapped by the master key (JWE ``A256KW``), keyed by its key id, so every
service process can read the whole ring at start and follow it. Destroying a key writes a
tombstone: readers drop it at once, and compaction removes the wrapped key from the broker's
disks. Only the one writer of a subject (its aggregate's partition) ever creates its key, so a
key id is written once.

An unknown key id is not taken for an erased one until the ring has caught up with the topic:
the writer of a sealed event confirmed its key before the event, so a reader that is up to date
and still lacks the key knows it was destroyed. A broker that does not answer is an error, never
an erasure.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from events import sealing
from events.codec import sealed_subject
from events.envelope import Envelope
from events.topics import KEYS
from services.kit.compacted import CompactedReader
from services.kit.kafka import DeliveryFailed, Producer, new_producer, producer_config
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

WRAP_HEADER = {"alg": "A256KW", "enc": "A256GCM"}
LOAD_TIMEOUT = 60.0


class KeyRingUnavailable(sealing.SealingError):
    """The key topic could not be read up to date: retry later, do not assume an erasure."""


def master_key(settings: Settings) -> OctKey:
    """The key-wrapping key, derived from ``INTERLOCK_MASTER_KEY`` (a KMS would hold it)."""
    secret = settings.master_key.get_secret_value().encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"interlock/keys/v1")
    return OctKey.import_key(derived.derive(secret))


class KafkaKeyRing:
    """A :class:`events.sealing.KeyRing` backed by the ``interlock.keys`` topic."""

    def __init__(self, settings: Settings, *, name: str = "keys") -> None:
        self._settings = settings
        self._master = master_key(settings)
        self._topic = settings.topic(KEYS.name)
        self._keys: dict[str, bytes] = {}
        self._destroyed: set[str] = set()
        self._unwrappable: set[str] = set()
        """Keys whose record this master key cannot unwrap: a configuration error, never an
        erasure."""
        self._reader = CompactedReader(settings, self._topic, self._take, name=f"{name}-ring")
        self._producer: Producer | None = None
        self._write_lock = threading.Lock()

    def start(self) -> KafkaKeyRing:
        """Start following the topic; a look-up before it is loaded catches up on its own."""
        self._reader.start()
        return self

    def wait_loaded(self, timeout: float = LOAD_TIMEOUT) -> bool:
        return self._reader.wait_loaded(timeout)

    def stop(self) -> None:
        self._reader.stop()
        if self._producer is not None:
            self._producer.flush(10)

    def __len__(self) -> int:
        with self._reader.lock:
            return len(self._keys)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        kid = key.decode("utf-8", "replace")
        self._unwrappable.discard(kid)
        if value is None:
            self._keys.pop(kid, None)
            self._destroyed.add(kid)
            return
        try:
            self._keys[kid] = jwe.decrypt_compact(value, self._master).plaintext or b""
            self._destroyed.discard(kid)
        except (JoseError, ValueError) as exc:
            self._unwrappable.add(kid)
            log.error("key record not unwrapped (wrong master key?)", kid=kid, error=str(exc))

    def _lookup(self, kid: str) -> bytes | None:
        """The key, after catching up if it is not known yet; None if it is destroyed."""
        with self._reader.lock:
            key = self._keys.get(kid)
            if key is not None or kid in self._destroyed:
                return key
        if not self._reader.catch_up():
            raise KeyRingUnavailable(f"key {kid!r}: the key topic could not be read up to date")
        with self._reader.lock:
            if kid in self._unwrappable:
                raise KeyRingUnavailable(
                    f"key {kid!r} cannot be unwrapped: INTERLOCK_MASTER_KEY is not the one it "
                    "was wrapped with"
                )
            key = self._keys.get(kid)
            if key is None:
                self._destroyed.add(kid)
            return key

    def opening_key(self, kid: str) -> bytes | None:
        return self._lookup(kid)

    def sealing_key(self, kid: str) -> bytes:
        with self._reader.lock:
            known = self._keys.get(kid)
        if known is None:
            self.prepare([kid])
            with self._reader.lock:
                known = self._keys.get(kid)
        if known is None:
            raise sealing.Erased(kid)
        return known

    def destroyed(self, kid: str) -> bool:
        """Whether this process knows the key to be destroyed (no broker round trip): nothing
        can be sealed with it any more."""
        with self._reader.lock:
            return kid in self._destroyed and kid not in self._keys

    def knows(self, kids: Iterable[str]) -> bool:
        """Whether every key is in memory already (the fast path: nothing to ask the broker)."""
        with self._reader.lock:
            return all(kid in self._keys for kid in kids)

    def prepare(self, kids: Iterable[str]) -> None:
        """Make sure every key exists, creating the missing ones together: one catch-up and one
        broker round trip for a whole batch of new subjects, instead of one each."""
        wanted = set(kids)
        with self._write_lock:
            if not self._reader.catch_up():
                named = ", ".join(sorted(wanted)[:3])
                raise KeyRingUnavailable(
                    f"keys {named}: the key topic could not be read up to date"
                )
            with self._reader.lock:
                missing = sorted(wanted - set(self._keys) - self._destroyed)
            if not missing:
                return
            created = {kid: os.urandom(32) for kid in missing}
            self._write_many([(kid, self._wrap(kid, key)) for kid, key in created.items()])
            with self._reader.lock:
                self._keys.update(created)

    def destroy(self, kid: str) -> None:
        """Shred a subject: tombstone its key, confirmed by the broker."""
        with self._write_lock:
            self._write(kid, None)
            with self._reader.lock:
                self._keys.pop(kid, None)
                self._destroyed.add(kid)
        log.info("data key destroyed", kid=kid)

    def _wrap(self, kid: str, key: bytes) -> bytes:
        return jwe.encrypt_compact({**WRAP_HEADER, "kid": kid}, key, self._master).encode()

    def _write(self, kid: str, value: bytes | None) -> None:
        self._write_many([(kid, value)])

    def _write_many(self, records: list[tuple[str, bytes | None]]) -> None:
        """Write key records and wait until the broker has them all."""
        if self._producer is None:
            self._producer = new_producer(producer_config(self._settings))
        errors: list[str] = []

        def done(err: object, _msg: object) -> None:
            if err is not None:
                errors.append(str(err))

        for kid, value in records:
            self._producer.produce(self._topic, key=kid.encode(), value=value, on_delivery=done)
        if self._producer.flush(30) or errors:
            kids = ", ".join(kid for kid, _ in records[:3])
            raise DeliveryFailed(f"keys {kids} not written: {'; '.join(errors) or 'timeout'}")


async def prepare_keys(envelopes: Iterable[Envelope]) -> None:
    """Create the keys a batch of envelopes will be sealed with, together and off the event loop,
    so that encoding them finds every key in memory."""
    ring = sealing.installed()
    if not isinstance(ring, KafkaKeyRing):
        return
    kids = set()
    for envelope in envelopes:
        subject = sealed_subject(envelope)
        if subject is not None:
            kids.add(sealing.key_id(envelope.jit, subject))
    if kids and not ring.knows(kids):
        await asyncio.to_thread(ring.prepare, kids)


async def shred(jit: str, subjects: Iterable[str]) -> None:
    """Destroy the keys of a JIT's subjects, off the event loop: for a writer whose records are
    sealed with a key of their own that dies with another subject (an operation's conflicts)."""
    ring = sealing.installed()
    if not isinstance(ring, KafkaKeyRing):
        return
    for subject in subjects:
        await asyncio.to_thread(ring.destroy, sealing.key_id(jit, subject))


_ring: KafkaKeyRing | None = None
_ring_lock = threading.Lock()


def install_key_ring(settings: Settings) -> KafkaKeyRing:
    """Start this process's key ring (once) and make the codec seal and open with it."""
    global _ring
    with _ring_lock:
        if _ring is None:
            _ring = KafkaKeyRing(settings).start()
            sealing.install(_ring)
        return _ring
