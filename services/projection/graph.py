"""Graph writes: every projected event type becomes rows for a few parameterised ``UNWIND … MERGE``
statements, batched per statement.

Three rules make the graph the same however often, and in whatever interleaving of partitions,
the log is replayed (live, replayed and rebuilt graphs hash the same, see ``canonical``):

- **Own properties move forward only.** The properties of an aggregate's node (a lead's status, a
  task's assignee) are written by exactly one *gated* statement, and only by an event that is
  newer than the last one applied: ``(aggregate_version, event time, event id)`` orders them.
  Nothing is read from the clock: every time in the graph is an event's time.
- **Everything else is commutative.** Audiences are sorted unions; relationships and placeholder
  nodes are MERGEd with no properties but the id, so a task that links a lead before the lead
  arrives gives the same graph as the other way round.
- **Scoping is data.** Every node and relationship has an ``audience``: the sorted list of teams
  that may see it (originator + releasable_to of the events that wrote it). Sharing only widens
  it. A person's identifying properties have their own ``identity_audience`` (a victim: the
  originator only), and an identifier observed as a victim's contributes only the originator to
  its audience, so no other team can re-identify a victim through the identifiers.

A node's properties are visible to its whole audience, so an event whose audience is narrower
than its aggregate's (an alert routed to one desk) writes its facts on a relationship instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j.spatial import WGS84Point

from events.alerts import (
    AlertAcknowledged,
    AlertDeduplicated,
    AlertDelivered,
    AlertEscalated,
    AlertRaised,
    AlertResolved,
    AlertRouted,
    DeskEscalationSet,
    DeskRuleSet,
    LinkKind,
    WebhookDeliveryFailed,
)
from events.deconfliction import (
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    DeskContact,
    OperationCancelled,
    OperationConflictCleared,
    OperationConflictDetected,
    OperationConflictResolutionRecorded,
    OperationConflictResolved,
    OperationMoved,
    OperationPlace,
    OperationPlanned,
    PersonRegistered,
    RoleConflictDetected,
    TokenRegistered,
)
from events.directory import (
    DeskRegistered,
    JitRegistered,
    MemberRegistered,
    RetentionPolicySet,
    TeamRegistered,
)
from events.envelope import Envelope
from events.identifiers import PersonRole
from events.leads import (
    EntityObserved,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadRejected,
    LeadStatus,
    LeadSubmitted,
    LeadTriaged,
)
from events.retention import RetentionExtended, ReviewDue, SubjectErased, SubjectKind
from events.tasking import (
    ConsentRecorded,
    LegalAssistance,
    ReferralStopped,
    TaskAccepted,
    TaskBlocked,
    TaskCancelled,
    TaskCommented,
    TaskCompleted,
    TaskDeclined,
    TaskOverdue,
    TaskRequested,
    TaskStarted,
    TaskStatus,
    TaskUnblocked,
    VictimReferral,
)
from events.topics import (
    ALERT_EVENTS,
    DECONFLICTION_EVENTS,
    DIRECTORY,
    LEAD_EVENTS,
    RETENTION_EVENTS,
    TASK_EVENTS,
    TopicSpec,
)

PROJECTED_TOPICS: tuple[TopicSpec, ...] = (
    DIRECTORY,
    LEAD_EVENTS,
    DECONFLICTION_EVENTS,
    TASK_EVENTS,
    ALERT_EVENTS,
    RETENTION_EVENTS,
)
"""The topics the projection consumes (and ``rebuild`` replays), logical names."""

ENTITY_NAMESPACE = uuid.UUID("9e3c1f0a-4b7d-4d8e-a6c2-2f5b8d7e1c34")

# ------------------------------------------------------------------------------------ schema

UNIQUE_IDS = (
    "Lead",
    "Entity",
    "Person",
    "Identifier",
    "Organisation",
    "Location",
    "Operation",
    "Task",
    "Alert",
    "DeconflictionHit",
    "HitDetails",
    "Conflict",
    "Registration",
    "Activity",
    "JIT",
    "Team",
    "DeskEscalation",
    "ProjectionCheckpoint",
)
"""Labels whose ``id`` is unique: every MERGE is by one of these labels and its id."""


def _constraint_name(label: str) -> str:
    return {"JIT": "jit", "ProjectionCheckpoint": "projection_checkpoint"}.get(
        label,
        "".join("_" + c.lower() if c.isupper() else c for c in label).lstrip("_"),
    ) + "_id"


FULLTEXT_INDEX = "entity_names"

CONSTRAINTS: tuple[str, ...] = (
    *(
        f"CREATE CONSTRAINT {_constraint_name(label)} IF NOT EXISTS "
        f"FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        for label in UNIQUE_IDS
    ),
    "CREATE INDEX lead_jit IF NOT EXISTS FOR (n:Lead) ON (n.jit)",
    "CREATE INDEX lead_received_at IF NOT EXISTS FOR (n:Lead) ON (n.jit, n.received_at)",
    "CREATE INDEX identifier_value IF NOT EXISTS FOR (n:Identifier) ON (n.value)",
    "CREATE INDEX person_jit IF NOT EXISTS FOR (n:Person) ON (n.jit)",
    "CREATE INDEX entity_jit IF NOT EXISTS FOR (n:Entity) ON (n.jit)",
    "CREATE INDEX organisation_jit IF NOT EXISTS FOR (n:Organisation) ON (n.jit)",
    "CREATE INDEX location_jit IF NOT EXISTS FOR (n:Location) ON (n.jit)",
    "CREATE INDEX registration_jit IF NOT EXISTS FOR (n:Registration) ON (n.jit)",
    "CREATE INDEX conflict_jit IF NOT EXISTS FOR (n:Conflict) ON (n.jit)",
    "CREATE INDEX hit_jit IF NOT EXISTS FOR (n:DeconflictionHit) ON (n.jit)",
    "CREATE INDEX hit_details_jit IF NOT EXISTS FOR (n:HitDetails) ON (n.jit)",
    "CREATE INDEX operation_jit IF NOT EXISTS FOR (n:Operation) ON (n.jit)",
    "CREATE POINT INDEX operation_location IF NOT EXISTS FOR (n:Operation) ON (n.location)",
    "CREATE INDEX task_jit IF NOT EXISTS FOR (n:Task) ON (n.jit)",
    "CREATE INDEX alert_jit IF NOT EXISTS FOR (n:Alert) ON (n.jit)",
    "CREATE INDEX activity_jit_at IF NOT EXISTS FOR (n:Activity) ON (n.jit, n.at)",
    "CREATE INDEX activity_subject IF NOT EXISTS FOR (n:Activity) ON (n.subject_id)",
    "CREATE INDEX registration_source IF NOT EXISTS FOR (n:Registration) ON (n.source_ref)",
    f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS "
    "FOR (n:Person|Identifier|Organisation|Location) ON EACH [n.name, n.latin_name, n.value]",
)
"""Uniqueness constraints and indexes; run at start-up and by ``interlock provision``."""

# --------------------------------------------------------------------------- cypher pieces


def union(target: str, source: str) -> str:
    """Cypher for the sorted union of two team lists: commutative, so replay order never shows."""
    return (
        f"COLLECT {{ UNWIND coalesce({target}, []) + {source} AS aud_team "
        "WITH DISTINCT aud_team RETURN aud_team ORDER BY aud_team }"
    )


def newer(var: str, prefix: str = "") -> str:
    """Cypher: the row's event is later than the last one applied to ``var``'s gated properties.

    Events are ordered by (aggregate version, event time, event id): a total order, so a replayed
    older event never overwrites a newer one and ties never depend on arrival order.
    """
    v, t, e = f"{var}.{prefix}version", f"{var}.{prefix}updated_at", f"{var}.{prefix}last_event_id"
    return (
        f"({v} IS NULL OR row.version > {v} OR (row.version = {v} AND "
        f"(row.time > {t} OR (row.time = {t} AND row.event_id > {e}))))"
    )


def _stamp(var: str, prefix: str = "") -> str:
    return (
        f"{var}.{prefix}version = row.version, {var}.{prefix}updated_at = row.time, "
        f"{var}.{prefix}last_event_id = row.event_id"
    )


def upsert(label: str, *, also: str = "", prefix: str = "", after: str = "") -> str:
    """A gated upsert of an aggregate's own node: audience always grows, properties only forward."""
    extra = f", n:{also}" if also else ""
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
SET n.jit = row.jit, n.audience = {union("n.audience", "row.audience")}{extra}
WITH n, row WHERE {newer("n", prefix)}
SET n += row.props, {_stamp("n", prefix)}
{after}
"""


def merge_node(label: str, *, also: str = "", identity: bool = False) -> str:
    """A commutative node write: constant properties, audience (and identity audience) unions."""
    extra = f", n:{also}" if also else ""
    ident = (
        f", n.identity_audience = {union('n.identity_audience', 'row.identity_audience')}"
        if identity
        else ""
    )
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
SET n.jit = row.jit, n += row.props,
    n.audience = {union("n.audience", "row.audience")}{extra}{ident}
"""


