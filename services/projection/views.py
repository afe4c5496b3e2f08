"""The one query layer: every read takes the viewing team and cannot return anything else.

Two locks on every read. Each Cypher query filters every node and relationship it touches, on
every path it follows, by ``$team IN x.audience`` (and a person's identity by its
``identity_audience``). Then every element a query returns passes through ``scoping`` in Python,
which raises ``ScopeViolationError`` for anything the team may not see and shows only whitelisted
properties. Counts are computed from the checked elements, never by Cypher over unchecked ones.

Every read takes the viewing member too, and shows what it returns through the disclosure
policy (``services.kit.disclosure``, applied by ``scoping.present``): TLP:RED records only to the
members their originator named, victims' data redacted from every free text, each record's
marking. Why personal data is read is checked and recorded by the audit's ``Consulted``
dependency on the routes, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from anyascii import anyascii
from neo4j import READ_ACCESS, AsyncDriver
from neo4j.spatial import WGS84Point

from events.identifiers import IdentifierKind, normalise
from services.kit.disclosure import Record, Victim, VictimBook, Viewer, may_export, regions_of
from services.projection.graph import FULLTEXT_INDEX
from services.projection.scoping import (
    Scope,
    ScopeViolationError,
    checked,
    graph_edge,
    graph_node,
    identity_visible,
    kind_of,
    node_ref,
    plain,
    present,
)

TRAVERSED = (
    "Person",
    "Identifier",
    "Lead",
    "Organisation",
    "Location",
    "Operation",
    "Task",
    "Alert",
    "DeconflictionHit",
)
"""Kinds a network or path goes through; teams, JITs, registrations and the timeline are not."""

TRAVERSABLE = "|".join(TRAVERSED)

MAX_DEPTH = 3
MAX_PATH = 8


def visible(*names: str) -> str:
    """Cypher: the team may see every one of these nodes or relationships."""
    return " AND ".join(f"$team IN {n}.audience AND {RED_READER.format(v=n)}" for n in names)


RED_READER = (
    "(coalesce({v}.tlp, '') <> 'RED' OR $team IN [{v}.originator, {v}.team, {v}.raising_team] "
    "OR $member IN coalesce({v}.readers, []))"
)
"""Cypher mirror of the disclosure policy's TLP:RED rule, so that a query returns only what
:func:`services.kit.disclosure.may_see` then confirms for each element."""


HIDDEN_VICTIMS = """
MATCH (p:Person) WHERE p.jit = $jit AND p.victim = true
  AND NOT $team IN coalesce(p.identity_audience, [])
OPTIONAL MATCH (p)--(i:Identifier)
WITH p, collect(DISTINCT [i.kind, i.value]) AS identifiers
OPTIONAL MATCH (j:JIT {id: $jit})
RETURN p.id AS id, p.originator AS originator, p.name AS name, p.latin_name AS latin_name,
       p.date_of_birth AS date_of_birth, p.identity_audience AS identity_audience,
       identifiers, coalesce(j.member_teams, []) AS teams
