"""Team-scoped read API over the graph: every handler checks the caller's JIT membership and
passes the caller's team (and, for a later issue, the purpose of the read) to the views."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from events.leads import InformationCredibility, LeadStatus, SourceReliability, SourceType
from events.tasking import TaskStatus
from services.kit.logging import get_logger
from services.kit.web import ApiError, Caller, member_of
from services.projection.export import ExportError, ftm_entities
from services.projection.views import Area, GraphViews, ScopeViolationError

log = get_logger()
router = APIRouter(tags=["views"])

T = TypeVar("T")

Purpose = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Why personal data is read. Optional now; a later release will require it.",
    ),
]
Since = Annotated[datetime | None, Query(description="From this time (ISO 8601; UTC if no zone).")]
Until = Annotated[
    datetime | None, Query(description="Before this time (ISO 8601; UTC if no zone).")
]


def views(request: Request) -> GraphViews:
    found: GraphViews = request.app.state.views
    return found


def aware(value: datetime | None) -> datetime | None:
    """A query time with its zone; a time without one is read as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def guarded(request: Request, team: str, read: Awaitable[T]) -> T:
    """Await a view; a scope violation (a bug) is logged and answered with a bare 500."""
    try:
        return await read
    except ScopeViolationError as exc:
        log.error("scope violation withheld", team=team, path=request.url.path, error=str(exc))
        raise ApiError(500, "internal error: the view was withheld") from None


@router.get("/jits/{jit}/leads/{lead_id}", summary="A lead your team may see")
async def get_lead(
    jit: str, lead_id: str, request: Request, principal: Caller, purpose: Purpose = None
) -> dict[str, Any]:
    """The lead with the persons, identifiers and links your team may see; 404 if it may not."""
    member_of(request, principal, jit)
    lead = await guarded(
        request,
        principal.team,
        views(request).lead(team=principal.team, jit=jit, lead_id=lead_id, purpose=purpose),
    )
    if lead is None:
        raise ApiError(404, f"no lead {lead_id} visible to team {principal.team} in JIT {jit}")
    return lead


