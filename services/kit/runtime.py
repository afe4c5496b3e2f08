"""The one failure policy of every worker: what happens when handling a record goes wrong.

Every worker runs records through the same guarantee (outputs confirmed by the broker, then state
written, then outcomes sent, then offsets acknowledged) and meets the same four kinds of failure;
each has one answer, written here once:

============================ ============================================================
retriable (the broker is      retry with backoff, up to a bound (``Policy``); past the bound
away, a leader is moving)     the worker stops loudly (a restart re-reads what was not acked)
poison (a record no one can   dead-letter it with the reason and go on with the next record
handle: undecodable, invalid,
misaddressed)
broker refusal (the broker    the outputs can never be written: the records that caused them
refuses the outputs for good: are dead-lettered with the refusal, each alone (a batch is split
too large, not authorised)    so that one record's refusal does not dead-letter the others)
anything else (a bug, an      stop the worker loudly: its supervisor restarts it, and nothing
outage of a dependency)       that was not done was acknowledged, so nothing is lost
============================ ============================================================
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from aiokafka.errors import KafkaError as AioKafkaError
from confluent_kafka import KafkaException
from faust.exceptions import ProducerSendError
from pydantic import ValidationError

from events.codec import InvalidEvent
from services.kit.kafka import DeliveryFailed
from services.kit.logging import get_logger

log = get_logger()

T = TypeVar("T")

STOPPED_EXIT_CODE = 70
"""The exit code of a worker stopped by the policy (EX_SOFTWARE): its supervisor restarts it."""


class Failure(StrEnum):
    RETRIABLE = "retriable"
    POISON = "poison"
    REFUSED = "refused"
    FATAL = "fatal"


class Poison(Exception):
    """A record no retry will mend: dead-letter it with the reason and the fields at fault."""

    def __init__(self, reason: str, fields: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = tuple(fields)


class Refused(Exception):
    """The broker refused a record for good (retrying cannot mend it)."""


class WorkerStopped(BaseException):
    """Raised where the worker must stop (a BaseException: no ``except Exception`` swallows it)."""


def classify(exc: BaseException) -> Failure:
    """Which of the four failures ``exc`` is."""
    if isinstance(exc, Poison | InvalidEvent | ValidationError):
        return Failure.POISON
    if isinstance(exc, Refused):
        return Failure.REFUSED
    if isinstance(exc, DeliveryFailed):
        return Failure.RETRIABLE if exc.retriable else Failure.REFUSED
    if isinstance(exc, KafkaException):
        error = exc.args[0] if exc.args else None
        retriable = bool(getattr(error, "retriable", lambda: True)())
        return Failure.RETRIABLE if retriable else Failure.REFUSED
    if isinstance(exc, AioKafkaError | ProducerSendError | OSError | TimeoutError):
        return Failure.RETRIABLE
    return Failure.FATAL


def poison_reason(exc: BaseException) -> tuple[str, tuple[str, ...]]:
    """The reason and fields a dead letter records for a poison or refused record."""
    if isinstance(exc, Poison):
        return exc.reason, exc.fields
    if isinstance(exc, InvalidEvent):
        return exc.reason, tuple(exc.fields)
    if isinstance(exc, ValidationError):
        fields = tuple(".".join(str(p) for p in e["loc"]) for e in exc.errors(include_url=False))
        return f"invalid: {str(exc)[:500]}", fields
    return f"{type(exc).__name__}: {str(exc)[:500]}", ()


def _exit(code: int) -> NoReturn:
    sys.stderr.flush()
    os._exit(code)


@dataclass(frozen=True)
class Policy:
    """The bounds of the one failure policy."""

    first_delay: float = 0.2
    max_delay: float = 5.0
    attempts: int = 12
    """Tries of a retriable step before the worker stops (about 40 s of backoff in all)."""
    stop: Callable[[int], Any] = _exit
    """How the worker stops: the process exits (tests pass a function that raises)."""

    def halt(self, what: str, exc: BaseException) -> NoReturn:
        """Stop the worker loudly; its supervisor restarts it and unacknowledged work is redone."""
        log.critical("worker stopping", what=what, error=f"{type(exc).__name__}: {str(exc)[:500]}")
        self.stop(STOPPED_EXIT_CODE)
        raise WorkerStopped(what) from exc

    async def retrying(self, what: str, step: Callable[[], Awaitable[T]]) -> T:
        """Run ``step``; a retriable failure is retried with backoff up to the bound, a refusal is
        raised as :class:`Refused`, a poison record is raised as it is, anything else (and a
        retriable failure past the bound) stops the worker."""
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return await step()
            except Exception as exc:
                kind = classify(exc)
                if kind is Failure.REFUSED:
                    raise Refused(str(exc)[:500]) from exc
                if kind is Failure.POISON:
                    raise
                if kind is Failure.FATAL or attempt == self.attempts:
                    self.halt(what, exc)
                log.error(
                    "step failed; retrying",
                    what=what,
                    attempt=attempt,
                    delay=delay,
                    error=str(exc)[:300],
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def guarded(
        self,
        what: str,
        step: Callable[[], Awaitable[T]],
        dead_letter: Callable[[str, Sequence[str]], Awaitable[None]],
    ) -> T | None:
        """Handle one record: a poison record (or one whose outputs the broker refuses) is
        dead-lettered with the reason and None returned; anything else stops the worker."""
        try:
            return await step()
        except Exception as exc:  # noqa: BLE001 - the policy is the one place that classifies
            kind = classify(exc)
            if kind in (Failure.POISON, Failure.REFUSED):
                reason, fields = poison_reason(exc)
                await self.retrying(f"dead-letter ({what})", lambda: dead_letter(reason, fields))
                return None
            self.halt(what, exc)


POLICY = Policy()
"""The policy every worker runs under."""


async def in_batches(
    records: Sequence[T],
    run: Callable[[Sequence[T]], Awaitable[None]],
    dead_letter: Callable[[T, str], Awaitable[None]],
    *,
    policy: Policy = POLICY,
) -> None:
    """Run a batch; when the broker refuses its outputs, run its records one at a time, so only
    the record whose outputs are refused is dead-lettered (with the refusal), once, alone."""
    try:
        await run(records)
    except Refused as refusal:
        if len(records) > 1:
            log.warning("batch refused by the broker; split", records=len(records))
            for record in records:
                await in_batches([record], run, dead_letter, policy=policy)
            return
        reason = f"the broker refused the outputs: {refusal}"
        await policy.retrying("dead-letter (refused)", lambda: dead_letter(records[0], reason))