"""
"""The victims of a JIT whose identity the viewing team may not see, with what identifies them."""


def _native_date(value: Any) -> date | None:
    if value is None:
        return None
    native = getattr(value, "to_native", None)
    result = native() if callable(native) else value
    return result if isinstance(result, date) else None


IN_JIT = "({v}.jit = $jit OR $jit IN coalesce({v}.jits, []))"

PATH_VISIBLE = (
    "all(x IN nodes(path) WHERE $team IN x.audience AND "
    + RED_READER.format(v="x")
    + " AND "
    + IN_JIT.format(v="x")
    + ") AND all(r IN relationships(path) WHERE $team IN r.audience)"
)

NODE = "{eid: elementId(x), labels: labels(x), props: properties(x)}"
REL = (
    "{type: type(r), props: properties(r), start: elementId(startNode(r)), "
    "end: elementId(endNode(r))}"
)
PATH_ELEMENTS = f"[x IN nodes(path) | {NODE}] AS nodes, [r IN relationships(path) | {REL}] AS rels"

PersonId = str


@dataclass(frozen=True)
class Area:
    """Where to look for operations: a bounding box, or a centre and radius (metres)."""

    min_latitude: float | None = None
    min_longitude: float | None = None
    max_latitude: float | None = None
    max_longitude: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None

    def params(self) -> dict[str, Any]:
        sw = ne = centre = None
        if (
            self.min_latitude is not None
            and self.min_longitude is not None
            and self.max_latitude is not None
            and self.max_longitude is not None
        ):
            sw = WGS84Point((self.min_longitude, self.min_latitude))
            ne = WGS84Point((self.max_longitude, self.max_latitude))
        if self.latitude is not None and self.longitude is not None:
            centre = WGS84Point((self.longitude, self.latitude))
        return {"sw": sw, "ne": ne, "centre": centre, "radius_m": self.radius_m or 0.0}


class Subgraph:
    """Nodes and relationships checked one by one for the viewing team, shaped for a graph view."""

    def __init__(self, scope: Scope) -> None:
        self.team = scope
        self.nodes: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}
        self.edges: dict[str, dict[str, Any]] = {}

    def add_node(self, item: Mapping[str, Any]) -> str:
        ref = self.refs.get(item["eid"])
        if ref is None:
            node = graph_node(self.team, item["labels"], item["props"])
            ref = node["id"]
            self.refs[item["eid"]] = ref
            self.nodes[ref] = node
        return ref

    def add_edge(self, item: Mapping[str, Any]) -> None:
        source, target = self.refs.get(item["start"]), self.refs.get(item["end"])
        if source is None or target is None:
            raise ScopeViolationError("a relationship was returned without its visible endpoints")
        edge = graph_edge(self.team, item["type"], item["props"], source, target)
        self.edges[edge["id"]] = edge

    def add_path(
        self, nodes: Iterable[Mapping[str, Any]], rels: Iterable[Mapping[str, Any]]
    ) -> None:
        for item in nodes:
            self.add_node(item)
        for item in rels:
            self.add_edge(item)

    def shape(self, **extra: Any) -> dict[str, Any]:
        return {
            "nodes": sorted(self.nodes.values(), key=lambda n: n["id"]),
            "edges": sorted(self.edges.values(), key=lambda e: e["id"]),
            **extra,
        }


def lucene_query(text: str) -> str | None:
    """A Lucene query over the words of ``text``, or of its Latin transliteration.

    Only letters and digits reach Lucene, so no query syntax can be injected. Every word of one
    spelling must match (as a prefix or within one edit); the two spellings are alternatives, so
    "Думитреску" finds a record written "Dumitrescu" (transliterated "dumitresku", one edit away)
    as well as one written in Cyrillic.
    """
    spellings: list[list[str]] = []
    for variant in (text, anyascii(text)):
        words: list[str] = []
        for word in re.findall(r"\w+", variant.lower()):
            if len(word) >= 2 and word not in words:
                words.append(word)
        if words and words not in spellings:
            spellings.append(words[:12])
    if not spellings:
        return None
    clauses = [
        " AND ".join(f"({w}* OR {w}~1)" if len(w) >= 4 else f"{w}*" for w in words)
        for words in spellings
    ]
    return " OR ".join(f"({clause})" for clause in clauses)


def identifier_candidates(text: str) -> list[str]:
    """Canonical values ``text`` could be, for every identifier kind it is valid as."""
    found: set[str] = set()
    for kind in IdentifierKind:
        try:
            found.add(normalise(kind, text))
        except ValueError:
            continue
    return sorted(found)


CARD_SECTIONS: tuple[tuple[str, str], ...] = (
    ("identifiers", "(p)-[:HAS_IDENTIFIER]->(:Identifier)"),
    ("leads", "(p)<-[:MENTIONS]-(:Lead)"),
    ("tasks", "(p)<-[:TARGETS]-(:Task)"),
    ("tasks", "(p)<-[:MENTIONS]-(:Lead)-[:LINKED_TO]-(:Task)"),
    ("operations", "(p)<-[:MENTIONS]-(:Lead)-[:LINKED_TO]-(:Operation)"),
    ("operations", "(p)<-[:TARGETS]-(:Task)-[:LINKED_TO]->(:Operation)"),
    ("operations", "(p)<-[:MENTIONS]-(:Lead)<-[:LINKED_TO]-(:Task)-[:LINKED_TO]->(:Operation)"),
    (
        "hits",
        "(p)<-[:MENTIONS]-(:Lead)<-[:REGISTERS]-(:Registration)<-[:MATCHED]-(:DeconflictionHit)",
    ),
    (
        "hit_details",
        "(p)<-[:MENTIONS]-(:Lead)<-[:REGISTERS]-(:Registration)<-[:MATCHED]-"
        "(:DeconflictionHit)<-[:DETAILS_OF]-(:HitDetails)",
    ),
    ("alerts", "(p)<-[:RAISED_FOR]-(:Alert)"),
    ("alerts", "(p)<-[:MENTIONS]-(:Lead)<-[:RAISED_FOR]-(:Alert)"),
    ("alerts", "(p)<-[:TARGETS]-(:Task)<-[:RAISED_FOR]-(:Alert)"),
)
"""What a person's card lists, and over which paths from the person it is reached."""

CARD = (
    "MATCH (p:Person {id: $person_id}) WHERE p.jit = $jit AND $team IN p.audience\n"
    "OPTIONAL CALL (p) {\n"
    + "\nUNION ALL\n".join(
        f"  MATCH path = {pattern} WHERE {PATH_VISIBLE}\n"
        f"  RETURN '{section}' AS section, path LIMIT 500"
        for section, pattern in CARD_SECTIONS
    )
    + "\n}\n"
    "RETURN properties(p) AS person, section,\n"
    f"  CASE WHEN path IS NULL THEN [] ELSE [x IN nodes(path) | {NODE}] END AS nodes,\n"
    f"  CASE WHEN path IS NULL THEN [] ELSE [r IN relationships(path) | {REL}] END AS rels"
)


HIT_SIDES = ("registering", "holding")
DESK_FIELDS = ("name", "phone", "email")

ALERT_STATES = ("raised", "escalated", "acknowledged", "resolved")
"""An alert's state as a desk sees it: ``escalated`` is a raised alert past its first step."""
OPEN_ALERT_STATES = ("raised", "escalated")
COORDINATOR_STEP = 2
"""The escalation step at which the coordinator team's desk is paged (and every target's is
told), as the alerts service numbers them."""

LINK_KIND = {
    "Lead": "lead",
    "Task": "task",
    "Operation": "operation",
    "Person": "entity",
    "Identifier": "entity",
    "Organisation": "entity",
    "Location": "entity",
    "Registration": "registration",
    "DeconflictionHit": "hit",
    "OperationConflict": "conflict",
    "RoleConflict": "conflict",
    "Alert": "alert",
}
"""What an alert's link points at, in the words of ``events.alerts.LinkKind``."""


