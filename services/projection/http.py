"""Team-scoped read API over the graph: every handler checks the caller's JIT membership and
passes the caller's team and member to the views.

The hit and alert lists can be read *fresh*: the handler first waits (briefly, ``wait``) until
the projection has written every record that was on the event topic when the request came, so
an alert raised, a hit released or an alert acknowledged a moment ago (its events are on the
broker before the command is answered) is already in the list the caller asks for next.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from confluent_kafka import Consumer, KafkaException
from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from events.alerts import Severity
from events.deconfliction import PERSON_KIND, UUID_PATTERN, HitStatus
from events.envelope import ID_PATTERN
from events.identifiers import IdentifierKind
from events.leads import InformationCredibility, LeadStatus, SourceReliability, SourceType
from events.tasking import TaskStatus
from events.topics import ALERT_EVENTS, DECONFLICTION_EVENTS, LEAD_EVENTS, TopicSpec
from services.kit.disclosure import Viewer
from services.kit.kafka import consumer_for, watermarks
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.web import ApiError, JitMember, Sensitive, UtcTime
from services.projection.export import ExportError, ftm_entities
from services.projection.lag import projection_group
from services.projection.stix import StixExportError, stix_bundle
from services.projection.views import (
    ALERT_STATES,
    OPEN_ALERT_STATES,
    Area,
    GraphViews,
    ScopeViolationError,
)

log = get_logger()


@asynccontextmanager
async def _topic_ends(app: FastAPI) -> AsyncIterator[None]:
    """Close the watermark reader the fresh reads opened, when the gateway stops."""
    try:
        yield
    finally:
        ends: TopicEnds | None = getattr(app.state, "topic_ends", None)
        if ends is not None:
            ends.close()


STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

router = APIRouter(tags=["views"], lifespan=_topic_ends)

T = TypeVar("T")

Since = Annotated[UtcTime, Query(description="From this time (ISO 8601; UTC if no zone).")]
Until = Annotated[UtcTime, Query(description="Before this time (ISO 8601; UTC if no zone).")]


def views(request: Request) -> GraphViews:
    found: GraphViews = request.app.state.views
    return found


async def guarded(request: Request, team: str, read: Awaitable[T]) -> T:
    """Await a view; a scope violation (a bug) is logged and answered with a bare 500."""
    try:
        return await read
    except ScopeViolationError as exc:
        log.error("scope violation withheld", team=team, path=request.url.path, error=str(exc))
        raise ApiError(500, "internal error: the view was withheld") from None


# ------------------------------------------------------------------------------ fresh reads

WAIT_POLL_SECONDS = 0.05
PARTITIONS_KEPT_SECONDS = 30.0


class TopicEnds:
    """High watermarks of the event topics, read with one long-lived consumer (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._partitions: dict[str, tuple[float, list[int]]] = {}

    def _client(self) -> Consumer:
        if self._consumer is None:
            self._consumer = consumer_for(
                self.settings,
                {
                    "group.id": self.settings.group_id(f"ends-{uuid.uuid4().hex}"),
                    "enable.auto.commit": False,
                },
            )
        return self._consumer

    def highs(self, topic: str, timeout: float = 2.0) -> dict[int, int]:
        """Per partition of ``topic``: the offset its next record will get (empty if no topic)."""
        with self._lock:
            consumer = self._client()
            kept = self._partitions.get(topic)
            if kept is None or time.monotonic() - kept[0] > PARTITIONS_KEPT_SECONDS:
                found = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
                if found is None or found.error is not None:
                    return {}
                kept = (time.monotonic(), sorted(found.partitions))
                self._partitions[topic] = kept
            return {p: watermarks(consumer, topic, p, timeout)[1] for p in kept[1]}

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None


@dataclass(frozen=True)
class Freshness:
    """How far a read reflects its topic: ``caught_up`` when the projection had written every
    record that was on the topic when the read came (None: not measured); ``through`` is, per
    partition, the offset up to which (excluded) the projection had written."""

    caught_up: bool | None
    behind_records: int | None = None
    waited_ms: int = 0
    through: tuple[int, ...] = ()

    def report(self) -> dict[str, Any]:
        return {
            "caught_up": self.caught_up,
            "behind_records": self.behind_records,
            "waited_ms": self.waited_ms,
        }

    def cursor(self) -> str | None:
        """The desk stream cursor (``Last-Event-ID``) that continues where this read ends."""
        if self.caught_up is None or not self.through:
            return None
        return "c1-" + ".".join(str(o) for o in self.through)


def _settings(request: Request) -> Settings | None:
    bus = getattr(request.app.state, "command_bus", None)
    found: Settings | None = getattr(bus, "settings", None)
    return found


async def fresh(request: Request, spec: TopicSpec, within: float) -> Freshness:
    """Wait up to ``within`` seconds for the projection to write what is on ``spec``'s topic now.

    Never fails a read: when Kafka cannot be asked or the wait runs out, the read goes on and
    says how fresh it is.
    """
    settings = _settings(request)
    if settings is None:
        return Freshness(caught_up=None)
    ends: TopicEnds | None = getattr(request.app.state, "topic_ends", None)
    if ends is None:
        ends = request.app.state.topic_ends = TopicEnds(settings)
    topic = settings.topic(spec.name)
    started = time.monotonic()
    try:
        highs = await asyncio.to_thread(ends.highs, topic)
    except KafkaException as exc:
        log.warning("topic ends unavailable for a fresh read", topic=topic, error=str(exc)[:200])
        return Freshness(caught_up=None)
    group = projection_group(settings)
    views_ = views(request)
    while True:
        done = await views_.checkpoints(group=group)
        through = tuple(
            max(done.get((topic, p), (-1, 0))[0] + 1, 0) for p in range(max(highs, default=-1) + 1)
        )
        behind = sum(max(0, high - through[p]) for p, high in highs.items())
        waited = time.monotonic() - started
        if behind == 0 or waited >= within:
            return Freshness(
                caught_up=behind == 0,
                behind_records=behind,
                waited_ms=int(waited * 1000),
                through=through,
            )
        await asyncio.sleep(WAIT_POLL_SECONDS)


Wait = Annotated[
    float,
    Query(
        ge=0,
        le=10,
        description="Seconds to wait at most for the projection to write what is on the event "
        "topic now (0: read at once). The answer's `projection` says how fresh it was.",
    ),
]


# ---------------------------------------------------------------------------------- reads


@router.get("/jits/{jit}/leads/{lead_id}", summary="A lead your team may see")
async def get_lead(
    jit: str,
    lead_id: str,
    request: Request,
    principal: JitMember,
    wait: Wait = 0.0,
) -> dict[str, Any]:
    """The lead with the persons, identifiers and links your team may see; 404 if it may not.

    With ``wait``, a lead submitted a moment ago is read whole: its events are all on the topic
    once its submission was answered 201, and the read waits until the projection wrote them.
    """
    if wait:
        await fresh(request, LEAD_EVENTS, wait)
    lead = await guarded(
        request,
        principal.team,
        views(request).lead(team=principal.team, jit=jit, lead_id=lead_id, member=principal.member),
    )
    if lead is None:
        raise ApiError(404, f"no lead {lead_id} visible to team {principal.team} in JIT {jit}")
    return lead


@router.get("/jits/{jit}/leads", summary="Leads your team may see")
async def list_leads(
    jit: str,
    request: Request,
    principal: JitMember,
    status: Annotated[list[LeadStatus] | None, Query()] = None,
    source: Annotated[list[SourceType] | None, Query()] = None,
    reliability: Annotated[list[SourceReliability] | None, Query()] = None,
    credibility: Annotated[list[InformationCredibility] | None, Query()] = None,
    received_from: Since = None,
    received_until: Until = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the summary.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Leads of the JIT visible to your team, newest first, filtered by status, source, grading,
    date received and text."""
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
            received_from=received_from,
            received_until=received_until,
            text=q,
            limit=limit,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/tasks/{task_id}", summary="A task your team may see")
async def get_task(
    jit: str, task_id: str, request: Request, principal: JitMember
) -> dict[str, Any]:
    """The task and the leads, entities and operations it links that your team may see; 404 if
    your team may not see it."""
    task = await guarded(
        request,
        principal.team,
        views(request).task(team=principal.team, jit=jit, task_id=task_id, member=principal.member),
    )
    if task is None:
        raise ApiError(404, f"no task {task_id} visible to team {principal.team} in JIT {jit}")
    return task


@router.get("/jits/{jit}/tasks", summary="Tasks your team may see")
async def list_tasks(
    jit: str,
    request: Request,
    principal: JitMember,
    view: Annotated[
        Literal["mine", "team", "requested", "overdue"] | None,
        Query(
            description="mine: assigned to you; team: asked of your team; requested: asked by "
            "your team; overdue: a missed deadline still unmet. All visible tasks if absent."
        ),
    ] = None,
    status: Annotated[list[TaskStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Tasks of the JIT visible to your team, newest first."""
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
        ),
    )
    return {"items": items, "count": len(items)}


