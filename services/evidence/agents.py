"""The evidence service's faust wiring: custody commands in, custody events and outcomes out."""

from __future__ import annotations

from typing import Any

import faust

from events.envelope import Envelope
from events.topics import EVIDENCE_COMMANDS
from services.evidence import domain
from services.evidence.domain import EvidenceState
from services.kit.settings import Settings
from services.kit.streams import Domain, command_processor, create_app

SOURCE = "/interlock/evidence"

EVIDENCE = Domain(
    name="evidence",
    state_model=EvidenceState,
    decide=domain.decide,
    evolve=domain.evolve,
    source=SOURCE,
)


def _context(cause: Envelope) -> dict[str, Any]:
    return {"jit": cause.jit}


def build(settings: Settings) -> faust.App:
    """The evidence worker: one writer per item, state in a changelog-backed table."""
    app = create_app("evidence", settings)
    command_processor(app, settings, domain=EVIDENCE, commands=EVIDENCE_COMMANDS, context=_context)
    return app
