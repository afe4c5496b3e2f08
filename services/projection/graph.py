"""Graph writes: each event type becomes one parameterised ``UNWIND … MERGE`` statement.

Writes are idempotent (MERGE by id; an aggregate's properties move only forward in version)
and carry scoping: every node and relationship has an ``audience`` list of the teams that may
see it, grown (never shrunk by a replay) as events release it to more teams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from events.envelope import Envelope
from events.leads import (
    EntityObserved,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadStatus,
    LeadSubmitted,
    LeadTriaged,
)

CONSTRAINTS = (
    "CREATE CONSTRAINT lead_id IF NOT EXISTS FOR (n:Lead) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT identifier_id IF NOT EXISTS FOR (n:Identifier) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT jit_id IF NOT EXISTS FOR (n:JIT) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT team_id IF NOT EXISTS FOR (n:Team) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX lead_jit IF NOT EXISTS FOR (n:Lead) ON (n.jit)",
    "CREATE INDEX identifier_value IF NOT EXISTS FOR (n:Identifier) ON (n.value)",
)

GROW_AUDIENCE = (
    "[t IN coalesce({v}.audience, []) WHERE NOT t IN row.audience] + row.audience"
)


def grow(var: str) -> str:
    """Cypher for ``var``'s audience united with the row's: sharing only ever widens on replay."""
    return GROW_AUDIENCE.format(v=var)


@dataclass(frozen=True)
class Statement:
    cypher: str
    row: Callable[[Envelope], dict[str, Any] | list[dict[str, Any]]]


def _base(env: Envelope) -> dict[str, Any]:
    return {
        "event_id": env.id,
        "jit": env.jit,
        "originator": env.originator,
        "audience": sorted(env.audience),
        "version": env.aggregate_version,
        "time": env.time.isoformat(),
        "handling": env.handling.value,
        "tlp": env.tlp.value,
    }


def _lead_submitted(env: Envelope) -> dict[str, Any]:
    e = env.data
    assert isinstance(e, LeadSubmitted)
    return {
        **_base(env),
        "id": e.lead_id,
        "props": {
            "source": e.source.value,
            "summary": e.summary,
            "reliability": e.reliability.value,
            "credibility": e.credibility.value,
            "received_at": e.received_at.isoformat(),
            "submitted_by": e.submitted_by,
            "status": LeadStatus.NEW.value,
        },
    }


def _lead_status(status: LeadStatus) -> Callable[[Envelope], dict[str, Any]]:
    def row(env: Envelope) -> dict[str, Any]:
        e = env.data
        props: dict[str, Any] = {"status": status.value}
        if isinstance(e, LeadTriaged):
            props |= {"assignee": e.assignee, "priority": e.priority.value}
        if isinstance(e, (LeadClosed, LeadDiscarded)):
            props |= {"closing_reason": e.reason}
        return {**_base(env), "id": e.lead_id, "props": props}

    return row


def _lead_actioned(env: Envelope) -> dict[str, Any]:
    e = env.data
    assert isinstance(e, LeadActioned)
    return {
        **_base(env),
        "id": e.lead_id,
        "props": {"status": LeadStatus.ACTIONED.value},
        "link_kind": e.link_kind,
        "link_id": e.link_id,
    }


def _entity_observed(env: Envelope) -> dict[str, Any]:
    e = env.data
    assert isinstance(e, EntityObserved)
    row: dict[str, Any] = {
        **_base(env),
        "lead_id": e.lead_id,
        "entity_id": e.entity_id,
        "role": e.role.value if e.role else None,
        "owner": e.person_entity_id,
        "person": None,
        "identifier": None,
    }
    if e.person is not None:
        row["person"] = {
            "name": e.person.name,
            "latin_name": e.person.latin_name,
            "date_of_birth": e.person.date_of_birth.isoformat()
            if e.person.date_of_birth
            else None,
            "nationality": e.person.nationality,
            "victim": e.role is not None and e.role.value == "victim",
        }
    if e.identifier is not None:
        row["identifier"] = {
            "kind": e.identifier.kind.value,
            "value": e.identifier.value,
            "country": e.identifier.country,
        }
    return row


LEAD_UPSERT = f"""
UNWIND $rows AS row
MERGE (l:Lead {{id: row.id}})
ON CREATE SET l.jit = row.jit, l.originator = row.originator, l.created_at = row.time,
              l.version = 0, l.audience = row.audience