def link(a: str, rel: str, b: str, *, keyed: bool = False) -> str:
    """A commutative relationship write between two nodes, MERGEd as id-only placeholders.

    ``keyed`` relationships are told apart by ``row.key`` (a lead mentions an identifier once as a
    victim's and once as a suspect's: two relationships, two audiences).
    """
    a_jit = "" if a == "Team" else " ON CREATE SET a.jit = row.jit"
    b_jit = "" if b == "Team" else " ON CREATE SET b.jit = row.jit"
    key = " {key: row.key}" if keyed else ""
    return f"""
UNWIND $rows AS row
MERGE (a:{a} {{id: row.a}}){a_jit}
MERGE (b:{b} {{id: row.b}}){b_jit}
MERGE (a)-[r:{rel}{key}]->(b)
SET r.audience = {union("r.audience", "row.audience")}, r += row.props
"""


TEAM_AUDIENCE = (
    "COLLECT { UNWIND [t.id] + COLLECT { MATCH (t)-[:MEMBER_OF]->(:JIT)<-[:MEMBER_OF]-(o:Team) "
    "RETURN o.id } AS co_member WITH DISTINCT co_member RETURN co_member ORDER BY co_member }"
)
"""A team node is visible to itself and to the teams it shares a JIT with."""

JIT_UPSERT = f"""
UNWIND $rows AS row
MERGE (j:JIT {{id: row.id}})
WITH j, row WHERE {newer("j")}
WITH j, row, COLLECT {{ MATCH (o:Team)-[:MEMBER_OF]->(j) RETURN o.id }} AS before
SET j += row.props, j.jit = row.id, j.audience = row.audience, {_stamp("j")}
WITH j, row, before
CALL (j, row) {{
  MATCH (o:Team)-[m:MEMBER_OF]->(j) WHERE NOT o.id IN row.audience
  DELETE m
}}
CALL (j, row) {{
  UNWIND row.audience AS member
  MERGE (t:Team {{id: member}})
  MERGE (t)-[m:MEMBER_OF]->(j)
  SET m.audience = row.audience
}}
CALL (row, before) {{
  UNWIND before + row.audience AS member
  WITH DISTINCT member
  MATCH (t:Team {{id: member}})
  SET t.audience = {TEAM_AUDIENCE}
}}
"""
"""A JIT record is the whole current state (compacted topic): membership is set, not grown."""


def team_upsert(prefix: str) -> str:
    """A team's directory record (``prefix`` "") or its desk (``desk_``), each gated on its own."""
    return f"""
UNWIND $rows AS row
MERGE (t:Team {{id: row.id}})
SET t.audience = coalesce(t.audience, [t.id])
WITH t, row WHERE {newer("t", prefix)}
SET t += row.props, {_stamp("t", prefix)}
"""


ACTIVITY = """
UNWIND $rows AS row
MERGE (a:Activity {id: row.id})
SET a += row.props, a.jit = row.jit, a.audience = row.audience
"""

ALERT_DEDUP = f"""
UNWIND $rows AS row
MERGE (n:Alert {{id: row.id}})
SET n.jit = row.jit, n.audience = {union("n.audience", "row.audience")},
    n.duplicate_count = CASE WHEN n.duplicate_count IS NULL OR row.count > n.duplicate_count
                        THEN row.count ELSE n.duplicate_count END,
    n.last_seen = CASE WHEN n.last_seen IS NULL OR row.last_seen > n.last_seen
                  THEN row.last_seen ELSE n.last_seen END
"""
"""Folding is told by another alert's aggregate, so it merges by maximum rather than by version."""

CHECKPOINT = """
UNWIND $rows AS row
MERGE (c:ProjectionCheckpoint {id: row.id})
SET c.group = row.group, c.topic = row.topic, c.partition = row.partition,
    c.offset = CASE WHEN c.offset IS NULL OR row.offset > c.offset
               THEN row.offset ELSE c.offset END,
    c.record_ms = CASE WHEN c.record_ms IS NULL OR row.record_ms > c.record_ms
                  THEN row.record_ms ELSE c.record_ms END
"""
"""Per partition: the newest offset and record time written to the graph (projection lag)."""

