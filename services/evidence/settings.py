"""Settings of the evidence service (``INTERLOCK_EVIDENCE_*``), besides the shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.settings import read_settings

GIB = 1024**3


class EvidenceSettings(BaseSettings):
    """Where sealed files are kept and how large a JIT lets one be."""

    model_config = SettingsConfigDict(env_prefix="INTERLOCK_EVIDENCE_", extra="ignore", frozen=True)

    dir: str = Field(
        default=".data/evidence",
        description="Root of the filesystem blob store (sealed blobs and uploads in progress).",
    )
    max_bytes: int = Field(
        default=4 * GIB, gt=0, description="Largest file a JIT accepts unless it says otherwise."
    )
    jit_max_bytes: dict[str, int] = Field(
        default_factory=dict,
        description='Per-JIT limits, JSON: {"jit-1": 1073741824}.',
    )

    def limit(self, jit: str) -> int:
        return self.jit_max_bytes.get(jit, self.max_bytes)


def evidence_settings() -> EvidenceSettings:
    return read_settings(EvidenceSettings)