WITH l, row
SET l.audience = {grow("l")}
WITH l, row WHERE row.version > coalesce(l.version, 0)
SET l += row.props, l.version = row.version, l.updated_at = row.time,
    l.handling = row.handling, l.tlp = row.tlp
"""

LEAD_ACTIONED = (
    LEAD_UPSERT
    + """
WITH l, row
MERGE (x:Linked {id: row.link_id}) ON CREATE SET x.kind = row.link_kind, x.audience = row.audience
MERGE (l)-[r:LINKED_TO]->(x)
SET r.audience = row.audience
"""
)

ENTITY_OBSERVED = f"""
UNWIND $rows AS row
MERGE (l:Lead {{id: row.lead_id}})
ON CREATE SET l.jit = row.jit, l.originator = row.originator, l.version = 0,
              l.audience = row.audience
WITH row, l
CALL (row, l) {{
  WITH row, l WHERE row.person IS NOT NULL
  MERGE (p:Person {{id: row.entity_id}})
  ON CREATE SET p.jit = row.jit, p.originator = row.originator, p.audience = row.audience
  SET p += row.person, p.audience = {grow("p")}
  MERGE (l)-[m:MENTIONS]->(p)
  SET m.role = row.role, m.audience = {grow("m")}
}}
CALL (row, l) {{
  WITH row, l WHERE row.identifier IS NOT NULL
  MERGE (i:Identifier {{id: row.entity_id}})
  ON CREATE SET i.jit = row.jit
  SET i += row.identifier, i.audience = {grow("i")}
  MERGE (l)-[m:MENTIONS]->(i)
  SET m.role = row.role, m.audience = {grow("m")}
  WITH row, i WHERE row.owner IS NOT NULL
  MERGE (p:Person {{id: row.owner}})
  ON CREATE SET p.jit = row.jit, p.originator = row.originator, p.audience = row.audience
  MERGE (p)-[h:HAS_IDENTIFIER]->(i)
  SET h.audience = {grow("h")}
}}
"""

STATEMENTS: dict[str, Statement] = {
    LeadSubmitted.type: Statement(LEAD_UPSERT, _lead_submitted),
    LeadTriaged.type: Statement(LEAD_UPSERT, _lead_status(LeadStatus.TRIAGED)),
    LeadClosed.type: Statement(LEAD_UPSERT, _lead_status(LeadStatus.CLOSED)),
    LeadDiscarded.type: Statement(LEAD_UPSERT, _lead_status(LeadStatus.DISCARDED)),
    LeadActioned.type: Statement(LEAD_ACTIONED, _lead_actioned),
    EntityObserved.type: Statement(ENTITY_OBSERVED, _entity_observed),
}


def plan(envelopes: Iterable[Envelope]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Group a batch into statements, keeping each aggregate's events in order.

    Consecutive events of the same statement are batched into one UNWIND; a change of
    statement starts a new group, so an event never overtakes an earlier one.
    """
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for env in envelopes:
        stmt = STATEMENTS.get(env.type)
        if stmt is None:
            continue
        rows = stmt.row(env)
        batch = rows if isinstance(rows, list) else [rows]
        if groups and groups[-1][0] == stmt.cypher:
            groups[-1][1].extend(batch)
        else:
            groups.append((stmt.cypher, list(batch)))
    return groups


def projected_types() -> Sequence[str]:
    return tuple(STATEMENTS)
