"""Command outcomes: how a service tells the gateway what became of a command."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.envelope import Event
from events.registry import CatalogueEntry
from events.topics import OUTCOMES


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    message: str


class CommandAccepted(Event):
    """The command was applied; ``events`` are the ids of the events it produced."""

    type = "interlock.command.accepted"

    command_type: str
    command_id: str
    events: tuple[str, ...] = ()
    status: Literal[200, 201] = 201


class CommandRejected(Event):
    """The command was refused and nothing was written; ``reason`` says why."""

    type = "interlock.command.rejected"

    command_type: str
    command_id: str
    status: Literal[400, 403, 404, 409, 410, 422]
    reason: str = Field(min_length=1)
    errors: tuple[FieldError, ...] = ()


ENTRIES = (
    CatalogueEntry(CommandAccepted, OUTCOMES, key="correlation_id"),
    CatalogueEntry(CommandRejected, OUTCOMES, key="correlation_id"),
)


class Rejected(Exception):
    """Raised by a domain ``decide`` to refuse a command; becomes a CommandRejected outcome.

    ``status`` follows HTTP: 403 not allowed for this team or role, 404 no such aggregate
    (or not visible), 409 not in a state that allows it, 410 erased (its data is gone), 422
    invalid content.
    """

    def __init__(
        self,
        status: Literal[400, 403, 404, 409, 410, 422],
        reason: str,
        errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(reason)
        self.status: Literal[400, 403, 404, 409, 410, 422] = status
        self.reason = reason
        self.errors = errors
