"""The messaging service's faust wiring: thread commands in, message events and outcomes out."""

from __future__ import annotations

from typing import Any

import faust

from events.envelope import Envelope
from events.topics import MESSAGE_COMMANDS
from services.kit.settings import Settings
from services.kit.streams import Domain, command_processor, create_app
from services.messaging import domain
from services.messaging.domain import ThreadState

SOURCE = "/interlock/messaging"

THREADS = Domain(
    name="thread",
    state_model=ThreadState,
    decide=domain.decide,
    evolve=domain.evolve,
    source=SOURCE,
)


def _context(cause: Envelope) -> dict[str, Any]:
    return {"jit": cause.jit}


def build(settings: Settings) -> faust.App:
    """The messaging worker: one writer per thread, state in a changelog-backed table."""
    app = create_app("messaging", settings)
    command_processor(app, settings, domain=THREADS, commands=MESSAGE_COMMANDS, context=_context)
    return app
