"""The dead-letter record: a raw record nobody could handle, kept with the reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class DeadLetter(BaseModel):
    """What went to the dead-letter topic, and why. ``value`` is the raw record, base64."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str
    reason: str
    fields: tuple[str, ...] = ()
    time: datetime
