"""Team-scoped read API over the graph: every handler passes the caller's team to the views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from events.leads import LeadStatus
from services.kit.web import ApiError, Caller, member_of
from services.projection.views import GraphViews

router = APIRouter(tags=["views"])


def views(request: Request) -> GraphViews:
    found: GraphViews = request.app.state.views
    return found


@router.get("/jits/{jit}/leads/{lead_id}", summary="A lead your team may see")
async def get_lead(
    jit: str, lead_id: str, request: Request, principal: Caller
) -> dict[str, Any]:
    """The lead with the persons and identifiers your team may see; 404 if it may not see it."""
    member_of(request, principal, jit)
    lead = await views(request).lead(team=principal.team, jit=jit, lead_id=lead_id)
    if lead is None:
        raise ApiError(
            404, f"no lead {lead_id} visible to team {principal.team} in JIT {jit}"
        )
    return lead


@router.get("/jits/{jit}/leads", summary="Leads your team may see")
async def list_leads(
    jit: str,
    request: Request,
    principal: Caller,
    status: LeadStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Leads of the JIT visible to your team, newest first."""
    member_of(request, principal, jit)
    items = await views(request).leads(
        team=principal.team,
        jit=jit,
        status=status.value if status else None,
        limit=limit,
    )
    return {"items": items, "count": len(items)}