# ---------------------------------------------------------------------------------- rows

Row = dict[str, Any]


@dataclass(frozen=True)
class Statement:
    """One Cypher statement and how an event becomes its rows; ``gated`` rows are ordered."""

    cypher: str
    rows: Callable[[Envelope], list[Row]]
    gated: bool = False
    last: bool = False
    """Run after every other statement of the batch: erasure removes what the batch wrote."""


def _base(env: Envelope, *, versioned: bool = True) -> Row:
    return {
        "event_id": env.id,
        "jit": env.jit,
        "audience": sorted(env.audience),
        "version": env.aggregate_version if versioned else 0,
        "time": env.time,
    }


def _own(env: Envelope, node_id: str, props: Row, *, versioned: bool = True) -> list[Row]:
    return [{**_base(env, versioned=versioned), "id": node_id, "props": props}]


def _edge(
    env: Envelope,
    a: str,
    b: str,
    *,
    audience: Sequence[str] | None = None,
    key: str | None = None,
    props: Row | None = None,
) -> Row:
    return {
        "jit": env.jit,
        "a": a,
        "b": b,
        "key": key,
        "audience": sorted(audience) if audience is not None else sorted(env.audience),
        "props": props or {},
    }


def _point(latitude: float | None, longitude: float | None) -> WGS84Point | None:
    if latitude is None or longitude is None:
        return None
    return WGS84Point((longitude, latitude))


def _place(place: OperationPlace) -> Row:
    return {
        "latitude": place.latitude,
        "longitude": place.longitude,
        "radius_m": place.radius_m,
        "location": _point(place.latitude, place.longitude),
        "starts_at": place.starts_at,
        "ends_at": place.ends_at,
    }


def _desk(prefix: str, desk: DeskContact | None) -> Row:
    return {
        f"{prefix}_desk_name": desk.name if desk else None,
        f"{prefix}_desk_phone": desk.phone if desk else None,
        f"{prefix}_desk_email": desk.email if desk else None,
    }


def mentioned_id(lead_id: str, kind: str, index: int) -> str:
    """Organisations and locations are entities of the lead that mentions them, like persons."""
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"{kind}|{lead_id}|{index}"))


def role_key(role: PersonRole | None) -> str:
    return role.value if role is not None else "none"


# --- leads


def lead_props(env: Envelope) -> list[Row]:
    """The lead's own properties after this event."""
    e = env.data
    props: Row
    if isinstance(e, LeadSubmitted):
        props = {
            "originator": env.originator,
            "team": e.team,
            "submitted_by": e.submitted_by,
            "source": e.source.value,
            "summary": e.summary,
            "reliability": e.reliability.value,
            "credibility": e.credibility.value,
            "received_at": e.received_at,
            "submitted_at": env.time,
            "status": LeadStatus.NEW.value,
            "handling": env.handling.value,
            "tlp": env.tlp.value,
            "readers": sorted(env.readers or ()),
        }
    elif isinstance(e, LeadTriaged):
        props = {
            "status": LeadStatus.TRIAGED.value,
            "assignee": e.assignee,
            "priority": e.priority.value,
        }
    elif isinstance(e, LeadActioned):
        props = {"status": LeadStatus.ACTIONED.value}
    elif isinstance(e, LeadClosed):
        props = {"status": LeadStatus.CLOSED.value, "closing_reason": e.reason}
    elif isinstance(e, LeadDiscarded):
        props = {"status": LeadStatus.DISCARDED.value, "closing_reason": e.reason}
    else:
        return []
    return _own(env, e.lead_id, props)


def lead_organisations(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, LeadSubmitted)
    return [
        {
            **_base(env),
            "id": mentioned_id(e.lead_id, "organisation", i),
            "props": {"name": o.name, "country": o.country},
        }
        for i, o in enumerate(e.organisations)
    ]


def lead_locations(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, LeadSubmitted)
    return [
        {
            **_base(env),
            "id": mentioned_id(e.lead_id, "location", i),
            "props": {
                "name": loc.name,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
                "location": _point(loc.latitude, loc.longitude),
            },
        }
        for i, loc in enumerate(e.locations)
    ]


def _lead_mentions(kind: str, attr: str) -> Callable[[Envelope], list[Row]]:
    def rows(env: Envelope) -> list[Row]:
        e = env.data
        assert isinstance(e, LeadSubmitted)
        return [
            _edge(env, e.lead_id, mentioned_id(e.lead_id, kind, i), key="none")
            for i in range(len(getattr(e, attr)))
        ]

    return rows


def _link_kind_rows(kind: str) -> Callable[[Envelope], list[Row]]:
    def rows(env: Envelope) -> list[Row]:
        e = env.data
        assert isinstance(e, LeadActioned)
        return [_edge(env, e.lead_id, e.link_id)] if e.link_kind == kind else []

    return rows


def is_victim(role: PersonRole | None) -> bool:
    return role is PersonRole.VICTIM


def entity_audience(env: Envelope, role: PersonRole | None) -> list[str]:
    """Who may see what an observation says about an identifier: a victim's only its originator."""
    return [env.originator] if is_victim(role) else sorted(env.audience)


def person_rows(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, EntityObserved)
    if e.person is None:
        return []
    person = e.person
    victim = is_victim(e.role) or is_victim(person.role)
    return [
        {
            **_base(env),
            "id": e.entity_id,
            "identity_audience": [env.originator] if victim else sorted(env.audience),
            "props": {
                "originator": env.originator,
                "name": person.name,
                "latin_name": person.latin_name,
                "date_of_birth": person.date_of_birth,
                "nationality": person.nationality,
                "role": (e.role or person.role).value,
                "victim": victim,
            },
        }
    ]


def person_mentions(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, EntityObserved)
    if e.person is None:
        return []
    return [_edge(env, e.lead_id, e.entity_id, key=role_key(e.role or e.person.role))]


def identifier_rows(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, EntityObserved)
    if e.identifier is None:
        return []
    ident = e.identifier
    return [
        {
            **_base(env),
            "id": e.entity_id,
            "audience": entity_audience(env, e.role),
            "props": {"kind": ident.kind.value, "value": ident.value, "country": ident.country},
        }
    ]


def identifier_mentions(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, EntityObserved)
    if e.identifier is None:
        return []
    return [
        _edge(
            env,
            e.lead_id,
            e.entity_id,
            key=role_key(e.role),
            audience=entity_audience(env, e.role),
        )
    ]