@router.get("/jits/{jit}/leads", summary="Leads your team may see")
async def list_leads(
    jit: str,
    request: Request,
    principal: Caller,
    status: Annotated[list[LeadStatus] | None, Query()] = None,
    source: Annotated[list[SourceType] | None, Query()] = None,
    reliability: Annotated[list[SourceReliability] | None, Query()] = None,
    credibility: Annotated[list[InformationCredibility] | None, Query()] = None,
    received_from: Since = None,
    received_until: Until = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the summary.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Leads of the JIT visible to your team, newest first, filtered by status, source, grading,
    date received and text."""
    member_of(request, principal, jit)
    items = await guarded(
        request,
        principal.team,
        views(request).leads(
            team=principal.team,
            jit=jit,
            status=[s.value for s in status] if status else None,
            source=[s.value for s in source] if source else None,
            reliability=[r.value for r in reliability] if reliability else None,
            credibility=[c.value for c in credibility] if credibility else None,
            received_from=aware(received_from),
            received_until=aware(received_until),
            text=q,
            limit=limit,
            purpose=purpose,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/tasks/{task_id}", summary="A task your team may see")
async def get_task(
    jit: str, task_id: str, request: Request, principal: Caller, purpose: Purpose = None
) -> dict[str, Any]:
    """The task and the leads, entities and operations it links that your team may see; 404 if
    your team may not see it."""
    member_of(request, principal, jit)
    task = await guarded(
        request,
        principal.team,
        views(request).task(team=principal.team, jit=jit, task_id=task_id, purpose=purpose),
    )
    if task is None:
        raise ApiError(404, f"no task {task_id} visible to team {principal.team} in JIT {jit}")
    return task


@router.get("/jits/{jit}/tasks", summary="Tasks your team may see")
async def list_tasks(
    jit: str,
    request: Request,
    principal: Caller,
    view: Annotated[
        Literal["mine", "team", "requested", "overdue"] | None,
        Query(
            description="mine: assigned to you; team: asked of your team; requested: asked by "
            "your team; overdue: a missed deadline still unmet. All visible tasks if absent."
        ),
    ] = None,
    status: Annotated[list[TaskStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Tasks of the JIT visible to your team, newest first."""
    member_of(request, principal, jit)
    items = await guarded(
        request,
        principal.team,
        views(request).tasks(
            team=principal.team,
            jit=jit,
            member=principal.member,
            view=view,
            status=[s.value for s in status] if status else None,
            limit=limit,
            purpose=purpose,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/persons/{person_id}", summary="A person's card")
async def person_card(
    jit: str, person_id: str, request: Request, principal: Caller, purpose: Purpose = None
) -> dict[str, Any]:
    """The person (a pseudonym if a victim of another team) with the identifiers, leads,
    operations, tasks, deconfliction hits and alerts your team may see."""
    member_of(request, principal, jit)
    card = await guarded(
        request,
        principal.team,
        views(request).card(team=principal.team, jit=jit, person_id=person_id, purpose=purpose),
    )
    if card is None:
        raise ApiError(404, f"no person {person_id} visible to team {principal.team} in JIT {jit}")
    return card


@router.get("/jits/{jit}/persons/{person_id}/network", summary="The network around a person")
async def person_network(
    jit: str,
    person_id: str,
    request: Request,
    principal: Caller,
    depth: Annotated[int, Query(ge=1, le=3)] = 2,
    max_nodes: Annotated[int, Query(ge=1, le=1000)] = 300,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Nodes and edges within ``depth`` hops, over what your team may see, for a graph view."""
    member_of(request, principal, jit)
    graph = await guarded(
        request,
        principal.team,
        views(request).network(
            team=principal.team,
            jit=jit,
            person_id=person_id,
            depth=depth,
            max_nodes=max_nodes,
            purpose=purpose,
        ),
    )
    if graph is None:
        raise ApiError(404, f"no person {person_id} visible to team {principal.team} in JIT {jit}")
    return graph


@router.get("/jits/{jit}/paths", summary="Shortest path between two persons")
async def shortest_path(
    jit: str,
    request: Request,
    principal: Caller,
    source: Annotated[str, Query(alias="from", description="A person id.")],
    target: Annotated[str, Query(alias="to", description="A person id.")],
    max_length: Annotated[int, Query(ge=1, le=8)] = 8,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """The shortest chain of what your team may see between two persons; 404 if there is none."""
    member_of(request, principal, jit)
    found = await guarded(
        request,
        principal.team,
        views(request).path(
            team=principal.team,
            jit=jit,
            from_id=source,
            to_id=target,
            max_length=max_length,
            purpose=purpose,
        ),
    )
    if found is None:
        raise ApiError(404, f"no path your team may see between {source} and {target}")
    return found


@router.get("/jits/{jit}/operations", summary="Operations in a time window and area")
async def list_operations(
    jit: str,
    request: Request,
    principal: Caller,
    since: Since = None,
    until: Until = None,
    min_lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    min_lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    max_lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    max_lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_m: Annotated[float | None, Query(gt=0, le=1_000_000)] = None,
    include_cancelled: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Operations your team may see whose window meets [since, until] and whose place meets a
    bounding box (min_lat, min_lon, max_lat, max_lon) or a circle (lat, lon, radius_m)."""
    member_of(request, principal, jit)
    box = (min_lat, min_lon, max_lat, max_lon)
    if any(v is not None for v in box) and any(v is None for v in box):
        raise ApiError(
            422,
            "a bounding box needs min_lat, min_lon, max_lat and max_lon",
            [{"field": "query.min_lat", "message": "give all four corners or none"}],
        )
    circle = (lat, lon, radius_m)
    if any(v is not None for v in circle) and any(v is None for v in circle):
        raise ApiError(
            422,
            "a circle needs lat, lon and radius_m",
            [{"field": "query.radius_m", "message": "give lat, lon and radius_m together"}],
        )
    area = Area(
        min_latitude=min_lat,
        min_longitude=min_lon,
        max_latitude=max_lat,
        max_longitude=max_lon,
        latitude=lat,
        longitude=lon,
        radius_m=radius_m,
    )
    items = await guarded(
        request,
        principal.team,
        views(request).operations(
            team=principal.team,
            jit=jit,
            since=aware(since),
            until=aware(until),
            area=area,
            include_cancelled=include_cancelled,
            limit=limit,
            purpose=purpose,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/timeline", summary="What happened in the JIT, by time")
async def timeline(
    jit: str,
    request: Request,
    principal: Caller,
    since: Since = None,
    until: Until = None,
    kind: Annotated[
        list[str] | None,
        Query(description="Lead, Task, Operation, Conflict, DeconflictionHit, Alert"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    purpose: Purpose = None,
) -> dict[str, Any]:
    """The JIT's events your team may see, newest first (``order=asc`` for oldest first)."""
    member_of(request, principal, jit)
    items = await guarded(
        request,
        principal.team,
        views(request).timeline(
            team=principal.team,
            jit=jit,
            since=aware(since),
            until=aware(until),
            kinds=kind,
            limit=limit,
            newest_first=order == "desc",
            purpose=purpose,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/search", summary="Search names and identifiers")
async def search(
    jit: str,
    request: Request,
    principal: Caller,
    q: Annotated[str, Query(min_length=2, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Persons, identifiers, organisations and places your team may see whose names (in any
    script or its Latin transliteration) or values match ``q``."""
    member_of(request, principal, jit)
    items = await guarded(
        request,
        principal.team,
        views(request).search(team=principal.team, jit=jit, text=q, limit=limit, purpose=purpose),
    )
    return {"items": items, "count": len(items)}


@router.get(
    "/jits/{jit}/export.ftm",
    summary="What your team sees, as FollowTheMoney entities",
    response_class=StreamingResponse,
)
async def export_ftm(
    jit: str, request: Request, principal: Caller, purpose: Purpose = None
) -> StreamingResponse:
    """Newline-delimited FollowTheMoney entities (each validated against its schema) of the
    persons, identifiers, organisations, places, leads and operations your team may see."""
    member_of(request, principal, jit)
    graph = await guarded(
        request,
        principal.team,
        views(request).visible_graph(team=principal.team, jit=jit, purpose=purpose),
    )
    skipped: list[str] = []
    try:
        entities = list(ftm_entities(graph, skipped))
    except ExportError as exc:
        log.error("export refused by followthemoney", team=principal.team, error=str(exc))
        raise ApiError(500, f"export failed validation: {exc}") from None

    def lines() -> Iterator[bytes]:
        for entity in entities:
            yield json.dumps(entity, ensure_ascii=False, sort_keys=True).encode() + b"\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{jit}.ftm.json"',
            "X-Interlock-Export-Skipped": ",".join(sorted(set(skipped))) or "none",
        },
    )
