"""The visibility rule and how a graph element is shown to a team. Pure: no Neo4j, no I/O.

Every view query filters by ``$team IN x.audience`` in Cypher; every element it returns then
passes :func:`checked` here as well, so a query that forgot a filter fails loudly (a bug, 500)
instead of leaking. Properties are shown through a whitelist per label: scoping lists
(``audience``), bookkeeping (versions) and anything that names teams other than the ones the
record is shared with never leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from events.handling import victim_pseudonym
from services.kit.disclosure import Marking, Record, Redactor, Viewer
from services.kit.disclosure import may_see as policy_may_see


@dataclass(frozen=True)
class Scope:
    """Who reads, and the redaction of the JIT's victims hidden from them (the policy's)."""

    viewer: Viewer
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def team(self) -> str:
        return self.viewer.team


def scope_of(team: str | Scope) -> Scope:
    return team if isinstance(team, Scope) else Scope(Viewer(team))


TEXT: dict[str, tuple[str, ...]] = {
    "Lead": ("summary", "closing_reason"),
    "Task": (
        "title", "description", "requested_measure", "decline_reason", "block_reason",
        "result_summary", "cancel_reason", "stop_reason",
    ),
    "Alert": ("summary", "resolution_reason"),
    "Operation": ("cancel_reason",),
    "HitDetails": ("note", "reason"),
    "RoleConflict": ("note",),
    "Activity": ("summary",),
}  # fmt: skip
"""Free text each kind of node holds: the disclosure policy redacts it for every viewer."""

MARKED = frozenset({"Lead", "Task", "Alert", "Operation"})
"""Kinds that carry their own TLP and handling code, shown with every read of them."""


class ScopeViolationError(RuntimeError):
    """A query returned an element the viewing team may not see: a bug, never shown to anyone."""


def may_see(team: str, audience: Iterable[str] | None) -> bool:
    """Whether ``team`` may see an element whose audience is ``audience`` (None: nobody)."""
    return audience is not None and team in audience


def identity_visible(team: str, props: Mapping[str, Any]) -> bool:
    """Whether ``team`` may see who a person is (a victim: only its originator may)."""
    if "identity_audience" in props:
        return may_see(team, props["identity_audience"])
    return not props.get("victim") or props.get("originator") == team


def checked(
    team: str | Scope, element: Mapping[str, Any], what: str = "element"
) -> Mapping[str, Any]:
    """``element``'s properties, after making sure the viewer may see it (the policy's rules)."""
    scope = scope_of(team)
    record = Record.of_props(element)
    if record is None or not policy_may_see(scope.viewer, record):
        raise ScopeViolationError(f"a view returned a {what} that team {scope.team} may not see")
    return element


PERSON_IDENTITY = ("name", "latin_name", "date_of_birth", "nationality")

FIELDS: dict[str, tuple[str, ...]] = {
    "Lead": (
        "id", "jit", "originator", "team", "source", "summary", "reliability", "credibility",
        "received_at", "submitted_at", "submitted_by", "status", "assignee", "priority",
        "closing_reason", "handling", "tlp",
    ),
    "Person": ("id", "jit", *PERSON_IDENTITY, "role", "victim"),
    "Identifier": ("id", "jit", "kind", "value", "country"),
    "Organisation": ("id", "jit", "name", "country"),
    "Location": ("id", "jit", "name", "latitude", "longitude"),
    "Operation": (
        "id", "jit", "team", "kind", "status", "latitude", "longitude", "radius_m", "starts_at",
        "ends_at", "planned_by", "planned_at", "moved_at", "cancel_reason", "cancelled_at",
        "handling", "tlp",
    ),
    "Task": (
        "id", "jit", "kind", "title", "description", "priority", "status", "team", "requested_by",
        "requested_at", "to_team", "to_member", "assignee", "respond_by", "due_at", "legal_basis",
        "requested_measure", "referral_service", "nrm_reference", "consent", "decline_reason",
        "block_reason", "result_summary", "cancel_reason", "stop_reason", "overdue",
        "overdue_since", "handling", "tlp",
    ),
    "Alert": (
        "id", "jit", "severity", "category", "summary", "status", "target_teams", "raising_team",
        "raised_at", "acknowledge_by", "escalates_at", "acknowledged_team", "acknowledged_at",
        "escalation_step", "escalated_to", "resolved_team", "resolution_reason", "resolved_at",
        "duplicate_count", "last_seen", "handling", "tlp", "raised_by", "acknowledged_by",
        "resolved_by", "repages",
    ),
    "DeskEscalation": (
        "id", "jit", "team", "p1_seconds", "p2_seconds", "p3_seconds", "repage_seconds", "set_by",
    ),
    "DeconflictionHit": (
        "id", "jit", "kind", "status", "score", "cross_jit", "registering_team",
        "registering_desk_name", "registering_desk_phone", "registering_desk_email",
        "holding_team", "holding_desk_name", "holding_desk_phone", "holding_desk_email",
        "detected_at",
    ),
    "HitDetails": (
        "id", "hit_id", "by_team", "to_team", "status", "at", "source_ref", "summary_ref",
        "contact_officer", "note", "reason",
    ),
    "OperationConflict": (
        "id", "jit", "kind", "status", "teams", "resolved_by", "overlap_latitude",
        "overlap_longitude", "overlap_radius_m", "overlap_starts_at", "overlap_ends_at",
        "severity", "category", "detected_at", "side_a_team", "side_a_operation",
        "side_a_desk_name", "side_a_desk_phone", "side_a_desk_email", "side_b_team",
        "side_b_operation", "side_b_desk_name", "side_b_desk_phone", "side_b_desk_email",
        "resolved_at", "cleared_at", "clear_cause",
    ),
    "RoleConflict": (
        "id", "jit", "kind", "status", "match_kind", "hit_id", "severity", "category", "note",
        "victim_team", "victim_desk_name", "victim_desk_phone", "victim_desk_email",
        "suspect_team", "suspect_desk_name", "suspect_desk_phone", "suspect_desk_email",
        "detected_at",
    ),
    "Registration": ("id", "jit", "team", "kind", "role", "source_ref"),
    "Activity": ("id", "jit", "type", "at", "originator", "subject_kind", "subject_id", "summary"),
    "Team": ("id", "name", "country", "desk_name", "desk_phone", "desk_email"),
    "JIT": (
        "id", "name", "legal_basis", "coordinator_team", "member_teams", "starts_on", "ends_on",
    ),
}  # fmt: skip
"""What each kind of node may show, to a team that may see the node."""

KIND_ORDER = tuple(FIELDS)


def kind_of(labels: Iterable[str]) -> str:
    """The most specific presentable label of a node (a Person is also an Entity)."""
    found = set(labels)
    for kind in KIND_ORDER:
        if kind in found:
            return kind
    return "Entity"


def plain(value: Any) -> Any:
    """A Neo4j value as JSON: temporal values as ISO 8601, points as latitude/longitude."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    iso = getattr(value, "iso_format", None)
    if callable(iso):
        return iso()
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    return str(value)


