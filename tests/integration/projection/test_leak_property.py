"""The leak test: random JITs, teams, sharing decisions and graphs, written through the projection's
own statements into the real Neo4j; then every read, for every team, is checked against an
independent model of who may see what.

The model here is deliberately separate from the projection's code: audiences are unions of the
events' originator and releasability, a victim's identity and the identifiers observed as hers
belong to the originator alone, a relationship is visible when it and both its ends are.
Checks are exact where the model can say exactly (lead lists, the network to depth k, shortest
path lengths, timelines, operations) and at least "nothing invisible" everywhere else: every
returned node and edge is visible, and no secret (a hidden name, an identifier value, a summary,
a title, a released note) of anything the team may not see appears anywhere in any response.

Summaries, task titles and alert summaries name victims of any lead of the JIT, recorded before
or after the text was written: outside the victim's team the name never appears, and a search by
it finds nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import AsyncDriver

from events.alerts import AlertLink, AlertRaised, Category, LinkKind, Severity
from events.deconfliction import (
    DeconflictionDetailsReleased,
    DeconflictionHit,
    HitSide,
    HitStatus,
    ReleasedDetails,
    TokenRegistered,
    TokenScope,
)
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import LeadActioned
from services.projection.agents import write
from services.projection.canonical import Scope
from services.projection.graph import STATEMENTS, activity
from services.projection.rebuild import clear_graph
from services.projection.views import GraphViews
from tests.unit.projection.builders import Scenario, team_codes, token

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]
"""Each example writes a world and reads it through every channel as several teams: minutes."""

SESSION = uuid.uuid4().hex[:6]
TEAMS = team_codes(4, suffix=f"H{SESSION.upper()}")
TRAVERSED = {"Person", "Identifier", "Lead", "Operation", "Task", "Alert", "DeconflictionHit"}
COUNTS: dict[str, int] = defaultdict(int)
ROLES = [PersonRole.SUSPECT, PersonRole.VICTIM, PersonRole.WITNESS]
_serial = itertools.count()


def secret(kind: str) -> str:
    """A token nobody else uses, in lower-case letters (searchable, never a phone number)."""
    digest = hashlib.sha256(f"{SESSION}/{next(_serial)}".encode()).digest()
    return kind + "".join(chr(ord("a") + b % 26) for b in digest[:9])


# ------------------------------------------------------------------------------------ model


@dataclass
class Model:
    """Who may see what, computed from the generated decisions only."""

    nodes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    identity: dict[str, set[str]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    secrets: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    hidden_names: dict[str, str] = field(default_factory=dict)
    written: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Names each team wrote in its own free text: its own words are never redacted for it
    (that would tell it that another team holds the person as a victim)."""

    def node(self, key: str, audience: set[str], *secrets: str) -> None:
        self.nodes[key] |= audience
        self.secrets[key].extend(secrets)

    def edge(self, rel: str, a: str, b: str, audience: set[str], key: str = "") -> None:
        self.edges[(rel, a, b, key)] |= audience

    def sees(self, team: str, key: str) -> bool:
        return team in self.nodes.get(key, set())

    def knows(self, team: str, key: str) -> bool:
        """Sees the node and, for a person, who it is."""
        return self.sees(team, key) and team in self.identity.get(key, {team})

    def sees_edge(self, team: str, edge: tuple[str, str, str, str]) -> bool:
        _, a, b, _ = edge
        return team in self.edges[edge] and self.sees(team, a) and self.sees(team, b)

    def neighbours(self, team: str) -> dict[str, set[tuple[str, tuple[str, str, str, str]]]]:
        adjacency: dict[str, set[tuple[str, tuple[str, str, str, str]]]] = defaultdict(set)
        for edge in self.edges:
            _, a, b, _ = edge
            if self.sees_edge(team, edge) and kind(a) in TRAVERSED and kind(b) in TRAVERSED:
                adjacency[a].add((b, edge))
                adjacency[b].add((a, edge))
        return adjacency

    def distances(self, team: str, start: str, limit: int) -> dict[str, int]:
        adjacency = self.neighbours(team)
        dist = {start: 0}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if dist[here] == limit:
                continue
            for there, _ in adjacency[here]:
                if there not in dist:
                    dist[there] = dist[here] + 1
                    queue.append(there)
        return dist

    def forbidden(self, team: str) -> list[str]:
        """Every secret the team must never read."""
        found = [
            s for key, items in self.secrets.items() if not self.sees(team, key) for s in items
        ]
        found += [
            name
            for key, name in self.hidden_names.items()
            if not self.knows(team, key) and team not in self.written[name]
        ]
        return found