def identifier_owners(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, EntityObserved)
    if e.identifier is None or e.person_entity_id is None:
        return []
    return [
        _edge(
            env,
            e.person_entity_id,
            e.entity_id,
            audience=entity_audience(env, e.role),
        )
    ]


# --- tasks

_TASK_STATUS: dict[type, TaskStatus] = {
    TaskAccepted: TaskStatus.ACCEPTED,
    TaskDeclined: TaskStatus.DECLINED,
    TaskStarted: TaskStatus.IN_PROGRESS,
    TaskBlocked: TaskStatus.BLOCKED,
    TaskUnblocked: TaskStatus.IN_PROGRESS,
    TaskCompleted: TaskStatus.COMPLETED,
    TaskCancelled: TaskStatus.CANCELLED,
    ReferralStopped: TaskStatus.STOPPED,
}


def task_props(env: Envelope) -> list[Row]:
    """The task's own properties after this event."""
    e = env.data
    props: Row
    if isinstance(e, TaskRequested):
        details = e.details
        props = {
            "status": TaskStatus.REQUESTED.value,
            "kind": details.kind,
            "team": e.team,
            "requested_by": e.by,
            "requested_at": e.at,
            "to_team": e.to_team,
            "to_member": e.to_member,
            "title": e.title,
            "description": e.description,
            "priority": e.priority.value,
            "respond_by": e.respond_by,
            "due_at": e.due_at,
            "handling": e.handling.code.value,
            "tlp": e.handling.tlp.value,
            "readers": sorted(env.readers or ()),
            "legal_basis": details.legal_basis if isinstance(details, LegalAssistance) else None,
            "requested_measure": details.requested_measure
            if isinstance(details, LegalAssistance)
            else None,
            "referral_service": details.service.value
            if isinstance(details, VictimReferral)
            else None,
            "nrm_reference": details.nrm_reference if isinstance(details, VictimReferral) else None,
            "consent": details.consent.decision.value
            if isinstance(details, VictimReferral) and details.consent
            else None,
        }
    elif isinstance(e, ConsentRecorded):
        props = {"consent": e.consent.decision.value, "consent_at": e.consent.at}
    elif isinstance(e, TaskOverdue):
        props = {"overdue": e.deadline.value, "overdue_since": e.due_at}
    elif type(e) in _TASK_STATUS:
        props = {"status": _TASK_STATUS[type(e)].value, f"{_TASK_STATUS[type(e)].value}_at": e.at}
        if isinstance(e, TaskAccepted):
            props["assignee"] = e.assignee
        elif isinstance(e, TaskDeclined):
            props["decline_reason"] = e.reason
        elif isinstance(e, TaskBlocked):
            props["block_reason"] = e.reason
        elif isinstance(e, TaskUnblocked):
            props["block_reason"] = None
        elif isinstance(e, TaskCompleted):
            props["result_summary"] = e.result_summary
        elif isinstance(e, TaskCancelled):
            props["cancel_reason"] = e.reason
        elif isinstance(e, ReferralStopped):
            props["stop_reason"] = e.reason
    else:
        return []
    return _own(env, e.task_id, props)


def _task_links(attr: str) -> Callable[[Envelope], list[Row]]:
    def rows(env: Envelope) -> list[Row]:
        e = env.data
        assert isinstance(e, TaskRequested)
        return [_edge(env, e.task_id, ref) for ref in getattr(e.links, attr)]

    return rows


def task_assigned(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, TaskRequested)
    return [_edge(env, e.task_id, e.to_team)]


def task_requester(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, TaskRequested)
    return [_edge(env, e.task_id, e.team)]


# --- operations and conflicts


def operation_props(env: Envelope) -> list[Row]:
    e = env.data
    props: Row
    if isinstance(e, OperationPlanned):
        props = {
            "team": e.team,
            "kind": e.kind.value,
            "status": "planned",
            "planned_by": e.planned_by,
            "planned_at": e.planned_at,
            "handling": env.handling.value,
            "tlp": env.tlp.value,
            "readers": sorted(env.readers or ()),
            **_place(e.place),
        }
    elif isinstance(e, OperationMoved):
        props = {"moved_by": e.moved_by, "moved_at": e.moved_at, **_place(e.place)}
    elif isinstance(e, OperationCancelled):
        props = {
            "status": "cancelled",
            "cancel_reason": e.reason,
            "cancelled_by": e.cancelled_by,
            "cancelled_at": e.cancelled_at,
        }
    else:
        return []
    return _own(env, e.operation_id, props)


CONFLICT_RESOLVERS = f"""
SET n.resolved_by = CASE WHEN row.resolver IS NULL THEN coalesce(n.resolved_by, [])
                    ELSE {union("n.resolved_by", "[row.resolver]")} END
"""


def conflict_props(env: Envelope) -> list[Row]:
    e = env.data
    resolver: str | None = None
    props: Row
    if isinstance(e, OperationConflictDetected):
        a, b = sorted(e.sides, key=lambda s: s.team)
        props = {
            "kind": "operation",
            "status": "open",
            "resolved_by": [],
            "teams": sorted(e.teams),
            "overlap_latitude": e.overlap_latitude,
            "overlap_longitude": e.overlap_longitude,
            "overlap_radius_m": e.overlap_radius_m,
            "overlap_location": _point(e.overlap_latitude, e.overlap_longitude),
            "overlap_starts_at": e.overlap_starts_at,
            "overlap_ends_at": e.overlap_ends_at,
            "severity": e.severity,
            "category": e.category,
            "detected_at": e.detected_at,
            "side_a_team": a.team,
            "side_a_operation": a.operation_id,
            **_desk("side_a", a.desk),
            "side_b_team": b.team,
            "side_b_operation": b.operation_id,
            **_desk("side_b", b.desk),
        }
        row = _own(env, e.conflict_id, props)[0]
    elif isinstance(e, OperationConflictResolutionRecorded):
        resolver = e.team
        row = _own(env, e.conflict_id, {"last_resolution_at": e.recorded_at})[0]
    elif isinstance(e, OperationConflictResolved):
        row = _own(env, e.conflict_id, {"status": "resolved", "resolved_at": e.resolved_at})[0]
    elif isinstance(e, OperationConflictCleared):
        row = _own(
            env,
            e.conflict_id,
            {"status": "cleared", "clear_cause": e.cause, "cleared_at": e.cleared_at},
        )[0]
    else:
        return []
    return [{**row, "resolver": resolver}]


def conflict_operations(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, OperationConflictDetected)
    return [_edge(env, e.conflict_id, side.operation_id) for side in e.sides]