def present(team: str | Scope, labels: Iterable[str], props: Mapping[str, Any]) -> dict[str, Any]:
    """A node as the viewer may see it: whitelisted fields, free text redacted by the disclosure
    policy, its marking; a hidden identity is a pseudonym."""
    scope = scope_of(team)
    team = scope.team
    checked(scope, props, "node")
    kind = kind_of(labels)
    shown = {f: plain(props.get(f)) for f in FIELDS.get(kind, ("id",)) if props.get(f) is not None}
    if scope.redactor and props.get("originator", props.get("team")) != team:
        shown = scope.redactor.redact_all(shown, TEXT.get(kind, ()))
    if kind in MARKED:
        shown["marking"] = Marking.of(props.get("tlp"), props.get("handling")).as_dict()
    if kind == "Person" and not identity_visible(team, props):
        pseudonym = victim_pseudonym(str(props["id"]))
        for f in PERSON_IDENTITY:
            shown.pop(f, None)
        shown |= {"name": pseudonym, "latin_name": pseudonym, "pseudonymised": True}
    if kind == "Lead" and props.get("originator") == team:
        shown["shared_with"] = [t for t in props.get("audience", ()) if t != team]
    return shown


def caption(kind: str, shown: Mapping[str, Any]) -> str:
    """A short label for a node in a graph view, from what the team may see of it."""
    match kind:
        case "Person" | "Organisation" | "Location" | "Team" | "JIT":
            return str(shown.get("name") or shown.get("id"))
        case "Identifier":
            return f"{shown.get('kind')}: {shown.get('value')}"
        case "Lead":
            summary = str(shown.get("summary") or "")
            return summary[:60] + ("…" if len(summary) > 60 else "")
        case "Operation":
            return (
                f"{str(shown.get('kind', 'operation')).replace('_', ' ')} ({shown.get('status')})"
            )
        case "Task":
            return str(shown.get("title") or "task")
        case "Alert":
            return f"{shown.get('severity')} {shown.get('category')}"
        case "DeconflictionHit":
            return f"hit: {shown.get('kind')} ({shown.get('status')})"
        case _:
            return f"{kind} {shown.get('id')}"


def node_ref(kind: str, node_id: str) -> str:
    """A node's id in a graph view: ids are unique per kind, so the kind is part of it."""
    return f"{kind}:{node_id}"


def graph_node(
    team: str | Scope, labels: Iterable[str], props: Mapping[str, Any]
) -> dict[str, Any]:
    """A node shaped for a graph view: ``{id, ref, kind, label, data}``."""
    labels = list(labels)
    kind = kind_of(labels)
    shown = present(team, labels, props)
    return {
        "id": node_ref(kind, str(props["id"])),
        "ref": props["id"],
        "kind": kind,
        "label": caption(kind, shown),
        "data": shown,
    }


EDGE_FIELDS = ("key", "desk", "basis")


def graph_edge(
    team: str | Scope, rel_type: str, props: Mapping[str, Any], source: str, target: str
) -> dict[str, Any]:
    """A relationship shaped for a graph view: ``{id, source, target, type, data}``."""
    checked(team, props, "relationship")
    data = {f: plain(props[f]) for f in EDGE_FIELDS if props.get(f) is not None}
    if "key" in data:
        data["role"] = data.pop("key")
    suffix = f":{data['role']}" if "role" in data else ""
    return {
        "id": f"{rel_type}:{source}->{target}{suffix}",
        "source": source,
        "target": target,
        "type": rel_type,
        "data": data,
    }