HIT_KINDS = frozenset({*(k.value for k in IdentifierKind), PERSON_KIND})
HitId = Annotated[str, Path(pattern=UUID_PATTERN, description="The hit's id.")]


@router.get("/jits/{jit}/hits", summary="Deconfliction hits your team is a side of")
async def list_hits(
    jit: str,
    request: Request,
    principal: JitMember,
    status: Annotated[
        list[HitStatus] | None,
        Query(description="confirmed (same identifier or person key) or possible (fuzzy)."),
    ] = None,
    kind: Annotated[
        list[str] | None, Query(description="What matched: an identifier kind, or person.")
    ] = None,
    lead: Annotated[
        str | None,
        Query(pattern=UUID_PATTERN, description="Only the hits on this lead of your team."),
    ] = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Wait = 2.0,
) -> dict[str, Any]:
    """Hits of the JIT where your team holds one of the two targets, newest first: both sides
    with their desk contacts, whether each side released or declined its details (and what it
    released), and which of your own records matched. Hits of other teams are never listed."""
    unknown = sorted(set(kind or ()) - HIT_KINDS)
    if unknown:
        message = f"not a kind of hit: {', '.join(unknown)}"
        raise ApiError(422, message, [{"field": "query.kind", "message": message}])
    freshness = await fresh(request, DECONFLICTION_EVENTS, wait)
    items = await guarded(
        request,
        principal.team,
        views(request).hits(
            team=principal.team,
            jit=jit,
            status=[s.value for s in status] if status else None,
            kind=kind,
            since=since,
            lead=lead,
            limit=limit,
            member=principal.member,
        ),
    )
    return {"items": items, "count": len(items), "projection": freshness.report()}


