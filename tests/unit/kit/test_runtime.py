"""The one failure policy of the workers, one test per failure class."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from events.codec import InvalidEvent
from services.kit.kafka import DeliveryFailed
from services.kit.runtime import (
    STOPPED_EXIT_CODE,
    Failure,
    Poison,
    Policy,
    Refused,
    WorkerStopped,
    classify,
    in_batches,
)


class Stops:
    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


def policy(stops: Stops, attempts: int = 4) -> Policy:
    return Policy(first_delay=0, max_delay=0, attempts=attempts, stop=stops)


class Flaky:
    """A publish step that fails ``failures`` times with ``error``, then succeeds."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "sent"


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    async def __call__(self, reason: str, fields: Sequence[str]) -> None:
        self.sent.append((reason, tuple(fields)))


def test_retriable_publish_error_is_retried_until_it_succeeds() -> None:
    """A publish the broker did not confirm (retriable) is tried again, with nothing stopped."""
    stops = Stops()
    step = Flaky(2, DeliveryFailed("leader moving"))
    assert asyncio.run(policy(stops).retrying("events", step)) == "sent"
    assert step.calls == 3
    assert stops.codes == []


def test_retriable_publish_error_past_the_bound_stops_the_worker() -> None:
    """A broker away longer than the bound stops the worker (nothing is acknowledged)."""
    stops = Stops()
    step = Flaky(10, DeliveryFailed("broker down"))
    with pytest.raises(WorkerStopped):
        asyncio.run(policy(stops, attempts=3).retrying("events", step))
    assert step.calls == 3
    assert stops.codes == [STOPPED_EXIT_CODE]


@pytest.mark.parametrize(
    "error",
    [
        Poison("subject is not the command's subject_id", ["subject"]),
        InvalidEvent("data.summary: too long", ["data.summary"]),
    ],
)
def test_poison_record_is_dead_lettered_with_the_reason_and_the_worker_goes_on(
    error: Exception,
) -> None:
    """A record no one can handle goes to the dead-letter topic with its reason and fields."""
    stops = Stops()
    dead = DeadLetters()

    async def handle() -> str:
        raise error

    assert asyncio.run(policy(stops).guarded("command", handle, dead)) is None
    assert len(dead.sent) == 1
    reason, fields = dead.sent[0]
    assert str(error) in reason or reason in str(error)
    assert fields
    assert stops.codes == []


def test_unexpected_exception_stops_the_worker_loudly_and_dead_letters_nothing() -> None:
    """A bug is not hidden in the dead-letter topic: the worker stops, its supervisor restarts
    it, and the record, not acknowledged, is handled again."""
    stops = Stops()
    dead = DeadLetters()

    async def handle() -> str:
        return {}["missing"]  # type: ignore[no-any-return]

    with pytest.raises(WorkerStopped):
        asyncio.run(policy(stops).guarded("command", handle, dead))
    assert dead.sent == []
    assert stops.codes == [STOPPED_EXIT_CODE]
    assert classify(KeyError("x")) is Failure.FATAL


def test_broker_refusal_dead_letters_only_the_refused_record() -> None:
    """Outputs the broker refuses for good (too large) are not retried: the batch is split and
    only the record whose outputs were refused is dead-lettered, with the refusal, once."""
    stops = Stops()
    pol = policy(stops)
    done: list[str] = []
    dead: list[tuple[str, str]] = []
    too_large = DeliveryFailed("events: Broker: Message size too large", retriable=False)
    assert classify(too_large) is Failure.REFUSED

    async def run(records: Sequence[str]) -> None:
        async def publish() -> None:
            if "huge" in records:
                raise too_large

        await pol.retrying("events", publish)
        done.extend(records)

    async def dead_letter(record: str, reason: str) -> None:
        dead.append((record, reason))

    asyncio.run(in_batches(["a", "huge", "b"], run, dead_letter, policy=pol))
    assert done == ["a", "b"]
    assert dead == [("huge", "the broker refused the outputs: " + str(too_large))]
    assert stops.codes == []


def test_a_refusal_is_not_retried() -> None:
    """A refused publish is raised at once as a refusal, not tried again."""
    stops = Stops()
    step = Flaky(5, DeliveryFailed("not authorised", retriable=False))
    with pytest.raises(Refused):
        asyncio.run(policy(stops).retrying("events", step))
    assert step.calls == 1