def kind(key: str) -> str:
    return key.split(":", 1)[0]


# -------------------------------------------------------------------------------- generator


@dataclass
class World:
    scenario: Scenario
    model: Model
    persons: list[str]
    tokens: list[tuple[str, str]]
    """(text to search, node key it names)."""
    operations: list[str]


teams_st = st.integers(min_value=2, max_value=4).map(lambda n: TEAMS[:n])


@st.composite
def worlds(draw: st.DrawFn) -> World:
    teams = draw(teams_st)
    s = Scenario(jit=f"jit-h{SESSION}-{next(_serial)}", teams=teams)
    m = Model()
    team = st.sampled_from(teams)
    share = st.frozensets(team, max_size=len(teams))
    handles = [f"telegram:{secret('h')}" for _ in range(3)]
    persons: list[str] = []
    tokens: list[tuple[str, str]] = []
    leads: list[tuple[str, str, set[str]]] = []

    plans = []
    for _ in range(draw(st.integers(1, 4))):
        roles = draw(st.lists(st.sampled_from(ROLES), max_size=3))
        plans.append((draw(team), draw(share), roles, [secret("Zq").capitalize() for _ in roles]))
    victims = [n for _, _, roles, names in plans for n, r in zip(names, roles, strict=True)
               if r is PersonRole.VICTIM]  # fmt: skip
    named = st.sampled_from(victims) if victims else st.just("")

    def naming(text: str, author: str) -> str:
        """Free text that may name a victim of any lead of the JIT, recorded before or after."""
        if not victims or not draw(st.booleans()):
            return text
        name = draw(named)
        m.written[name].add(author)
        return f"{text} met {name} there"

    for li, (origin, shared, roles, names) in enumerate(plans):
        audience = {origin, *shared}
        idents = draw(
            st.lists(
                st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(0, 2))),
                max_size=3,
                unique_by=lambda t: t[0],
            )
        )
        identifiers = [
            Identifier(
                kind=IdentifierKind.HANDLE,
                value=handles[h],
                person=owner if owner is not None and owner < len(roles) else None,
            )
            for h, owner in idents
        ]
        summary = secret("summary")
        lead_id = f"L{li}-{s.jit}"
        s.lead(
            origin,
            shared_with=shared,
            lead_id=lead_id,
            persons=[Person(name=n, role=r) for n, r in zip(names, roles, strict=True)],
            identifiers=identifiers,
            summary=naming(summary, origin),
        )
        lead = f"Lead:{lead_id}"
        m.node(lead, audience, summary)
        leads.append((lead_id, origin, audience))
        for i, (name, role) in enumerate(zip(names, roles, strict=True)):
            pid = s.person_id(lead_id, i)
            key = f"Person:{pid}"
            m.node(key, audience)
            m.identity[key] = {origin} if role is PersonRole.VICTIM else audience
            m.hidden_names[key] = name
            m.edge("MENTIONS", lead, key, audience, role.value)
            persons.append(key)
            tokens.append((name, key))
        for ident in identifiers:
            key = f"Identifier:{s.identifier_id(ident)}"
            victims = ident.person is not None and roles[ident.person] is PersonRole.VICTIM
            seen = {origin} if victims else audience
            m.node(key, seen, ident.value.split(":")[1])
            role_key = roles[ident.person].value if ident.person is not None else "none"
            m.edge("MENTIONS", lead, key, seen, role_key)
            if ident.person is not None:
                owner = f"Person:{s.person_id(lead_id, ident.person)}"
                m.edge("HAS_IDENTIFIER", owner, key, seen)
            tokens.append((ident.value, key))

    operations = []
    for _ in range(draw(st.integers(0, 2))):
        origin, shared = draw(team), draw(share)
        op = s.operation(origin, shared_with=shared)
        m.node(f"Operation:{op}", {origin, *shared})
        operations.append(op)

    tasks = []
    for _ in range(draw(st.integers(0, 2))):
        by, to, shared = draw(team), draw(team), draw(share)
        linked = draw(st.lists(st.sampled_from(leads), max_size=2, unique_by=lambda x: x[0]))
        targets = (
            draw(st.lists(st.sampled_from(persons), max_size=2, unique=True)) if persons else []
        )
        ops = draw(st.lists(st.sampled_from(operations), max_size=1)) if operations else []
        title = secret("title")
        task = s.task(
            by,
            to,
            leads=tuple(lid for lid, _, _ in linked),
            entities=tuple(k.split(":", 1)[1] for k in targets),
            operations=tuple(ops),
            shared_with=shared,
            title=naming(title, by),
        )
        audience = {by, to, *shared}
        key = f"Task:{task}"
        m.node(key, audience, title)
        tasks.append(task)
        for lid, _, _ in linked:
            m.edge("LINKED_TO", key, f"Lead:{lid}", audience)
        for target in targets:
            m.edge("TARGETS", key, target, audience)
        for op in ops:
            m.edge("LINKED_TO", key, f"Operation:{op}", audience)

    for _ in range(draw(st.integers(0, 2))):
        lead_id, _, audience = draw(st.sampled_from(leads))
        choices = [("task", t) for t in tasks] + [("operation", o) for o in operations]
        if not choices:
            break
        link_kind, link_id = draw(st.sampled_from(choices))
        s.lead_event(lead_id, LeadActioned(lead_id=lead_id, by="m", link_kind=link_kind,
                                           link_id=link_id))  # fmt: skip
        label = "Task" if link_kind == "task" else "Operation"
        m.edge("LINKED_TO", f"Lead:{lead_id}", f"{label}:{link_id}", audience)

    hits = []
    if draw(st.booleans()):
        by_team: dict[str, str] = {}
        for lead_id, origin, _ in leads:
            by_team.setdefault(origin, lead_id)
        if len(by_team) >= 2:
            (t1, l1), (t2, l2) = draw(
                st.lists(st.sampled_from(sorted(by_team.items())), min_size=2, max_size=2,
                         unique_by=lambda x: x[0])
            )  # fmt: skip
            regs = {}
            for side_team, lead_id in ((t1, l1), (t2, l2)):
                reg = str(uuid.uuid4())
                regs[side_team] = reg
                s.emit(
                    TokenRegistered(token=token(reg), scope=TokenScope.JIT, key_version=1,
                                    registration_id=reg, jit=s.jit, team=side_team,
                                    kind=IdentifierKind.HANDLE, source_ref=lead_id,
                                    registered_at=s.now),
                    subject=token(reg), originator=side_team,
                )  # fmt: skip
                m.node(f"Registration:{reg}", {side_team})
                m.edge("REGISTERS", f"Registration:{reg}", f"Lead:{lead_id}", {side_team})
            hit = str(uuid.uuid4())
            s.emit(
                DeconflictionHit(
                    hit_id=hit, jit=s.jit, kind=IdentifierKind.HANDLE, status=HitStatus.CONFIRMED,
                    registering=HitSide(team=t1, jit=s.jit, registration_id=regs[t1]),
                    holding=HitSide(team=t2, jit=s.jit, registration_id=regs[t2]),
                    detected_at=s.now,
                ),
                subject=hit, originator=t1, releasable_to={t1, t2}, versioned=False,
            )  # fmt: skip
            m.node(f"DeconflictionHit:{hit}", {t1, t2})
            for side_team in (t1, t2):
                m.edge("MATCHED", f"DeconflictionHit:{hit}", f"Registration:{regs[side_team]}",
                       {side_team})  # fmt: skip
            if draw(st.booleans()):
                note = secret("note")
                s.emit(
                    DeconflictionDetailsReleased(
                        hit_id=hit, by_team=t2, to_team=t1, by="m",
                        details=ReleasedDetails(note=note), released_at=s.now,
                    ),
                    subject=hit, originator=t2, releasable_to={t1},
                )  # fmt: skip
                m.node(f"HitDetails:{hit}|{t2}", {t1, t2}, note)
                m.edge("DETAILS_OF", f"HitDetails:{hit}|{t2}", f"DeconflictionHit:{hit}", {t1, t2})
            hits.append(hit)

    if draw(st.booleans()):
        raiser = draw(team)
        targets_st = st.frozensets(team, min_size=1, max_size=len(teams))
        targets = sorted(draw(targets_st))
        links = [("lead", f"Lead:{lid}") for lid, _, _ in leads[:1]]
        links += [("entity", p) for p in persons[:1]] + [
            ("hit", f"DeconflictionHit:{h}") for h in hits
        ]
        chosen = draw(st.lists(st.sampled_from(links), max_size=2, unique=True)) if links else []
        summary = secret("alert")
        alert = f"alert-{uuid.uuid4().hex[:8]}"
        s.emit(
            AlertRaised(
                alert_id=alert, jit=s.jit, severity=Severity.P2, category=Category.OTHER,
                target_teams=tuple(targets), summary=naming(summary, raiser),
                links=tuple(AlertLink(kind=LinkKind(k), id=ref.split(":", 1)[1])
                            for k, ref in chosen),
                raised_by="m", raising_team=raiser, raised_at=s.now, coordinator_team=raiser,
            ),
            subject=alert, originator=raiser, releasable_to=set(targets),
        )  # fmt: skip
        audience = {raiser, *targets}
        m.node(f"Alert:{alert}", audience, summary)
        for _, ref in chosen:
            m.edge("RAISED_FOR", f"Alert:{alert}", ref, audience)

    return World(scenario=s, model=m, persons=persons, tokens=tokens, operations=operations)