@router.get("/jits/{jit}/hits/{hit_id}", summary="A deconfliction hit your team is a side of")
async def get_hit(
    jit: str,
    hit_id: HitId,
    request: Request,
    principal: JitMember,
    wait: Wait = 0.0,
) -> dict[str, Any]:
    """The hit as your side sees it; 404 if there is no such hit or your team is not one of its
    two sides (the answer is the same, so nothing is learnt from it)."""
    if wait:
        await fresh(request, DECONFLICTION_EVENTS, wait)
    hit = await guarded(
        request,
        principal.team,
        views(request).hit(team=principal.team, jit=jit, hit_id=hit_id, member=principal.member),
    )
    if hit is None:
        raise ApiError(404, f"no hit {hit_id} visible to team {principal.team} in JIT {jit}")
    return hit


AlertState = Literal["open", "raised", "escalated", "acknowledged", "resolved", "all"]


@router.get("/jits/{jit}/alerts", summary="Alerts that page your team's desk")
async def list_alerts(
    jit: str,
    request: Request,
    principal: JitMember,
    state: Annotated[
        list[AlertState] | None,
        Query(
            description="open (raised or escalated, the default), raised, escalated, "
            "acknowledged, resolved, or all."
        ),
    ] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Wait = 2.0,
) -> dict[str, Any]:
    """Alerts of the JIT that your desk's live stream pages you for (routed to your team, or
    escalated to the coordinator's step while your team is a target or the coordinator), newest
    first, with severity, category, summary, state and, while open, the deadlines:
    ``acknowledge_by`` and ``escalates_at`` (the next escalation; none when nobody is next).

    ``cursor`` is a desk stream ``Last-Event-ID`` (or ``after``) that continues exactly where
    this list ends, so a desk can show the list, then go live without a gap.
    """
    wanted: set[str] = set(state or ("open",))
    states: tuple[str, ...] | None = None
    if "all" not in wanted:
        if "open" in wanted:
            wanted = (wanted - {"open"}) | set(OPEN_ALERT_STATES)
        states = tuple(s for s in ALERT_STATES if s in wanted)
    freshness = await fresh(request, ALERT_EVENTS, wait)
    items = await guarded(
        request,
        principal.team,
        views(request).desk_alerts(
            team=principal.team,
            jit=jit,
            states=states,
            severity=[s.value for s in severity] if severity else None,
            since=since,
            limit=limit,
            member=principal.member,
        ),
    )
    return {
        "items": items,
        "count": len(items),
        "projection": freshness.report(),
        "cursor": freshness.cursor(),
    }