def hit_for(
    scope: Scope,
    props: Mapping[str, Any],
    details: Iterable[Mapping[str, Any]],
    ours: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """A hit as one of its sides sees it: both sides (team, desk, decision), the details each
    side released or declined, and the viewing team's own matched records."""
    team = scope.team
    shown = present(scope, ["DeconflictionHit"], props)
    sides: dict[str, dict[str, Any]] = {}
    for side in HIT_SIDES:
        desk = {f: shown.pop(f"{side}_desk_{f}", None) for f in DESK_FIELDS}
        sides[side] = {
            "team": shown.pop(f"{side}_team", None),
            "desk": desk if any(desk.values()) else None,
            "decision": "pending",
        }
    mine = next((s for s in HIT_SIDES if sides[s]["team"] == team), None)
    if mine is None:
        raise ScopeViolationError(f"a hit was returned to team {team}, which is not a side of it")
    released: list[dict[str, Any]] = []
    for item in details:
        checked(team, item["rel"], "relationship")
        shown_details = present(scope, ["HitDetails"], item["props"])
        if shown_details.get("hit_id") != shown["id"]:
            raise ScopeViolationError("hit details were returned for another hit")
        released.append(shown_details)
        for side in HIT_SIDES:
            if sides[side]["team"] == shown_details.get("by_team"):
                sides[side]["decision"] = shown_details.get("status", "pending")
                sides[side]["decided_at"] = shown_details.get("at")
    records: list[dict[str, Any]] = []
    for item in ours:
        checked(team, item["rel"], "relationship")
        record = present(scope, ["Registration"], item["props"])
        if record.get("team") != team:
            raise ScopeViolationError("a hit showed a registration of another team")
        records.append(record)
    other = "holding" if mine == "registering" else "registering"
    return {
        **shown,
        **sides,
        "our_side": mine,
        "other_team": sides[other]["team"],
        "details": sorted(released, key=lambda d: str(d.get("by_team"))),
        "our_records": sorted(records, key=lambda r: str(r.get("id"))),
    }


LINK_TITLE_CHARS = 80
"""How much of a linked record's title, name or summary a chip shows."""


def link_title(kind: str, shown: Mapping[str, Any]) -> str:
    """What a chip calls a linked record, so nobody reads a UUID: its title, name or summary."""
    for key in ("title", "name", "summary", "value", "display"):
        text = shown.get(key)
        if isinstance(text, str) and text.strip():
            text = " ".join(text.split())
            cut = text[: LINK_TITLE_CHARS - 1] + "…" if len(text) > LINK_TITLE_CHARS else text
            return cut
    if kind == "operation" and shown.get("kind"):
        return f"{str(shown['kind']).replace('_', ' ')} by {shown.get('team', '')}".strip()
    if kind in {"hit", "conflict"}:
        return "deconfliction hit" if kind == "hit" else "operation conflict"
    return kind


def next_escalation(
    props: Mapping[str, Any], route: Mapping[str, Any] | None, state: str, leads: bool
) -> str | None:
    """Who the alert goes to when its countdown ends, as the desk should read it.

    The alerts service's chain (services/alerts/domain.py ``due``): desks → the paged teams'
    leads (when one has a lead) → the coordinator team's desk → that desk again, at the re-page
    interval, until someone acknowledges.
    """
    if state not in OPEN_ALERT_STATES or not props.get("escalates_at"):
        return None
    step = int(props.get("escalation_step") or 0)
    coordinator = props.get("coordinator_team")
    if step == 0 and route is not None and route.get("team_lead"):
        return f"your team lead {route['team_lead']}"
    if step == 0 and leads:
        return "the paged teams' leads"
    if coordinator:
        again = " again" if step >= COORDINATOR_STEP else ""
        return f"the coordinator desk of {coordinator}{again}"
    return "this desk again"


def alert_for(
    scope: Scope,
    props: Mapping[str, Any],
    route: Mapping[str, Any] | None,
    state: str,
    links: Iterable[Mapping[str, Any]],
    *,
    leads: bool = False,
    raised_here: bool = False,
) -> dict[str, Any]:
    """An alert as ``team``'s desk sees it: its state, the route that paged the desk, the
    deadlines while it is open, who is paged next, and the links the team may follow, by title.

    ``raised_here`` lets the team that raised an alert read it although it does not page its
    desk (the ``url`` a raise answers)."""
    team = scope.team
    shown = present(scope, ["Alert"], props)
    step = int(props.get("escalation_step") or 0)
    escalated_here = step >= COORDINATOR_STEP and (
        team in (props.get("target_teams") or ()) or props.get("coordinator_team") == team
    )
    if route is not None:
        checked(team, route, "relationship")
    elif not escalated_here and not (raised_here and props.get("raising_team") == team):
        raise ScopeViolationError(f"an alert was returned to a desk it does not page ({team})")
    if state not in ALERT_STATES:
        raise ScopeViolationError(f"an alert in an unknown state {state!r}")
    if state not in OPEN_ALERT_STATES:
        shown.pop("acknowledge_by", None)
        shown.pop("escalates_at", None)
    found: dict[tuple[str, str], dict[str, str]] = {}
    for item in links:
        checked(team, item["rel"], "relationship")
        target = present(scope, item["labels"], item["props"])
        kind = LINK_KIND.get(kind_of(item["labels"]))
        if kind is not None:
            found[(kind, str(target["id"]))] = {
                "kind": kind,
                "id": str(target["id"]),
                "title": link_title(kind, target),
            }
    return {
        **shown,
        "alert_id": shown["id"],
        "state": state,
        "escalates_to": next_escalation(props, route, state, leads),
        "route": (
            {k: plain(route[k]) for k in ("desk", "basis", "team_lead") if route.get(k) is not None}
            if route is not None
            else None
        ),
        "links": sorted(found.values(), key=lambda ln: (ln["kind"], ln["id"])),
    }


class GraphViews:
    """Team-scoped reads over the projected graph."""

    def __init__(self, driver: AsyncDriver, *, database: str | None = None) -> None:
        self.driver = driver
        self.database = database

    async def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """One read in an auto-commit transaction: half the round trips of a managed one."""
        async with self.driver.session(
            database=self.database, default_access_mode=READ_ACCESS
        ) as session:
            params.setdefault("member", None)
            result = await session.run(query, params)
            return [record.data() async for record in result]

    async def _scope(self, team: str, jit: str, member: str | None) -> Scope:
        """The viewer and the disclosure policy's redaction of the JIT's victims hidden from them.

        Read at every request, so a victim recorded a moment ago in any lead of the JIT is
        redacted from every earlier record's free text too.
        """
        rows = await self._read(HIDDEN_VICTIMS, team=team, jit=jit)
        victims = tuple(
            Victim(
                entity_id=str(r["id"]),
                team=str(r["originator"] or ""),
                names=tuple(n for n in (r["name"], r["latin_name"]) if n),
                birth_date=_native_date(r["date_of_birth"]),
                identifiers=tuple((str(k), str(v)) for k, v in r["identifiers"] if k and v),
                identity_audience=frozenset(r["identity_audience"] or ()),
            )
            for r in rows
        )
        teams = rows[0]["teams"] if rows else []
        book = VictimBook(victims, regions_of([team, *teams]))
        return Scope(Viewer(team, member), book.redactor(team))

    # ---------------------------------------------------------------------------- leads

    async def lead(
        self, *, team: str, jit: str, lead_id: str, member: str | None = None
    ) -> dict[str, Any] | None:
        """A lead with the persons, identifiers, places and links ``team`` may see, or None."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (l:Lead {{id: $lead_id}}) WHERE l.jit = $jit AND {visible("l")}
            OPTIONAL MATCH (l)-[r]-(x) WHERE {visible("r", "x")} AND {IN_JIT.format(v="x")}
              AND (x:Person OR x:Identifier OR x:Organisation OR x:Location OR x:Task
                   OR x:Operation)
            RETURN properties(l) AS lead,
                   collect(CASE WHEN x IS NULL THEN NULL ELSE
                     {{labels: labels(x), props: properties(x), rel: properties(r),
                       type: type(r)}} END) AS around
            """,
            team=team,
            jit=jit,
            lead_id=lead_id,
        )
        if not rows:
            return None
        lead = present(scope, ["Lead"], rows[0]["lead"])
        sections: dict[str, list[dict[str, Any]]] = {
            "persons": [],
            "identifiers": [],
            "organisations": [],
            "locations": [],
            "tasks": [],
            "operations": [],
        }
        section_of = {
            "Person": "persons",
            "Identifier": "identifiers",
            "Organisation": "organisations",
            "Location": "locations",
            "Task": "tasks",
            "Operation": "operations",
        }
        for item in rows[0]["around"]:
            checked(team, item["rel"], "relationship")
            kind = kind_of(item["labels"])
            shown = present(scope, item["labels"], item["props"])
            if item["type"] == "MENTIONS":
                role = item["rel"].get("key")
                shown["role"] = None if role == "none" else role
            sections[section_of[kind]].append(shown)
        for name, items in sections.items():
            unique = {(i["id"], i.get("role")): i for i in items}
            lead[name] = sorted(unique.values(), key=lambda i: (str(i["id"]), str(i.get("role"))))
        return lead

    async def leads(
        self,
        *,
        team: str,
        jit: str,
        status: Sequence[str] | None = None,
        source: Sequence[str] | None = None,
        reliability: Sequence[str] | None = None,
        credibility: Sequence[str] | None = None,
        received_from: datetime | None = None,
        received_until: datetime | None = None,
        text: str | None = None,
        limit: int = 100,
        member: str | None = None,
    ) -> list[dict[str, Any]]:
        """Leads of a JIT that ``team`` may see, newest first, filtered by triage and grading."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (l:Lead) WHERE l.jit = $jit AND {visible("l")}
              AND ($status IS NULL OR l.status IN $status)
              AND ($source IS NULL OR l.source IN $source)
              AND ($reliability IS NULL OR l.reliability IN $reliability)
              AND ($credibility IS NULL OR l.credibility IN $credibility)
              AND ($received_from IS NULL OR l.received_at >= $received_from)
              AND ($received_until IS NULL OR l.received_at < $received_until)
              AND ($text IS NULL OR toLower(l.summary) CONTAINS $text)
            RETURN properties(l) AS lead ORDER BY l.received_at DESC, l.id LIMIT $limit
            """,
            team=team,
            jit=jit,
            status=list(status) if status else None,
            source=list(source) if source else None,
            reliability=list(reliability) if reliability else None,
            credibility=list(credibility) if credibility else None,
            received_from=received_from,
            received_until=received_until,
            text=text.lower() if text else None,
            limit=limit,
        )
        shown = [present(scope, ["Lead"], r["lead"]) for r in rows]
        if text:
            # Text is matched again on what the viewer may read: a victim's name, number or a
            # fragment of them finds nothing for a team her identity is hidden from.
            shown = [
                lead
                for lead in shown
                if lead.get("originator") == team
                or scope.redactor.matches(text, lead.get("summary"))
            ]
        return shown

    # ---------------------------------------------------------------------------- tasks

    async def task(
        self, *, team: str, jit: str, task_id: str, member: str | None = None
    ) -> dict[str, Any] | None:
        """A task with the leads, entities and operations it links that ``team`` may see."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (t:Task {{id: $task_id}}) WHERE t.jit = $jit AND {visible("t")}
            OPTIONAL MATCH (t)-[r:LINKED_TO|TARGETS]->(x) WHERE {visible("r", "x")}
              AND {IN_JIT.format(v="x")}
            RETURN properties(t) AS task,
                   collect(CASE WHEN x IS NULL THEN NULL ELSE
                     {{labels: labels(x), props: properties(x), rel: properties(r)}} END) AS links
            """,
            team=team,
            jit=jit,
            task_id=task_id,
        )
        if not rows:
            return None
        task = present(scope, ["Task"], rows[0]["task"])
        links: list[dict[str, Any]] = []
        for item in rows[0]["links"]:
            checked(team, item["rel"], "relationship")
            links.append(
                {"kind": kind_of(item["labels"]), **present(scope, item["labels"], item["props"])}
            )
        task["links"] = sorted(links, key=lambda i: (str(i["kind"]), str(i["id"])))
        return task

    async def tasks(
        self,
        *,
        team: str,
        jit: str,
        member: str,
        view: str | None = None,
        status: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Tasks of a JIT that ``team`` may see, newest first: all, or ``view`` ``mine`` (assigned
        to ``member``), ``team`` (asked of the team), ``requested`` (asked by the team) or
        ``overdue`` (a missed deadline still unmet: not accepted in time and still requested, or
        not completed in time and still open)."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (t:Task) WHERE t.jit = $jit AND {visible("t")}
              AND ($status IS NULL OR t.status IN $status)
              AND CASE $view
                WHEN 'mine' THEN t.to_team = $team
                  AND coalesce(t.assignee, t.to_member) = $member
                WHEN 'team' THEN t.to_team = $team
                WHEN 'requested' THEN t.team = $team
                WHEN 'overdue' THEN (t.overdue = 'response' AND t.status = 'requested')
                  OR (t.overdue = 'completion' AND t.status IN $open)
                ELSE true END
            RETURN properties(t) AS task ORDER BY t.requested_at DESC, t.id LIMIT $limit
            """,
            team=team,
            jit=jit,
            member=member,
            view=view,
            status=list(status) if status else None,
            open=["requested", "accepted", "in_progress", "blocked"],
            limit=limit,
        )
        return [present(scope, ["Task"], r["task"]) for r in rows]

    # ----------------------------------------------------------------------- suspects

    async def card(
        self, *, team: str, jit: str, person_id: str, member: str | None = None
    ) -> dict[str, Any] | None:
        """A person and the identifiers, leads, operations, tasks, hits, alerts one may see.

        Each section is reached over paths whose every node and relationship the team may see,
        so nothing is listed through a link the team is not told of.
        """
        scope = await self._scope(team, jit, member)
        rows = await self._read(CARD, team=team, jit=jit, person_id=person_id)
        if not rows:
            return None
        person = present(scope, ["Person"], rows[0]["person"])
        sections: dict[str, dict[str, dict[str, Any]]] = {name: {} for name, _ in CARD_SECTIONS}
        for row in rows:
            if row["section"] is None:
                continue
            via = Subgraph(scope)
            via.add_path(row["nodes"], row["rels"])
            end = via.nodes[via.refs[row["nodes"][-1]["eid"]]]
            sections[row["section"]].setdefault(end["id"], end["data"])
        for name, found in sections.items():
            person[name] = sorted(found.values(), key=lambda d: str(d["id"]))
        return person

    async def network(
        self,
        *,
        team: str,
        jit: str,
        person_id: str,
        depth: int = 2,
        max_nodes: int = 300,
        member: str | None = None,
    ) -> dict[str, Any] | None:
        """The graph around a person to ``depth`` hops, over what ``team`` may see only."""
        scope = await self._scope(team, jit, member)
        depth = max(1, min(depth, MAX_DEPTH))
        start = await self._read(
            f"MATCH (x:Person {{id: $person_id}}) WHERE x.jit = $jit AND {visible('x')} "
            f"RETURN {NODE} AS node",
            team=team,
            jit=jit,
            person_id=person_id,
        )
        if not start:
            return None
        graph = Subgraph(scope)
        root = graph.add_node(start[0]["node"])
        frontier = [start[0]["node"]["eid"]]
        truncated = False
        for _ in range(depth):
            if not frontier:
                break
            rows = await self._read(
                f"""
                UNWIND $frontier AS eid
                MATCH (n) WHERE elementId(n) = eid
                MATCH (n)-[r]-(x)
                WHERE {visible("r", "x")} AND x:{TRAVERSABLE} AND {IN_JIT.format(v="x")}
                RETURN {NODE} AS node, {REL} AS rel
                LIMIT $cap
                """,
                team=team,
                jit=jit,
                frontier=frontier,
                cap=max_nodes * 20,
            )
            following: list[str] = []
            for row in rows:
                eid = row["node"]["eid"]
                if eid not in graph.refs:
                    if len(graph.nodes) >= max_nodes:
                        truncated = True
                        continue
                    graph.add_node(row["node"])
                    following.append(eid)
                graph.add_edge(row["rel"])
            frontier = following
        return graph.shape(root=root, depth=depth, truncated=truncated)

    async def path(
        self,
        *,
        team: str,
        jit: str,
        from_id: str,
        to_id: str,
        max_length: int = MAX_PATH,
        member: str | None = None,
    ) -> dict[str, Any] | None:
        """The shortest path between two persons through what ``team`` may see; None if none."""
        scope = await self._scope(team, jit, member)
        hops = max(1, min(int(max_length), MAX_PATH))
        rows = await self._read(
            f"""
            MATCH (a:Person {{id: $from_id}}), (b:Person {{id: $to_id}})
            WHERE a.jit = $jit AND b.jit = $jit AND {visible("a", "b")}
            MATCH path = shortestPath((a)-[*0..{hops}]-(b))
            WHERE all(x IN nodes(path) WHERE $team IN x.audience AND x:{TRAVERSABLE}
                      AND {IN_JIT.format(v="x")})
              AND all(r IN relationships(path) WHERE $team IN r.audience)
            RETURN {PATH_ELEMENTS}
            """,
            team=team,
            jit=jit,
            from_id=from_id,
            to_id=to_id,
        )
        if not rows:
            return None
        graph = Subgraph(scope)
        graph.add_path(rows[0]["nodes"], rows[0]["rels"])
        order = [graph.refs[n["eid"]] for n in rows[0]["nodes"]]
        return graph.shape(path=order, length=len(order) - 1)

    # ------------------------------------------------------------------ deconfliction hits

    async def hits(
        self,
        *,
        team: str,
        jit: str,
        status: Sequence[str] | None = None,
        kind: Sequence[str] | None = None,
        since: datetime | None = None,
        hit_id: str | None = None,
        lead: str | None = None,
        limit: int = 100,
        member: str | None = None,
    ) -> list[dict[str, Any]]:
        """Hits of a JIT that ``team`` is a side of, newest first, each with both sides' desk
        contacts, what each side decided about its details, and the team's own records that
        matched (never the other side's); with ``lead``, only those where that lead of the
        team's own matched."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (h:DeconflictionHit) WHERE {IN_JIT.format(v="h")} AND {visible("h")}
              AND h.detected_at IS NOT NULL
              AND $team IN [h.registering_team, h.holding_team]
              AND ($hit_id IS NULL OR h.id = $hit_id)
              AND ($status IS NULL OR h.status IN $status)
              AND ($kind IS NULL OR h.kind IN $kind)
              AND ($since IS NULL OR h.detected_at >= $since)
              AND ($lead IS NULL OR EXISTS {{
                MATCH (h)-[lm:MATCHED]->(lg:Registration {{source_ref: $lead}})
                WHERE lg.team = $team AND {visible("lm", "lg")}
              }})
            WITH h ORDER BY h.detected_at DESC, h.id LIMIT $limit
            CALL (h) {{
              MATCH (h)<-[r:DETAILS_OF]-(d:HitDetails) WHERE {visible("r", "d")}
              RETURN collect({{props: properties(d), rel: properties(r)}}) AS details
            }}
            CALL (h) {{
              MATCH (h)-[m:MATCHED]->(g:Registration) WHERE {visible("m", "g")}
              RETURN collect({{props: properties(g), rel: properties(m)}}) AS ours
            }}
            RETURN properties(h) AS hit, details, ours
            ORDER BY h.detected_at DESC, h.id
            """,
            team=team,
            jit=jit,
            hit_id=hit_id,
            status=list(status) if status else None,
            kind=list(kind) if kind else None,
            since=since,
            lead=lead,
            limit=limit,
        )
        return [hit_for(scope, row["hit"], row["details"], row["ours"]) for row in rows]

    async def hit(
        self, *, team: str, jit: str, hit_id: str, member: str | None = None
    ) -> dict[str, Any] | None:
        """One hit, if ``team`` is one of its two sides; None otherwise (nothing tells it apart
        from a hit that does not exist)."""
        found = await self.hits(team=team, jit=jit, hit_id=hit_id, limit=1, member=member)
        return found[0] if found else None

    # -------------------------------------------------------------------------- alerts

    async def desk_alerts(
        self,
        *,
        team: str,
        jit: str,
        states: Sequence[str] | None = OPEN_ALERT_STATES,
        severity: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 100,
        member: str | None = None,
    ) -> list[dict[str, Any]]:
        """Alerts of a JIT that page ``team``'s desk, newest first, in the given states.

        A desk sees what its live stream pages it for: an alert routed to the team (its desk
        rule let it through, or it is safety-critical), or escalated to the coordinator's step
        while the team is a target or the coordinator team. An alert the team only raised, or
        that its desk rule filtered out, is not on its desk.
        """
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (a:Alert) WHERE a.jit = $jit AND {visible("a")} AND a.raised_at IS NOT NULL
            OPTIONAL MATCH (a)-[s:SENT_TO]->(t:Team {{id: $team}}) WHERE {visible("s", "t")}
            WITH a, s, CASE WHEN a.status = 'raised' AND coalesce(a.escalation_step, 0) > 0
                            THEN 'escalated' ELSE a.status END AS state
            WHERE (s IS NOT NULL OR (coalesce(a.escalation_step, 0) >= $coordinator_step
                                     AND ($team IN a.target_teams OR a.coordinator_team = $team)))
              AND ($states IS NULL OR state IN $states)
              AND ($severity IS NULL OR a.severity IN $severity)
              AND ($since IS NULL OR a.raised_at >= $since)
            WITH a, s, state ORDER BY a.raised_at DESC, a.id LIMIT $limit
            CALL (a) {{
              MATCH (a)-[r:RAISED_FOR]->(x) WHERE {visible("r", "x")}
              RETURN collect({{labels: labels(x), props: properties(x), rel: properties(r)}})
                AS links
            }}
            CALL (a) {{
              OPTIONAL MATCH (a)-[l:SENT_TO]->(:Team) WHERE l.team_lead IS NOT NULL
              RETURN count(l) > 0 AS leads
            }}
            RETURN properties(a) AS alert, properties(s) AS route, state, links, leads
            ORDER BY a.raised_at DESC, a.id
            """,
            team=team,
            jit=jit,
            states=list(states) if states else None,
            severity=list(severity) if severity else None,
            since=since,
            limit=limit,
            coordinator_step=COORDINATOR_STEP,
        )
        return [
            alert_for(
                scope, row["alert"], row["route"], row["state"], row["links"], leads=row["leads"]
            )
            for row in rows
        ]

    async def desk_escalations(
        self, *, team: str, jit: str, member: str | None = None
    ) -> list[dict[str, Any]]:
        """The escalation times a coordinator set for the JIT (team ``*``) and its desks."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (n:DeskEscalation) WHERE n.jit = $jit AND {visible("n")}
              AND n.p1_seconds IS NOT NULL
            RETURN properties(n) AS setting ORDER BY n.team
            """,
            team=team,
            jit=jit,
        )
        return [present(scope, ["DeskEscalation"], row["setting"]) for row in rows]

    async def alert(
        self,
        *,
        team: str,
        jit: str,
        alert_id: str,
        member: str | None = None,
    ) -> dict[str, Any] | None:
        """One alert ``team`` may see: one that pages its desk, or one it raised."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (a:Alert {{id: $alert_id}})
            WHERE a.jit = $jit AND {visible("a")} AND a.raised_at IS NOT NULL
            OPTIONAL MATCH (a)-[s:SENT_TO]->(t:Team {{id: $team}}) WHERE {visible("s", "t")}
            WITH a, s, CASE WHEN a.status = 'raised' AND coalesce(a.escalation_step, 0) > 0
                            THEN 'escalated' ELSE a.status END AS state
            WHERE s IS NOT NULL OR a.raising_team = $team
               OR (coalesce(a.escalation_step, 0) >= $coordinator_step
                   AND ($team IN a.target_teams OR a.coordinator_team = $team))
            CALL (a) {{
              MATCH (a)-[r:RAISED_FOR]->(x) WHERE {visible("r", "x")}
              RETURN collect({{labels: labels(x), props: properties(x), rel: properties(r)}})
                AS links
            }}
            CALL (a) {{
              OPTIONAL MATCH (a)-[l:SENT_TO]->(:Team) WHERE l.team_lead IS NOT NULL
              RETURN count(l) > 0 AS leads
            }}
            RETURN properties(a) AS alert, properties(s) AS route, state, links, leads
            """,
            team=team,
            jit=jit,
            alert_id=alert_id,
            coordinator_step=COORDINATOR_STEP,
        )
        if not rows:
            return None
        row = rows[0]
        return alert_for(
            scope,
            row["alert"],
            row["route"],
            row["state"],
            row["links"],
            leads=row["leads"],
            raised_here=True,
        )

    # ------------------------------------------------------------- operations, timeline

    async def operations(
        self,
        *,
        team: str,
        jit: str,
        since: datetime | None = None,
        until: datetime | None = None,
        area: Area | None = None,
        include_cancelled: bool = False,
        limit: int = 500,
        member: str | None = None,
    ) -> list[dict[str, Any]]:
        """Operations ``team`` may see whose window meets [since, until] and whose place meets
        the area, each with the operation conflicts the team may see."""
        scope = await self._scope(team, jit, member)
        rows = await self._read(
            f"""
            MATCH (o:Operation) WHERE o.jit = $jit AND {visible("o")}
              AND ($since IS NULL OR o.ends_at >= $since)
              AND ($until IS NULL OR o.starts_at <= $until)
              AND ($include_cancelled OR o.status <> 'cancelled')
              AND ($sw IS NULL OR point.withinBBox(o.location, $sw, $ne))
              AND ($centre IS NULL OR point.distance(o.location, $centre) <= $radius_m + o.radius_m)
            OPTIONAL MATCH (o)<-[c:CONCERNS]-(x:OperationConflict) WHERE {visible("c", "x")}
            WITH o, collect(CASE WHEN x IS NULL THEN NULL ELSE
                 {{labels: labels(x), props: properties(x), rel: properties(c)}} END) AS conflicts
            RETURN properties(o) AS operation, conflicts
            ORDER BY o.starts_at, o.id LIMIT $limit
            """,
            team=team,
            jit=jit,
            since=since,
            until=until,
            include_cancelled=include_cancelled,
            limit=limit,
            **(area or Area()).params(),
        )
        found = []
        for row in rows:
            operation = present(scope, ["Operation"], row["operation"])
            operation["conflicts"] = sorted(
                (
                    present(scope, c["labels"], c["props"])
                    for c in row["conflicts"]
                    if checked(team, c["rel"], "relationship")
                ),
                key=lambda c: str(c["id"]),
            )
            found.append(operation)
        return found

    async def timeline(
        self,
        *,
        team: str,
        jit: str,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Sequence[str] | None = None,
        limit: int = 200,
        newest_first: bool = True,
        member: str | None = None,
    ) -> list[dict[str, Any]]:
        """What happened in the JIT that ``team`` may see, by event time."""
        scope = await self._scope(team, jit, member)
        order = "DESC" if newest_first else "ASC"
        rows = await self._read(
            f"""
            MATCH (a:Activity) WHERE a.jit = $jit AND {visible("a")}
              AND ($since IS NULL OR a.at >= $since) AND ($until IS NULL OR a.at < $until)
              AND ($kinds IS NULL OR a.subject_kind IN $kinds)
            RETURN properties(a) AS activity ORDER BY a.at {order}, a.id {order} LIMIT $limit
            """,
            team=team,
            jit=jit,
            since=since,
            until=until,
            kinds=list(kinds) if kinds else None,
            limit=limit,
        )
        return [present(scope, ["Activity"], r["activity"]) for r in rows]

    # -------------------------------------------------------------------------- search

    async def search(
        self, *, team: str, jit: str, text: str, limit: int = 25, member: str | None = None
    ) -> list[dict[str, Any]]:
        """Persons, identifiers, organisations and places whose names or values match ``text``.

        A person whose identity ``team`` may not see is never a hit: a pseudonym found by a name
        would give the name away.
        """
        scope = await self._scope(team, jit, member)
        hits: dict[str, dict[str, Any]] = {}
        lucene = lucene_query(text)
        if lucene:
            rows = await self._read(
                f"""
                CALL db.index.fulltext.queryNodes($index, $lucene) YIELD node AS x, score
                WHERE x.jit = $jit AND {visible("x")}
                  AND (NOT x:Person OR $team IN x.identity_audience)
                RETURN {NODE} AS node, score ORDER BY score DESC LIMIT $limit
                """,
                team=team,
                jit=jit,
                index=FULLTEXT_INDEX,
                lucene=lucene,
                limit=limit,
            )
            self._add_hits(scope, hits, rows)
        values = identifier_candidates(text)
        if values:
            rows = await self._read(
                f"""
                MATCH (x:Identifier) WHERE x.value IN $values AND x.jit = $jit AND {visible("x")}
                RETURN {NODE} AS node, 100.0 AS score LIMIT $limit
                """,
                team=team,
                jit=jit,
                values=values,
                limit=limit,
            )
            self._add_hits(scope, hits, rows)
        ranked = sorted(hits.values(), key=lambda h: (-h["score"], h["id"]))
        return ranked[:limit]

    @staticmethod
    def _add_hits(
        scope: Scope, hits: dict[str, dict[str, Any]], rows: list[dict[str, Any]]
    ) -> None:
        team = scope.team
        for row in rows:
            item = row["node"]
            if "Person" in item["labels"] and not identity_visible(team, item["props"]):
                raise ScopeViolationError("a search matched a person whose identity is hidden")
            node = graph_node(scope, item["labels"], item["props"])
            score = float(row["score"])
            if node["id"] not in hits or hits[node["id"]]["score"] < score:
                hits[node["id"]] = {**node, "score": score}

    # -------------------------------------------------------------------------- export

    async def visible_graph(
        self, *, team: str, jit: str, member: str | None = None
    ) -> dict[str, Any]:
        """Everything of the JIT ``team`` may see among persons, identifiers, organisations,
        places, leads and operations, with the relationships between them (for export)."""
        scope = await self._scope(team, jit, member)
        kinds = ["Person", "Identifier", "Organisation", "Location", "Lead", "Operation"]
        nodes = await self._read(
            "CALL () {\n"
            + "\nUNION ALL\n".join(
                f"  MATCH (x:{label}) WHERE x.jit = $jit AND {visible('x')} RETURN x"
                for label in kinds
            )
            + f"\n}}\nRETURN {NODE} AS node",
            team=team,
            jit=jit,
        )
        rels = await self._read(
            f"""
            MATCH (a:Lead|Person)-[r:MENTIONS|HAS_IDENTIFIER|LINKED_TO]->(b)
            WHERE a.jit = $jit AND b.jit = $jit AND {visible("a", "r", "b")}
              AND any(label IN labels(b) WHERE label IN $kinds)
            RETURN {REL} AS rel
            """,
            team=team,
            jit=jit,
            kinds=kinds,
        )
        graph = Subgraph(scope)
        for row in nodes:
            record = Record.of_props(row["node"]["props"])
            if record is not None and may_export(scope.viewer, record):
                graph.add_node(row["node"])
        for row in rels:
            if row["rel"]["start"] in graph.refs and row["rel"]["end"] in graph.refs:
                graph.add_edge(row["rel"])
        return graph.shape()

    # ---------------------------------------------------------------------------- health

    async def checkpoints(self, *, group: str) -> dict[tuple[str, int], tuple[int, int]]:
        """Per (topic, partition): the newest offset and record time (ms) the projection wrote."""
        rows = await self._read(
            "MATCH (c:ProjectionCheckpoint) WHERE c.group = $group "
            "RETURN c.topic AS topic, c.partition AS partition, c.offset AS offset, "
            "c.record_ms AS record_ms",
            group=group,
        )
        return {(r["topic"], r["partition"]): (r["offset"], r["record_ms"]) for r in rows}

    async def projection_lag(
        self, *, group: str, ends: Mapping[tuple[str, int], tuple[int, int | None]]
    ) -> dict[str, Any]:
        """Lag of the projection behind the topics (see ``lag_report``)."""
        return lag_report(ends, await self.checkpoints(group=group))


