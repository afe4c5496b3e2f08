"""``GET /jits/{jit}/indicators``: the JIT's indicators for a period, as the viewer may see them.

The facts are read from the indicators' own projection, measured by the pure ``domain`` and cut
down by ``scoping.disclose`` — the one rule every channel that shows indicators goes through.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from neo4j import AsyncDriver

from events.envelope import ID_PATTERN, TEAM_PATTERN
from services.indicators.domain import indicators
from services.indicators.scoping import NotPermitted, Viewer, disclose
from services.indicators.store import read_facts
from services.kit.identity import Principal
from services.kit.web import ApiError, Caller, refuse

router = APIRouter(tags=["indicators"])

DEFAULT_PERIOD = timedelta(days=90)

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
    end = end or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    start = start or end - DEFAULT_PERIOD
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if start >= end:
        raise ApiError(
            422,
            "invalid request: query.from: must be before `to`",
            [{"field": "query.from", "message": "must be before `to`"}],
        )
    return start, end


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
    principal: Caller,
    request: Request,
    start: From = None,
    to: To = None,
    team: Team = None,
) -> dict[str, Any]:
    """Alerts, deconfliction, tasks and legal assistance, victims, leads and data protection,
    for the items opened in ``[from, to)``: the JIT's aggregate and your team's figures
    (a coordinator sees every team's). Definitions: ``docs/indicators.md``."""
    return await shown_indicators(request, principal, jit, start, to, team)
