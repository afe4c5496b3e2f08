"""``GET /jits/{jit}/indicators``: the JIT's indicators for a period, as the viewer may see them.

The facts are read from the indicators' own projection, measured by the pure ``domain`` and cut
down by ``scoping.disclose`` — the one rule every channel that shows indicators goes through.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from neo4j import AsyncDriver
from pydantic import BaseModel, ConfigDict, Field

from events.envelope import ID_PATTERN, TEAM_PATTERN
from events.evaluation import EvaluationSection, WriteEvaluationNote, note_subject
from services.indicators.domain import indicators
from services.indicators.notes import WRITER_ROLES
from services.indicators.scoping import NotPermitted, Viewer, disclose
from services.indicators.store import read_facts, read_notes
from services.kit.identity import Principal
from services.kit.web import (
    ApiError,
    Authorize,
    Bus,
    JitMember,
    build_command,
    command_envelope,
    dispatch,
    refuse,
)

router = APIRouter(tags=["indicators"])

Coordinator = Annotated[Principal, Depends(Authorize(*sorted(WRITER_ROLES)))]
"""A coordinator of the route's JIT, as the directory says."""

DEFAULT_PERIOD = timedelta(days=90)
MAX_PERIOD = timedelta(days=5 * 366)

JitId = Annotated[str, Path(pattern=ID_PATTERN, description="The JIT.")]
From = Annotated[
    datetime | None,
    Query(
        alias="from",
        description="Start of the period (ISO 8601; UTC if no zone). Default: 90 days before `to`.",
    ),
]
To = Annotated[
    datetime | None,
    Query(description="End of the period, exclusive (ISO 8601; UTC if no zone). Default: now."),
]
Team = Annotated[
    str | None,
    Query(
        pattern=TEAM_PATTERN,
        description="Narrow the per-team breakdown to this team (your own, or any for a "
        "coordinator).",
    ),
]


def graph(request: Request) -> AsyncDriver:
    found: AsyncDriver = request.app.state.graph_driver
    return found


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(
        team=principal.team, jits=frozenset(principal.jits), roles=frozenset(principal.roles)
    )


def period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The period asked for, with zones; 422 naming the field if it is empty or reversed."""
    try:
        end = end or datetime.now(UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        start = start or end - DEFAULT_PERIOD
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    except OverflowError:
        raise _bad("query.to", "is too far in the past for the default period") from None
    if start >= end:
        raise _bad("query.from", "must be before `to`")
    if end - start > MAX_PERIOD:
        raise _bad("query.from", f"the period may be at most {MAX_PERIOD.days} days")
    return start, end


def _bad(field: str, message: str) -> ApiError:
    return ApiError(
        422, f"invalid request: {field}: {message}", [{"field": field, "message": message}]
    )


async def shown_indicators(
    request: Request,
    principal: Principal,
    jit: str,
    start: datetime | None,
    end: datetime | None,
    team: str | None,
) -> dict[str, Any]:
    """The indicators ``principal`` may see (403 otherwise): the API, pages and report use it."""
    viewer = viewer_of(principal)
    first, last = period(start, end)
    try:
        facts = await read_facts(graph(request), jit) if jit in viewer.jits else []
        return disclose(indicators(facts, jit=jit, start=first, end=last), viewer, team=team)
    except NotPermitted as exc:
        raise refuse(request, principal, exc.reason) from None


@router.get(
    "/jits/{jit}/indicators",
    summary="The JIT's monitoring and evaluation indicators for a period",
    response_description="Counts, shares and durations (seconds, p50/p90/max); victim figures "
    "over 1–4 items are suppressed outside your own team (see `suppressed`).",
)
async def get_indicators(
    jit: JitId,
    principal: JitMember,
    request: Request,
    start: From = None,
    to: To = None,
    team: Team = None,
) -> dict[str, Any]:
    """Alerts, deconfliction, tasks and legal assistance, victims, leads and data protection,
    for the items opened in ``[from, to)``: the JIT's aggregate and your team's figures
    (a coordinator sees every team's). Definitions: ``docs/indicators.md``."""
    return await shown_indicators(request, principal, jit, start, to, team)


# ------------------------------------------------------------------ evaluation report notes

Section = Annotated[EvaluationSection, Path(description="The part of the evaluation report.")]
FirstDay = Annotated[date, Query(alias="from", description="First day of the report's period.")]
LastDay = Annotated[date, Query(alias="to", description="Last day of the period (inclusive).")]


class NoteIn(BaseModel):
    """The coordinator's assessment of one part of the report, for a period."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    period_from: date = Field(alias="from", description="First day of the report's period.")
    period_to: date = Field(alias="to", description="Last day of the period (inclusive).")
    text: str = Field(min_length=1, max_length=10_000, description="No personal data.")


@router.put(
    "/jits/{jit}/evaluation/notes/{section}",
    summary="Write the coordinator's assessment of one part of the evaluation report",
    responses={403: {"description": "Not a coordinator of the JIT."}},
)
async def write_evaluation_note(
    jit: JitId,
    section: Section,
    body: NoteIn,
    principal: Coordinator,
    bus: Bus,
    request: Request,
) -> JSONResponse:
    """Stored as a command (``interlock.evaluation.write_note``) and its event; writing again
    replaces the text. Coordinators only."""
    command = build_command(
        WriteEvaluationNote,
        actor=principal.actor(),
        jit=jit,
        section=section,
        period_from=body.period_from,
        period_to=body.period_to,
        text=body.text,
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=note_subject(jit, section.value, body.period_from, body.period_to),
        request=request,
    )
    return await dispatch(bus, envelope, request=request)


@router.get(
    "/jits/{jit}/evaluation/notes",
    summary="The coordinator's assessments of the evaluation report for a period",
)
async def get_evaluation_notes(
    jit: JitId, first: FirstDay, last: LastDay, principal: JitMember, request: Request
) -> dict[str, Any]:
    """The latest text of each part of the report of ``[from, to]``, with who wrote it."""
    found = await read_notes(graph(request), jit, first.isoformat(), last.isoformat())
    return {"items": found}
