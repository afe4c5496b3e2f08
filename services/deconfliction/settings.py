"""Settings of the deconfliction worker (``INTERLOCK_DECONFLICTION_*``), besides the shared ones.

The master secret is the shared ``INTERLOCK_DECONFLICTION_SECRET`` (``Settings``); here are the
key ring (which key versions are live), the fuzzy-matching threshold and the worker's timers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.deconfliction.fuzzy import DEFAULT_THRESHOLD
from services.deconfliction.tokens import KeyRing
from services.kit.settings import read_settings


class DeconflictionSettings(BaseSettings):
    """The key ring, the fuzzy threshold, and how often the worker's timers run."""

    model_config = SettingsConfigDict(
        env_prefix="INTERLOCK_DECONFLICTION_", extra="ignore", frozen=True
    )

    key_version: int = Field(default=1, ge=1, description="The current key version.")
    previous_key_version: int | None = Field(
        default=None,
        ge=1,
        description="The version rotated away from; live until rotated_at + grace_days.",
    )
    rotated_at: AwareDatetime | None = Field(
        default=None, description="When the current version replaced the previous one."
    )
    grace_days: float = Field(
        default=30.0,
        gt=0,
        le=365,
        description="How long the previous key version stays live after a rotation.",
    )
    fuzzy_threshold: float = Field(
        default=DEFAULT_THRESHOLD,
        gt=0,
        le=1,
        description="Dice score at or above which two name encodings are a possible hit.",
    )
    expiry_check_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="How often the worker looks for index entries under retired key versions.",
    )
    directory_wait_seconds: float = Field(
        default=3.0,
        ge=0,
        le=60,
        description="How long a record that names a JIT or desk the directory view lacks waits "
        "for the view to catch up with the directory topic.",
    )
    session_timeout_seconds: float = Field(
        default=10.0,
        ge=6,
        le=300,
        description="How long Kafka waits for a silent worker before giving its partitions to "
        "another.",
    )
    store: Literal["memory://", "rocksdb://"] = Field(
        default="memory://",
        description="Where the index tables live: memory (rebuilt from the changelog at start) "
        "or RocksDB on local disk (needs the rocksdict package).",
    )

    @model_validator(mode="after")
    def _rotation(self) -> DeconflictionSettings:
        if self.previous_key_version is not None:
            if self.previous_key_version >= self.key_version:
                raise ValueError(
                    "INTERLOCK_DECONFLICTION_PREVIOUS_KEY_VERSION must be below "
                    "INTERLOCK_DECONFLICTION_KEY_VERSION"
                )
            if self.rotated_at is None:
                raise ValueError(
                    "INTERLOCK_DECONFLICTION_ROTATED_AT is required with a previous key version"
                )
        return self

    def key_ring(self) -> KeyRing:
        """The key ring these settings describe."""
        return KeyRing(
            current_version=self.key_version,
            previous_version=self.previous_key_version,
            rotated_at=self.rotated_at,
            grace=timedelta(days=self.grace_days),
        )


def load_deconfliction_settings() -> DeconflictionSettings:
    """Read the deconfliction settings; a bad value stops the worker naming the variable."""
    return read_settings(DeconflictionSettings)
