"""Settings of the retention worker (``INTERLOCK_RETENTION_*``), besides the shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.settings import read_settings


class RetentionSettings(BaseSettings):
    """How often subjects are checked for a due reminder or erasure."""

    model_config = SettingsConfigDict(
        env_prefix="INTERLOCK_RETENTION_", extra="ignore", frozen=True
    )

    check_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="How often the timer looks for subjects whose reminder or erasure is due; "
        "periods are days, so a minute is early enough.",
    )


def load_retention_settings() -> RetentionSettings:
    """Read the retention settings; a bad value stops the worker naming the variable."""
    return read_settings(RetentionSettings)
