"""The leads service's faust wiring: lead commands in, lead events and outcomes out."""

from __future__ import annotations

from typing import Any

import faust

from events.envelope import Envelope
from events.retention import SubjectKind
from events.topics import LEAD_COMMANDS
from services.kit.settings import Settings
from services.kit.streams import Domain, command_processor, create_app
from services.leads import domain
from services.leads.domain import LeadState

SOURCE = "/interlock/leads"

LEADS = Domain(
    name="lead",
    state_model=LeadState,
    decide=domain.decide,
    evolve=domain.evolve,
    source=SOURCE,
    rejected_events=domain.rejected_events,
)


def _context(cause: Envelope) -> dict[str, Any]:
    return {"jit": cause.jit}


def build(settings: Settings) -> faust.App:
    """The leads worker: one writer per lead, state in a changelog-backed table."""
    app = create_app("leads", settings)
    command_processor(
        app,
        settings,
        domain=LEADS,
        commands=LEAD_COMMANDS,
        context=_context,
        erasable=SubjectKind.LEAD,
    )
    return app