@router.get("/jits/{jit}/desks/escalation", summary="Escalation times set for the JIT's desks")
async def desk_escalations(
    jit: str, request: Request, principal: JitMember, wait: Wait = 2.0
) -> dict[str, Any]:
    """The escalation times the JIT coordinator set for the whole JIT (``team`` ``*``) and for
    single desks; a desk without its own runs on the JIT's, then on the service's defaults
    (``GET /jits/{jit}/escalation``)."""
    await fresh(request, ALERT_EVENTS, wait)
    items = await guarded(
        request,
        principal.team,
        views(request).desk_escalations(team=principal.team, jit=jit, member=principal.member),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/alerts/{alert_id}", summary="One alert: yours, or one paging your desk")
async def get_alert(
    jit: str,
    alert_id: Annotated[str, Path(pattern=ID_PATTERN)],
    request: Request,
    principal: JitMember,
    wait: Wait = 2.0,
) -> dict[str, Any]:
    """The alert as your desk sees it (the ``url`` that raising it answers): state, deadlines,
    who is paged next, who acknowledged or resolved it, and its links by title; 404 when there
    is no such alert or it neither pages your desk nor was raised by your team."""
    await fresh(request, ALERT_EVENTS, wait)
    found = await guarded(
        request,
        principal.team,
        views(request).alert(
            team=principal.team, jit=jit, alert_id=alert_id, member=principal.member
        ),
    )
    if found is None:
        raise ApiError(404, f"no alert {alert_id} visible to team {principal.team} in JIT {jit}")
    return found


@router.get("/jits/{jit}/persons/{person_id}", summary="A person's card")
async def person_card(
    jit: str, person_id: str, request: Request, principal: JitMember
) -> dict[str, Any]:
    """The person (a pseudonym if a victim of another team) with the identifiers, leads,
    operations, tasks, deconfliction hits and alerts your team may see."""
    card = await guarded(
        request,
        principal.team,
        views(request).card(
            team=principal.team, jit=jit, person_id=person_id, member=principal.member
        ),
    )
    if card is None:
        raise ApiError(404, f"no person {person_id} visible to team {principal.team} in JIT {jit}")
    return card


@router.get("/jits/{jit}/persons/{person_id}/network", summary="The network around a person")
async def person_network(
    jit: str,
    person_id: str,
    request: Request,
    principal: JitMember,
    depth: Annotated[int, Query(ge=1, le=3)] = 2,
    max_nodes: Annotated[int, Query(ge=1, le=1000)] = 300,
) -> dict[str, Any]:
    """Nodes and edges within ``depth`` hops, over what your team may see, for a graph view."""
    graph = await guarded(
        request,
        principal.team,
        views(request).network(
            team=principal.team,
            jit=jit,
            person_id=person_id,
            depth=depth,
            max_nodes=max_nodes,
            member=principal.member,
        ),
    )
    if graph is None:
        raise ApiError(404, f"no person {person_id} visible to team {principal.team} in JIT {jit}")
    return graph


@router.get(
    "/jits/{jit}/paths",
    summary="Shortest path between two persons",
    responses={404: {"description": "No chain the team may see links the two persons"}},
)
async def shortest_path(
    jit: str,
    request: Request,
    principal: JitMember,
    source: Annotated[str, Query(alias="from", description="A person id.")],
    target: Annotated[str, Query(alias="to", description="A person id.")],
    max_length: Annotated[int, Query(ge=1, le=8)] = 8,
) -> dict[str, Any]:
    """The shortest chain of what your team may see between two persons; 404 if there is none."""
    found = await guarded(
        request,
        principal.team,
        views(request).path(
            team=principal.team,
            jit=jit,
            from_id=source,
            to_id=target,
            max_length=max_length,
            member=principal.member,
        ),
    )
    if found is None:
        raise ApiError(404, f"no path your team may see between {source} and {target}")
    return found


@router.get("/jits/{jit}/operations", summary="Operations in a time window and area")
async def list_operations(
    jit: str,
    request: Request,
    principal: JitMember,
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
) -> dict[str, Any]:
    """Operations your team may see whose window meets [since, until] and whose place meets a
    bounding box (min_lat, min_lon, max_lat, max_lon) or a circle (lat, lon, radius_m)."""
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
            since=since,
            until=until,
            area=area,
            include_cancelled=include_cancelled,
            limit=limit,
            member=principal.member,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/timeline", summary="What happened in the JIT, by time")
async def timeline(
    jit: str,
    request: Request,
    principal: JitMember,
    since: Since = None,
    until: Until = None,
    kind: Annotated[
        list[str] | None,
        Query(description="Lead, Task, Operation, Conflict, DeconflictionHit, Alert"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> dict[str, Any]:
    """The JIT's events your team may see, newest first (``order=asc`` for oldest first)."""
    items = await guarded(
        request,
        principal.team,
        views(request).timeline(
            team=principal.team,
            jit=jit,
            since=since,
            until=until,
            kinds=kind,
            limit=limit,
            newest_first=order == "desc",
            member=principal.member,
        ),
    )
    return {"items": items, "count": len(items)}


@router.get("/jits/{jit}/search", summary="Search names and identifiers")
async def search(
    jit: str,
    request: Request,
    principal: JitMember,
    q: Annotated[str, Query(min_length=2, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> dict[str, Any]:
    """Persons, identifiers, organisations and places your team may see whose names (in any
    script or its Latin transliteration) or values match ``q``."""
    items = await guarded(
        request,
        principal.team,
        views(request).search(
            team=principal.team, jit=jit, text=q, limit=limit, member=principal.member
        ),
    )
    return {"items": items, "count": len(items)}


@router.get(
    "/jits/{jit}/export.ftm",
    summary="What your team sees, as FollowTheMoney entities",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def export_ftm(jit: str, request: Request, principal: Sensitive) -> StreamingResponse:
    """Newline-delimited FollowTheMoney entities (each validated against its schema) of the
    persons, identifiers, organisations, places, leads and operations your team may see."""
    graph = await guarded(
        request,
        principal.team,
        views(request).visible_graph(team=principal.team, jit=jit, member=principal.member),
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


@router.get(
    "/jits/{jit}/export.stix",
    summary="What your team sees, as a STIX 2.1 bundle",
    response_class=Response,
    responses={200: {"content": {STIX_MEDIA_TYPE: {}}}},
)
async def export_stix(jit: str, request: Request, principal: Sensitive) -> Response:
    """A STIX 2.1 bundle (for MISP and OpenCTI) of the persons, identifiers, organisations,
    places, leads and operations your team may see, each object marked with its TLP 2.0 label
    and handling code; records the disclosure policy keeps out of your exports (another team's
    H2) are not in it. The mapping is in docs/national-systems.md."""
    graph = await guarded(
        request,
        principal.team,
        views(request).visible_graph(team=principal.team, jit=jit, member=principal.member),
    )
    viewer = Viewer(
        team=principal.team,
        member=principal.member,
        national_system=principal.has_role("national_system"),
    )
    try:
        bundle = stix_bundle(graph, viewer)
    except StixExportError as exc:
        log.error("export refused by stix2", team=principal.team, error=str(exc))
        raise ApiError(500, f"export failed validation: {exc}") from None
    return Response(
        bundle.serialize(ensure_ascii=False).encode(),
        media_type=STIX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{jit}.stix.json"'},
    )