def conflict_teams(env: Envelope) -> list[Row]:
    e = env.data
    if isinstance(e, OperationConflictDetected | DeconflictionHit):
        teams = sorted(e.teams)
        node = e.conflict_id if isinstance(e, OperationConflictDetected) else e.hit_id
    elif isinstance(e, RoleConflictDetected):
        teams = sorted({e.victim.team, e.suspect.team})
        node = e.conflict_id
    else:
        return []
    return [_edge(env, team, node) for team in teams]


def role_conflict_props(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, RoleConflictDetected)
    props = {
        "kind": "role",
        "status": "open",
        "match_kind": str(e.kind),
        "hit_id": e.hit_id,
        "severity": e.severity,
        "category": e.category,
        "note": e.note,
        "victim_team": e.victim.team,
        **_desk("victim", e.victim.desk),
        "suspect_team": e.suspect.team,
        **_desk("suspect", e.suspect.desk),
        "detected_at": e.detected_at,
    }
    return [{**_own(env, e.conflict_id, props)[0], "resolver": None}]


def role_conflict_hit(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, RoleConflictDetected)
    return [_edge(env, e.conflict_id, e.hit_id)]


# --- hits and registrations


def hit_props(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, DeconflictionHit)
    props = {
        "kind": str(e.kind),
        "status": e.status.value,
        "score": e.score,
        "cross_jit": e.cross_jit,
        "jits": sorted({e.registering.jit, e.holding.jit}),
        "registering_team": e.registering.team,
        **_desk("registering", e.registering.desk),
        "holding_team": e.holding.team,
        **_desk("holding", e.holding.desk),
        "detected_at": e.detected_at,
    }
    # Hits are told by token and person-block aggregates alike: ordered by time, not version.
    return _own(env, e.hit_id, props, versioned=False)


def hit_registrations(env: Envelope) -> list[Row]:
    """Each side's registration is linked for its own team only: the other learns nothing of it."""
    e = env.data
    assert isinstance(e, DeconflictionHit)
    return [
        _edge(env, e.hit_id, side.registration_id, audience=[side.team])
        for side in (e.registering, e.holding)
    ]


def hit_details_props(env: Envelope) -> list[Row]:
    e = env.data
    props: Row
    if isinstance(e, DeconflictionDetailsReleased):
        props = {
            "hit_id": e.hit_id,
            "by_team": e.by_team,
            "to_team": e.to_team,
            "status": "released",
            "by": e.by,
            "at": e.released_at,
            "source_ref": e.details.source_ref,
            "summary_ref": e.details.summary_ref,
            "contact_officer": e.details.contact_officer,
            "note": e.details.note,
            "reason": None,
        }
    elif isinstance(e, DeconflictionDetailsDeclined):
        props = {
            "hit_id": e.hit_id,
            "by_team": e.by_team,
            "to_team": e.to_team,
            "status": "declined",
            "by": e.by,
            "at": e.declined_at,
            "reason": e.reason,
        }
    else:
        return []
    return _own(env, f"{e.hit_id}|{e.by_team}", props)


def hit_details_of(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, DeconflictionDetailsReleased | DeconflictionDetailsDeclined)
    return [_edge(env, f"{e.hit_id}|{e.by_team}", e.hit_id)]


def registration_rows(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, TokenRegistered | PersonRegistered)
    kind = e.kind.value if isinstance(e, TokenRegistered) else "person"
    return [
        {
            **_base(env),
            "jit": e.jit,
            "id": e.registration_id,
            "audience": [e.team],
            "props": {
                "team": e.team,
                "kind": kind,
                "role": e.role.value if e.role else None,
                "source_ref": e.source_ref,
            },
        }
    ]


def registration_source(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, TokenRegistered | PersonRegistered)
    return [{**_edge(env, e.registration_id, e.source_ref, audience=[e.team]), "jit": e.jit}]


# --- alerts

ALERT_LINK_LABELS: dict[LinkKind, str] = {
    LinkKind.LEAD: "Lead",
    LinkKind.TASK: "Task",
    LinkKind.OPERATION: "Operation",
    LinkKind.ENTITY: "Entity",
    LinkKind.REGISTRATION: "Registration",
    LinkKind.HIT: "DeconflictionHit",
    LinkKind.CONFLICT: "Conflict",
    LinkKind.ALERT: "Alert",
}


def alert_props(env: Envelope) -> list[Row]:
    e = env.data
    props: Row
    if isinstance(e, AlertRaised):
        props = {
            "status": "raised",
            "severity": e.severity.value,
            "category": e.category.value,
            "target_teams": sorted(e.target_teams),
            "summary": e.summary,
            "raised_by": e.raised_by,
            "raising_team": e.raising_team,
            "raised_at": e.raised_at,
            "acknowledge_by": e.acknowledge_by,
            "escalates_at": e.escalates_at,
            "coordinator_team": e.coordinator_team,
            "handling": e.handling.code.value,
            "tlp": e.handling.tlp.value,
            "readers": sorted(env.readers or ()),
        }
    elif isinstance(e, AlertAcknowledged):
        props = {
            "status": "acknowledged",
            "acknowledged_by": e.by,
            "acknowledged_team": e.team,
            "acknowledged_at": e.at,
        }
    elif isinstance(e, AlertEscalated):
        props = {
            "escalation_step": e.step,
            "repages": e.repeat,
            "escalated_to": e.to.value,
            "escalated_at": e.at,
            "acknowledge_by": e.acknowledge_by,
            "escalates_at": e.next_escalation_at,
        }
    elif isinstance(e, AlertResolved):
        props = {
            "status": "resolved",
            "resolved_by": e.by,
            "resolved_team": e.team,
            "resolution_reason": e.reason,
            "resolved_at": e.at,
        }
    else:
        return []
    return _own(env, e.alert_id, props)


def alert_dedup(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, AlertDeduplicated)
    return [
        {
            "id": e.alert_id,
            "jit": env.jit,
            "audience": sorted(env.audience),
            "count": e.count,
            "last_seen": e.last_seen,
        }
    ]


def _alert_links(kind: LinkKind) -> Callable[[Envelope], list[Row]]:
    def rows(env: Envelope) -> list[Row]:
        e = env.data
        assert isinstance(e, AlertRaised)
        return [_edge(env, e.alert_id, ln.id) for ln in e.links if ln.kind is kind]

    return rows


def alert_routed(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, AlertRouted)
    props: Row = {"desk": e.desk, "basis": e.basis.value}
    if e.team_lead is not None:
        props["team_lead"] = e.team_lead
    return [_edge(env, e.alert_id, e.team, props=props)]


