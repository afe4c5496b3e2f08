"""JIT evaluation: the coordinator's written assessment of one part of the evaluation report.

The figures of the report are computed from the log (the indicators); the assessment is what a
coordinator writes about them, part by part, for a period. Writing it again replaces it: the
report shows the latest text of each part, with who wrote it and when. It is evaluation text
about the team's cooperation and must hold no personal data.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from events.envelope import ID_PATTERN, Command, Event
from events.registry import CatalogueEntry
from events.topics import EVALUATION_COMMANDS, EVALUATION_EVENTS

RefId = Annotated[str, Field(pattern=ID_PATTERN)]


class EvaluationSection(StrEnum):
    """The parts of the JITs Network's evaluation form the report follows."""

    COMPOSITION = "composition"
    COOPERATION = "cooperation"
    INFORMATION_EXCHANGE = "information_exchange"
    OPERATIONAL_RESULTS = "operational_results"
    VICTIMS = "victims"
    LESSONS = "lessons"


class WriteEvaluationNote(Command):
    """Write (or rewrite) the assessment of one part of the report for a period; coordinators."""

    type = "interlock.evaluation.write_note"

    jit: RefId
    section: EvaluationSection
    period_from: date
    period_to: date = Field(description="Last day of the period, inclusive.")
    text: str = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _ordered(self) -> WriteEvaluationNote:
        if self.period_to < self.period_from:
            raise ValueError("period_to is before period_from")
        return self


class EvaluationNoteWritten(Event):
    type = "interlock.evaluation.note_written"

    jit: str
    section: EvaluationSection
    period_from: date
    period_to: date
    text: str
    by: str
    team: str
    at: datetime
    version: int = Field(default=1, ge=1, description="1 for the first text of this part.")


def note_subject(jit: str, section: str, period_from: date, period_to: date) -> str:
    """The aggregate a note is: one JIT, one part, one period."""
    return f"{jit}:{period_from.isoformat()}:{period_to.isoformat()}:{section}"


ENTRIES = (
    CatalogueEntry(WriteEvaluationNote, EVALUATION_COMMANDS),
    CatalogueEntry(EvaluationNoteWritten, EVALUATION_EVENTS),
)