# ---------------------------------------------------------------------------------- checks


def nodes_of(response: Any) -> set[str]:
    return {n["id"] for n in response["nodes"]}


def edges_of(response: Any) -> set[tuple[str, str, str, str]]:
    return {
        (e["type"], e["source"], e["target"], e["data"].get("role", "")) for e in response["edges"]
    }


def model_edge(edge: tuple[str, str, str, str]) -> tuple[str, str, str, str]:
    """The model names MENTIONS by role and other relationships without a key."""
    return edge if edge[0] == "MENTIONS" else (*edge[:3], "")


class Reader:
    """Runs one team's reads and keeps what they returned, for the secret scan."""

    def __init__(self, views: GraphViews, world: World, team: str) -> None:
        self.views, self.world, self.team = views, world, team
        self.responses: list[Any] = []
        self.reads: list[str] = []

    async def __call__(self, name: str, **kw: Any) -> Any:
        found = await getattr(self.views, name)(team=self.team, jit=self.world.scenario.jit, **kw)
        COUNTS[name] += 1
        self.responses.append(found)
        self.reads.append(f"{name}({kw})")
        return found

    def where(self, secret: str) -> list[str]:
        """The reads whose answer holds ``secret``, with the answer."""
        return [
            f"{read} -> {text[:600]}"
            for read, response in zip(self.reads, self.responses, strict=True)
            if secret.lower() in (text := json.dumps(response, default=str)).lower()
        ]