def lag_report(
    ends: Mapping[tuple[str, int], tuple[int, int | None]],
    done: Mapping[tuple[str, int], tuple[int, int]],
) -> dict[str, Any]:
    """How far the projection is behind, from the topics' ends and its checkpoints.

    ``ends`` maps (topic, partition) to (high watermark, timestamp ms of the newest record);
    ``done`` to (newest offset written, its record time ms). Per partition the lag is the newest
    record's time minus the newest projected record's time (0 once its last offset is written);
    the projection's lag is the largest. None means records wait where nothing was ever projected.
    """
    partitions = []
    worst = 0.0
    behind_total = 0
    newest_event: int | None = None
    newest_projected: int | None = None
    for (topic, partition), (high, newest_ms) in sorted(ends.items()):
        offset, projected_ms = done.get((topic, partition), (-1, None))
        behind = max(0, high - 1 - offset)
        if behind == 0 or newest_ms is None:
            lag = 0.0
        elif projected_ms is None:
            lag = float("inf")
        else:
            lag = max(0.0, (newest_ms - projected_ms) / 1000)
        worst = max(worst, lag)
        behind_total += behind
        if newest_ms is not None:
            newest_event = max(newest_event or 0, newest_ms)
        if projected_ms is not None:
            newest_projected = max(newest_projected or 0, projected_ms)
        partitions.append(
            {
                "topic": topic,
                "partition": partition,
                "behind_records": behind,
                "lag_seconds": None if lag == float("inf") else round(lag, 3),
            }
        )
    return {
        "lag_seconds": None if worst == float("inf") else round(worst, 3),
        "behind_records": behind_total,
        "newest_event_ms": newest_event,
        "newest_projected_ms": newest_projected,
        "partitions": partitions,
    }


def person_refs(graph: Mapping[str, Any]) -> list[str]:
    """The node ids of the persons in a graph view."""
    return [n["id"] for n in graph.get("nodes", []) if n["kind"] == "Person"]


__all__ = ["Area", "GraphViews", "ScopeViolationError", "node_ref", "person_refs"]