def desk_escalation_props(env: Envelope) -> list[Row]:
    """A desk's (or the JIT's, team ``*``) escalation times; a reset removes them."""
    e = env.data
    assert isinstance(e, DeskEscalationSet)
    times = e.times
    props: Row = {
        "team": e.team,
        "p1_seconds": times.p1_seconds if times else None,
        "p2_seconds": times.p2_seconds if times else None,
        "p3_seconds": times.p3_seconds if times else None,
        "repage_seconds": times.repage_seconds if times else None,
        "set_by": e.by,
    }
    return _own(env, f"{e.jit}/{e.team}", props)


# --- directory


def jit_props(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, JitRegistered)
    return [
        {
            **_base(env),
            "id": e.jit_id,
            "audience": sorted(set(e.member_teams)),
            "props": {
                "name": e.name,
                "legal_basis": e.legal_basis,
                "coordinator_team": e.coordinator_team,
                "member_teams": sorted(set(e.member_teams)),
                "starts_on": e.starts_on,
                "ends_on": e.ends_on,
                "cross_jit_matching": e.cross_jit_matching,
            },
        }
    ]


def team_props(env: Envelope) -> list[Row]:
    e = env.data
    assert isinstance(e, TeamRegistered)
    return [{**_base(env), "id": e.team, "props": {"name": e.name, "country": e.country}}]


def desk_props(env: Envelope) -> list[Row]:
    """The desk's contact point; its webhook URL (which may carry a token) is never projected."""
    e = env.data
    assert isinstance(e, DeskRegistered)
    return [
        {
            **_base(env),
            "id": e.team,
            "props": {"desk_name": e.name, "desk_phone": e.phone, "desk_email": e.email},
        }
    ]


# --- timeline


def _summary(env: Envelope) -> tuple[str, str, str] | None:
    """(subject kind, subject id, one line without personal data) for the JIT timeline."""
    e = env.data
    verb = env.type.rsplit(".", 1)[-1].replace("_", " ")
    if isinstance(e, LeadSubmitted):
        return (
            "Lead",
            e.lead_id,
            f"lead submitted by {e.team} ({e.source.value}, graded "
            f"{e.reliability.value}{e.credibility.value}): {len(e.persons)} persons, "
            f"{len(e.identifiers)} identifiers",
        )
    if isinstance(e, LeadTriaged):
        return ("Lead", e.lead_id, f"lead triaged, priority {e.priority.value}")
    if isinstance(e, LeadActioned):
        return ("Lead", e.lead_id, f"lead actioned: linked to {e.link_kind} {e.link_id}")
    if isinstance(e, LeadClosed | LeadDiscarded):
        return ("Lead", e.lead_id, f"lead {verb}")
    if isinstance(e, TaskRequested):
        return ("Task", e.task_id, f"{e.details.kind.replace('_', ' ')} requested by {e.team} "
                f"from {e.to_team}, priority {e.priority.value}")  # fmt: skip
    if isinstance(e, TaskOverdue):
        return ("Task", e.task_id, f"task overdue ({e.deadline.value}) for {e.responsible_team}")
    if isinstance(e, TaskCommented | ConsentRecorded | ReferralStopped) or type(e) in _TASK_STATUS:
        return ("Task", e.task_id, f"task {verb} by {e.team}")
    if isinstance(e, OperationPlanned):
        return (
            "Operation",
            e.operation_id,
            f"{e.kind.value.replace('_', ' ')} planned by {e.team}",
        )
    if isinstance(e, OperationMoved | OperationCancelled):
        return ("Operation", e.operation_id, f"operation {verb} by {e.team}")
    if isinstance(e, OperationConflictDetected):
        return ("Conflict", e.conflict_id, "operations overlap in place and time (P1)")
    if isinstance(
        e,
        OperationConflictResolutionRecorded | OperationConflictResolved | OperationConflictCleared,
    ):
        return ("Conflict", e.conflict_id, f"operation conflict: {verb}")
    if isinstance(e, RoleConflictDetected):
        return (
            "Conflict",
            e.conflict_id,
            "role conflict: a victim of one team is another's suspect",
        )
    if isinstance(e, DeconflictionHit):
        return ("DeconflictionHit", e.hit_id, f"deconfliction hit ({e.kind}, {e.status.value})")
    if isinstance(e, DeconflictionDetailsReleased | DeconflictionDetailsDeclined):
        return ("DeconflictionHit", e.hit_id, f"hit details {verb} by {e.by_team}")
    if isinstance(e, AlertRaised):
        return ("Alert", e.alert_id, f"{e.severity.value} {e.category.value} alert raised")
    if isinstance(e, AlertAcknowledged | AlertResolved):
        return ("Alert", e.alert_id, f"alert {verb} by {e.by} ({e.team})")
    if isinstance(e, AlertEscalated):
        if e.repeat:
            return ("Alert", e.alert_id, f"alert paged again ({e.repeat}) to {e.to.value}")
        return ("Alert", e.alert_id, f"alert escalated (step {e.step}) to {e.to.value}")
    if isinstance(e, AlertDeduplicated):
        return ("Alert", e.alert_id, f"alert repeated ({e.count} times)")
    if isinstance(e, ReviewDue):
        return (
            SUBJECT_LABELS[e.subject_kind],
            e.subject_id,
            f"{e.subject_kind.value} due for review: erased after "
            f"{e.erase_after:%Y-%m-%d} unless kept longer",
        )
    if isinstance(e, RetentionExtended):
        return (
            SUBJECT_LABELS[e.subject_kind],
            e.subject_id,
            f"{e.subject_kind.value} kept {e.days} days longer, until {e.erase_after:%Y-%m-%d}",
        )
    return None


SUBJECT_LABELS = {
    SubjectKind.LEAD: "Lead",
    SubjectKind.TASK: "Task",
    SubjectKind.OPERATION: "Operation",
}


def activity(env: Envelope) -> list[Row]:
    described = _summary(env)
    if described is None:
        return []
    kind, subject, summary = described
    return [
        {
            "id": env.id,
            "jit": env.jit,
            "audience": sorted(env.audience),
            "props": {
                "type": env.type,
                "at": env.time,
                "originator": env.originator,
                "subject_kind": kind,
                "subject_id": subject,
                "summary": summary,
            },
        }
    ]


# --- erasure


def _erased(kind: SubjectKind) -> Callable[[Envelope], list[Row]]:
    def rows(env: Envelope) -> list[Row]:
        e = env.data
        assert isinstance(e, SubjectErased)
        return [{"id": e.subject_id, "jit": env.jit}] if e.subject_kind is kind else []

    return rows