async def check_team(views: GraphViews, world: World, team: str, draw: Any) -> None:
    m, s = world.model, world.scenario
    read = Reader(views, world, team)

    leads = {ld["id"] for ld in await read("leads", limit=500)}
    assert leads == {k.split(":", 1)[1] for k in m.nodes if kind(k) == "Lead" and m.sees(team, k)}

    for key in [k for k in m.nodes if kind(k) == "Lead"][:3]:
        lead = await read("lead", lead_id=key.split(":", 1)[1])
        assert (lead is not None) == m.sees(team, key)
        if lead is None:
            continue
        mentioned = {
            (b, r) for (rel, a, b, r) in m.edges if rel == "MENTIONS" and a == key
            and m.sees_edge(team, (rel, a, b, r))
        }  # fmt: skip
        got = {(f"Person:{p['id']}", p["role"]) for p in lead["persons"]} | {
            (f"Identifier:{i['id']}", i["role"] or "none") for i in lead["identifiers"]
        }
        assert got == mentioned

    visible_persons = [p for p in world.persons if m.sees(team, p)]
    for person in world.persons[:2]:
        card = await read("card", person_id=person.split(":", 1)[1])
        assert (card is not None) == m.sees(team, person)
        if card is None:
            continue
        has = {b for (rel, a, b, _) in m.edges if rel == "HAS_IDENTIFIER" and a == person
               and m.sees_edge(team, (rel, a, b, ""))}  # fmt: skip
        assert {f"Identifier:{i['id']}" for i in card["identifiers"]} == has
        mentions = {a for (rel, a, b, r) in m.edges if rel == "MENTIONS" and b == person
                    and m.sees_edge(team, (rel, a, b, r))}  # fmt: skip
        assert {f"Lead:{ld['id']}" for ld in card["leads"]} == mentions
        for section, label in (("tasks", "Task"), ("operations", "Operation"),
                               ("hits", "DeconflictionHit"), ("alerts", "Alert")):  # fmt: skip
            for item in card[section]:
                assert m.sees(team, f"{label}:{item['id']}")

    for person in visible_persons[:2]:
        depth = draw(st.integers(1, 3))
        net = await read("network", person_id=person.split(":", 1)[1], depth=depth, max_nodes=1000)
        dist = m.distances(team, person, depth)
        assert nodes_of(net) == set(dist)
        expected = {
            model_edge(e) for node, d in dist.items() if d < depth
            for _, e in m.neighbours(team)[node]
        }  # fmt: skip
        assert {model_edge(e) for e in edges_of(net)} == expected

    pairs = list(itertools.combinations(visible_persons, 2))[:2]
    for a, b in pairs:
        found = await read("path", from_id=a.split(":", 1)[1], to_id=b.split(":", 1)[1])
        shortest = m.distances(team, a, 8).get(b)
        assert (found["length"] if found else None) == shortest
        if found:
            assert all(m.sees(team, n) for n in nodes_of(found))

    for text, key in world.tokens[:3]:
        hits = await read("search", text=text)
        refs = {f"{h['kind']}:{h['ref']}" for h in hits}
        for ref in refs:
            assert m.knows(team, ref), f"search for {text!r} returned {ref}"
        if (
            not m.knows(team, key)
            and text in m.hidden_names.values()
            and team not in m.written[text]
        ):
            assert not refs, f"a search by a victim's name {text!r} found {refs} for {team}"
        assert (key in refs) == m.knows(team, key), f"search for {text!r}"

    timeline = await read("timeline", limit=1000)
    expected_ids = {
        e.id for e in s.envelopes
        if team in e.audience and e.jit == s.jit and e.type in STATEMENTS and activity(e)
    }  # fmt: skip
    assert {i["id"] for i in timeline} == expected_ids

    hits = await read("hits", limit=500)
    assert {h["id"] for h in hits} == {
        k.split(":", 1)[1] for k in m.nodes if kind(k) == "DeconflictionHit" and m.sees(team, k)
    }
    for alert in await read("desk_alerts", states=None, limit=500):
        assert m.sees(team, f"Alert:{alert['alert_id']}")

    ops = await read("operations", include_cancelled=True)
    assert {o["id"] for o in ops} == {o for o in world.operations if m.sees(team, f"Operation:{o}")}

    text = json.dumps(read.responses, ensure_ascii=False, default=str).lower()
    for forbidden in m.forbidden(team):
        assert forbidden.lower() not in text, f"{team} read {forbidden!r}: {read.where(forbidden)}"
    assert '"audience"' not in text
    assert "identity_audience" not in text


