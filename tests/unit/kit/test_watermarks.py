"""A partition whose leader is still being elected is waited for, not reported as a failure."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from services.kit.kafka import watermarks


class Answers:
    """Hands out the broker's answers in order: an error to raise or the offsets to return."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked = 0

    def get_watermark_offsets(self, *_: Any, **__: Any) -> tuple[int, int]:
        self.asked += 1
        answer = self.answers.pop(0)
        if isinstance(answer, KafkaError):
            raise KafkaException(answer)
        return answer  # type: ignore[no-any-return]


def test_a_new_partition_without_leader_is_asked_again() -> None:
    broker = Answers(
        KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION),
        KafkaError(KafkaError.LEADER_NOT_AVAILABLE),
        (0, 7),
    )
    assert watermarks(broker, "feed", 0, timeout=5) == (0, 7)  # type: ignore[arg-type]
    assert broker.asked == 3


def test_a_lasting_error_is_raised_once_the_time_is_up() -> None:
    broker = Answers(*[KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)] * 1000)
    with pytest.raises(KafkaException):
        watermarks(broker, "feed", 0, timeout=0.3)  # type: ignore[arg-type]


def test_an_error_that_waiting_cannot_cure_is_raised_at_once() -> None:
    broker = Answers(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED), (0, 1))
    with pytest.raises(KafkaException):
        watermarks(broker, "feed", 0, timeout=5)  # type: ignore[arg-type]
    assert broker.asked == 1