ERASE_LEAD_COMBINATIONS = """
UNWIND $rows AS row
MATCH (r:Registration {source_ref: row.id}) WHERE r.jit = row.jit
OPTIONAL MATCH (r)-[]-(h:DeconflictionHit)
OPTIONAL MATCH (h)-[]-(d:HitDetails)
OPTIONAL MATCH (h)-[]-(c:RoleConflict)
WITH collect(DISTINCT r) + collect(DISTINCT h) + collect(DISTINCT d) + collect(DISTINCT c) AS gone
UNWIND gone AS n
OPTIONAL MATCH (a:Activity {subject_id: n.id})
DETACH DELETE a, n
"""
"""A lead's registrations, and the hits (with released details and role conflicts) they made:
a combination of two teams' data does not outlive one side's erasure."""

ERASE_LEAD_ENTITIES = """
UNWIND $rows AS row
MATCH (:Lead {id: row.id})-[]-(m)
WHERE (m:Person OR m:Identifier OR m:Organisation OR m:Location)
  AND NOT EXISTS { MATCH (m)-[]-(other:Lead) WHERE other.id <> row.id }
DETACH DELETE m
"""
"""What only this lead mentions: its persons, and identifiers no other lead mentions."""

NARROW_SHARED_IDENTIFIERS = """
UNWIND $rows AS row
MATCH (:Lead {id: row.id})-[x]-(i:Identifier)
DELETE x
WITH DISTINCT i
MATCH (i)-[y]-(:Lead)
UNWIND y.audience AS team
WITH i, team ORDER BY team
WITH i, collect(DISTINCT team) AS audience
SET i.audience = audience
"""
"""An identifier other leads mention stays, seen only by the teams those mentions allow."""

ERASE_NODE = """
UNWIND $rows AS row
OPTIONAL MATCH (a:Activity {{subject_id: row.id}}) WHERE a.jit = row.jit
DETACH DELETE a
WITH DISTINCT row
OPTIONAL MATCH (n:{label} {{id: row.id}})
DETACH DELETE n
"""

ERASE_OPERATION_CONFLICTS = """
UNWIND $rows AS row
MATCH (:Operation {id: row.id})-[]-(c:Conflict)
OPTIONAL MATCH (a:Activity {subject_id: c.id})
DETACH DELETE a, c
"""
"""A conflict between an erased operation and another goes with it."""

ERASURE: tuple[Statement, ...] = (
    Statement(ERASE_LEAD_COMBINATIONS, _erased(SubjectKind.LEAD), last=True),
    Statement(ERASE_LEAD_ENTITIES, _erased(SubjectKind.LEAD), last=True),
    Statement(NARROW_SHARED_IDENTIFIERS, _erased(SubjectKind.LEAD), last=True),
    Statement(ERASE_NODE.format(label="Lead"), _erased(SubjectKind.LEAD), last=True),
    Statement(ERASE_NODE.format(label="Task"), _erased(SubjectKind.TASK), last=True),
    Statement(ERASE_OPERATION_CONFLICTS, _erased(SubjectKind.OPERATION), last=True),
    Statement(ERASE_NODE.format(label="Operation"), _erased(SubjectKind.OPERATION), last=True),
)
"""What a subject's erasure removes from the graph. A rebuild after it replays the same: the
subject's sealed events cannot be opened any more, and the erasure removes what unsealed events
(hits, links, alerts) still say about it."""


# ------------------------------------------------------------------------------ catalogue

LEAD = Statement(upsert("Lead"), lead_props, gated=True)
TASK = Statement(upsert("Task"), task_props, gated=True)
OPERATION = Statement(upsert("Operation"), operation_props, gated=True)
CONFLICT = Statement(
    upsert("Conflict", also="OperationConflict", after=CONFLICT_RESOLVERS),
    conflict_props,
    gated=True,
)
ROLE_CONFLICT = Statement(
    upsert("Conflict", also="RoleConflict", after=CONFLICT_RESOLVERS),
    role_conflict_props,
    gated=True,
)
HIT = Statement(upsert("DeconflictionHit"), hit_props, gated=True)
HIT_DETAILS = Statement(upsert("HitDetails"), hit_details_props, gated=True)
ALERT = Statement(upsert("Alert"), alert_props, gated=True)
ACTIVITY_ROWS = Statement(ACTIVITY, activity)
TEAM_INVOLVED = Statement(link("Team", "INVOLVED_IN", "DeconflictionHit"), conflict_teams)
TEAM_IN_CONFLICT = Statement(link("Team", "INVOLVED_IN", "Conflict"), conflict_teams)

_LEAD_EVENT = (LEAD, ACTIVITY_ROWS)
_TASK_EVENT = (TASK, ACTIVITY_ROWS)
_ALERT_EVENT = (ALERT, ACTIVITY_ROWS)

