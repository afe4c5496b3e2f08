"""The coordinator's assessments for the evaluation report, as a pure aggregate: one note per
JIT, period and part of the report; writing it again replaces the text (a new version)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.envelope import Addressed, Command, Event
from events.evaluation import EvaluationNoteWritten, WriteEvaluationNote
from events.outcomes import Rejected

WRITER_ROLES = frozenset({"coordinator"})
"""Who may write the report's assessments: the JIT's coordinators."""


class NoteState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jit: str
    version: int = 0


def decide(state: NoteState | None, command: Command, *, now: datetime) -> list[Event | Addressed]:
    """The note written, or Rejected: only a coordinator writes the report's assessments."""
    if not isinstance(command, WriteEvaluationNote):
        raise Rejected(422, f"the evaluation notes do not handle {command.type}")
    if not WRITER_ROLES.intersection(command.actor.roles):
        raise Rejected(403, "only a coordinator of the JIT writes the evaluation's assessments")
    return [
        EvaluationNoteWritten(
            jit=command.jit,
            section=command.section,
            period_from=command.period_from,
            period_to=command.period_to,
            text=command.text,
            by=command.actor.member,
            team=command.actor.team,
            at=now,
            version=(state.version if state else 0) + 1,
        )
    ]


def evolve(state: NoteState | None, event: Event) -> NoteState:
    if not isinstance(event, EvaluationNoteWritten):
        raise TypeError(f"{event.type} is not an evaluation note event")
    return NoteState(jit=event.jit, version=event.version)
