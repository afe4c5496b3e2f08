"""Settings of the tasking worker (``INTERLOCK_TASKING_*``), besides the shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.settings import read_settings


class TaskingSettings(BaseSettings):
    """How often deadlines are checked, and how fast a dead worker's tasks move elsewhere."""

    model_config = SettingsConfigDict(env_prefix="INTERLOCK_TASKING_", extra="ignore", frozen=True)

    deadline_check_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often the timer looks for tasks past their response or due time.",
    )
    session_timeout_seconds: float = Field(
        default=10.0,
        ge=6,
        le=300,
        description="How long Kafka waits for a silent worker before giving its tasks to "
        "another; a killed worker's tasks resume after at most this long.",
    )


def load_tasking_settings() -> TaskingSettings:
    """Read the tasking settings; a bad value stops the worker naming the variable."""
    return read_settings(TaskingSettings)