STATEMENTS: dict[str, tuple[Statement, ...]] = {
    LeadSubmitted.type: (
        LEAD,
        Statement(merge_node("Organisation"), lead_organisations),
        Statement(merge_node("Location"), lead_locations),
        Statement(
            link("Lead", "MENTIONS", "Organisation", keyed=True),
            _lead_mentions("organisation", "organisations"),
        ),
        Statement(
            link("Lead", "MENTIONS", "Location", keyed=True),
            _lead_mentions("location", "locations"),
        ),
        ACTIVITY_ROWS,
    ),
    LeadTriaged.type: _LEAD_EVENT,
    LeadClosed.type: _LEAD_EVENT,
    LeadDiscarded.type: _LEAD_EVENT,
    LeadActioned.type: (
        LEAD,
        Statement(link("Lead", "LINKED_TO", "Task"), _link_kind_rows("task")),
        Statement(link("Lead", "LINKED_TO", "Operation"), _link_kind_rows("operation")),
        ACTIVITY_ROWS,
    ),
    EntityObserved.type: (
        Statement(merge_node("Entity", also="Person", identity=True), person_rows),
        Statement(merge_node("Entity", also="Identifier"), identifier_rows),
        Statement(link("Lead", "MENTIONS", "Entity", keyed=True), person_mentions),
        Statement(link("Lead", "MENTIONS", "Entity", keyed=True), identifier_mentions),
        Statement(link("Entity", "HAS_IDENTIFIER", "Entity"), identifier_owners),
    ),
    TaskRequested.type: (
        TASK,
        Statement(link("Task", "LINKED_TO", "Lead"), _task_links("leads")),
        Statement(link("Task", "TARGETS", "Entity"), _task_links("entities")),
        Statement(link("Task", "LINKED_TO", "Operation"), _task_links("operations")),
        Statement(link("Task", "ASSIGNED_TO", "Team"), task_assigned),
        Statement(link("Task", "REQUESTED_BY", "Team"), task_requester),
        ACTIVITY_ROWS,
    ),
    **{
        t.type: _TASK_EVENT
        for t in (
            TaskAccepted,
            TaskDeclined,
            TaskStarted,
            TaskBlocked,
            TaskUnblocked,
            TaskCompleted,
            TaskCancelled,
            ConsentRecorded,
            ReferralStopped,
            TaskOverdue,
        )
    },
    TaskCommented.type: (ACTIVITY_ROWS,),
    OperationPlanned.type: (OPERATION, ACTIVITY_ROWS),
    OperationMoved.type: (OPERATION, ACTIVITY_ROWS),
    OperationCancelled.type: (OPERATION, ACTIVITY_ROWS),
    OperationConflictDetected.type: (
        CONFLICT,
        Statement(link("Conflict", "CONCERNS", "Operation"), conflict_operations),
        TEAM_IN_CONFLICT,
        ACTIVITY_ROWS,
    ),
    OperationConflictResolutionRecorded.type: (CONFLICT, ACTIVITY_ROWS),
    OperationConflictResolved.type: (CONFLICT, ACTIVITY_ROWS),
    OperationConflictCleared.type: (CONFLICT, ACTIVITY_ROWS),
    RoleConflictDetected.type: (
        ROLE_CONFLICT,
        Statement(link("Conflict", "CONCERNS", "DeconflictionHit"), role_conflict_hit),
        TEAM_IN_CONFLICT,
        ACTIVITY_ROWS,
    ),
    DeconflictionHit.type: (
        HIT,
        Statement(link("DeconflictionHit", "MATCHED", "Registration"), hit_registrations),
        TEAM_INVOLVED,
        ACTIVITY_ROWS,
    ),
    DeconflictionDetailsReleased.type: (
        HIT_DETAILS,
        Statement(link("HitDetails", "DETAILS_OF", "DeconflictionHit"), hit_details_of),
        ACTIVITY_ROWS,
    ),
    DeconflictionDetailsDeclined.type: (
        HIT_DETAILS,
        Statement(link("HitDetails", "DETAILS_OF", "DeconflictionHit"), hit_details_of),
        ACTIVITY_ROWS,
    ),
    TokenRegistered.type: (
        Statement(merge_node("Registration"), registration_rows),
        Statement(link("Registration", "REGISTERS", "Lead"), registration_source),
    ),
    PersonRegistered.type: (
        Statement(merge_node("Registration"), registration_rows),
        Statement(link("Registration", "REGISTERS", "Lead"), registration_source),
    ),
    AlertRaised.type: (
        ALERT,
        *(
            Statement(link("Alert", "RAISED_FOR", label), _alert_links(kind))
            for kind, label in ALERT_LINK_LABELS.items()
        ),
        ACTIVITY_ROWS,
    ),
    AlertRouted.type: (Statement(link("Alert", "SENT_TO", "Team"), alert_routed),),
    AlertAcknowledged.type: _ALERT_EVENT,
    AlertEscalated.type: _ALERT_EVENT,
    AlertResolved.type: _ALERT_EVENT,
    AlertDeduplicated.type: (Statement(ALERT_DEDUP, alert_dedup), ACTIVITY_ROWS),
    DeskEscalationSet.type: (
        Statement(upsert("DeskEscalation"), desk_escalation_props, gated=True),
    ),
    JitRegistered.type: (Statement(JIT_UPSERT, jit_props, gated=True),),
    TeamRegistered.type: (Statement(team_upsert(""), team_props, gated=True),),
    DeskRegistered.type: (Statement(team_upsert("desk_"), desk_props, gated=True),),
    SubjectErased.type: ERASURE,
    ReviewDue.type: (ACTIVITY_ROWS,),
    RetentionExtended.type: (ACTIVITY_ROWS,),
}
"""Every projected event type and the statements that write it."""

IGNORED: dict[str, str] = {
    LeadRejected.type: "nothing was written: the refused submission has no lead to project",
    MemberRegistered.type: "members and roles are identity data for the gateway, not for the graph",
    AlertDelivered.type: "delivery receipts are the alert service's record, not investigation data",
    WebhookDeliveryFailed.type: "webhook failures are delivery plumbing, not investigation data",
    DeskRuleSet.type: "desk paging rules are configuration, not investigation data",
    RetentionPolicySet.type: "retention periods are configuration, read by the retention service",
}
"""Event types on the projected topics that are deliberately not written, with the reason."""


def plan(envelopes: Iterable[Envelope]) -> list[tuple[str, list[Row]]]:
    """Group a batch into one UNWIND per statement.

    Only gated statements depend on order, and each node's gated properties are written by one
    statement, so rows can be grouped per statement; gated rows are then sorted by node and by
    event order, which also takes locks in one order (fewer deadlocks) and keeps a duplicated
    older event from overtaking a newer one within a batch.
    """
    groups: dict[str, tuple[Statement, list[Row]]] = {}
    for env in envelopes:
        for stmt in STATEMENTS.get(env.type, ()):
            rows = stmt.rows(env)
            if rows:
                groups.setdefault(stmt.cypher, (stmt, []))[1].extend(rows)
    planned: list[tuple[str, list[Row]]] = []
    for cypher, (stmt, rows) in sorted(groups.items(), key=lambda item: item[1][0].last):
        if stmt.gated:
            rows.sort(key=_event_order)
        planned.append((cypher, rows))
    return planned


def _event_order(row: Row) -> tuple[str, int, datetime, str]:
    return (str(row["id"]), int(row["version"]), row["time"], str(row["event_id"]))


def checkpoint_rows(group: str, positions: Iterable[tuple[str, int, int, int]]) -> list[Row]:
    """Checkpoint rows from (topic, partition, offset, record timestamp ms) of a written batch."""
    newest: dict[tuple[str, int], tuple[int, int]] = {}
    for topic, partition, offset, record_ms in positions:
        old = newest.get((topic, partition), (-1, 0))
        newest[(topic, partition)] = (max(old[0], offset), max(old[1], record_ms))
    return [
        {
            "id": f"{group}|{topic}|{partition}",
            "group": group,
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "record_ms": record_ms,
        }
        for (topic, partition), (offset, record_ms) in sorted(newest.items())
    ]


def projected_types() -> Sequence[str]:
    return tuple(STATEMENTS)
