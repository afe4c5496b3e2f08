"""A batch's confirmation settles once: when the last record is acknowledged, or at the first
refusal; a worker must never report a batch written that the broker refused part of."""

from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import KafkaError

from services.kit.kafka import DeliveryFailed, _Confirmation


class _Record:
    def topic(self) -> str:
        return "interlock.leads.events"


async def _let_callbacks_run() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_the_batch_is_confirmed_only_when_every_record_is() -> None:
    confirmation = _Confirmation(asyncio.get_running_loop(), 3)
    confirmation.report(None, _Record())  # type: ignore[arg-type]
    confirmation.report(None, _Record())  # type: ignore[arg-type]
    await _let_callbacks_run()
    assert not confirmation.future.done()
    confirmation.report(None, _Record())  # type: ignore[arg-type]
    await asyncio.wait_for(confirmation.future, 1)


async def test_one_refused_record_fails_the_batch_whatever_follows() -> None:
    confirmation = _Confirmation(asyncio.get_running_loop(), 3)
    confirmation.report(None, _Record())  # type: ignore[arg-type]
    confirmation.report(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE), _Record())  # type: ignore[arg-type]
    confirmation.report(None, _Record())  # type: ignore[arg-type]
    with pytest.raises(DeliveryFailed, match=r"interlock\.leads\.events"):
        await asyncio.wait_for(confirmation.future, 1)


async def test_an_empty_batch_is_confirmed_at_once() -> None:
    confirmation = _Confirmation(asyncio.get_running_loop(), 0)
    assert confirmation.future.done()
    await confirmation.future