# ------------------------------------------------------------------------------------- test


@pytest.fixture(scope="module")
async def counted() -> AsyncIterator[dict[str, int]]:
    yield COUNTS
    total = sum(COUNTS.values())
    print(f"\nleak property test: {COUNTS['examples']} examples, {COUNTS['graphs']} graphs, "
          f"{total - COUNTS['examples'] - COUNTS['graphs']} team-scoped reads checked: "
          f"{dict(COUNTS)}")  # fmt: skip


@settings(
    max_examples=int(os.environ.get("INTERLOCK_LEAK_EXAMPLES", "60")),  # 1,000 in test-long
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(graphs=st.lists(worlds(), min_size=2, max_size=3), data=st.data())
async def test_no_team_ever_reads_what_it_may_not(
    driver: AsyncDriver, views: GraphViews, counted: dict[str, int], graphs: list[World],
    data: st.DataObject,
) -> None:  # fmt: skip
    """For random JITs, teams, sharing and graphs, every read of every team returns exactly, or
    at most, what the model says it may see, and never a secret of anything else."""
    counted["examples"] += 1
    counted["graphs"] += len(graphs)
    envelopes = [env for world in graphs for env in world.scenario.envelopes]
    scope = Scope(jits=frozenset(w.scenario.jit for w in graphs), teams=frozenset())
    try:
        await write(driver, envelopes)
        for world in graphs:
            for team in world.scenario.teams:
                await check_team(views, world, team, data.draw)
    finally:
        await clear_graph(driver, scope=scope)


@pytest.fixture(scope="module", autouse=True)
async def _teams_removed(driver: AsyncDriver) -> AsyncIterator[None]:
    yield
    await clear_graph(driver, scope=Scope(teams=frozenset(TEAMS)))


def test_the_model_follows_visible_edges_only() -> None:
    """The model's own rule: a path needs every edge and node on it visible to the team."""
    m = Model()
    m.node("Person:a", {"T"})
    m.node("Identifier:i", {"T"})
    m.node("Person:b", {"U"})
    m.edge("HAS_IDENTIFIER", "Person:a", "Identifier:i", {"T"})
    m.edge("HAS_IDENTIFIER", "Person:b", "Identifier:i", {"T", "U"})
    assert m.distances("T", "Person:a", 3) == {"Person:a": 0, "Identifier:i": 1}
    assert m.distances("U", "Person:b", 3) == {"Person:b": 0}
    assert m.forbidden("T") == []
