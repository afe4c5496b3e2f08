"""The one query layer: every read takes the viewing team and cannot return anything else.

Each query filters every node and relationship it touches by ``$team IN x.audience``; victims
come back as pseudonyms to every team but the one that recorded them.
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver

from events.handling import victim_pseudonym

PERSON_FIELDS = ("name", "latin_name", "date_of_birth", "nationality")


def present_person(props: dict[str, Any], team: str) -> dict[str, Any]:
    """A person as ``team`` may see them: a victim recorded by another team is a pseudonym."""
    person = {k: props.get(k) for k in ("id", "jit", "originator", *PERSON_FIELDS)}
    person["victim"] = bool(props.get("victim"))
    if person["victim"] and props.get("originator") != team:
        pseudonym = victim_pseudonym(str(props["id"]))
        person |= {
            "name": pseudonym,
            "latin_name": pseudonym,
            "date_of_birth": None,
            "nationality": None,
            "pseudonymised": True,
        }
    return person


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in {"audience", "version"}}


class GraphViews:
    """Team-scoped reads over the projected graph."""

    def __init__(self, driver: AsyncDriver) -> None:
        self.driver = driver

    async def lead(self, *, team: str, jit: str, lead_id: str) -> dict[str, Any] | None:
        """A lead and the entities it mentions that ``team`` may see, or None."""
        query = """
        MATCH (l:Lead {id: $lead_id, jit: $jit}) WHERE $team IN l.audience
        OPTIONAL MATCH (l)-[m:MENTIONS]->(e) WHERE $team IN m.audience AND $team IN e.audience
        RETURN properties(l) AS lead,
               collect(CASE WHEN e IS NULL THEN NULL ELSE
                  {labels: labels(e), props: properties(e), role: m.role} END) AS entities
        """
        async with self.driver.session() as session:
            result = await session.run(query, team=team, jit=jit, lead_id=lead_id)
            record = await result.single()
        if record is None:
            return None
        lead = _clean(dict(record["lead"]))
        persons, identifiers = [], []
        for item in record["entities"]:
            if "Person" in item["labels"]:
                persons.append(
                    {**present_person(item["props"], team), "role": item["role"]}
                )
            elif "Identifier" in item["labels"]:
                props = item["props"]
                identifiers.append(
                    {k: props.get(k) for k in ("id", "kind", "value", "country")}
                    | {"role": item["role"]}
                )
        lead["persons"] = sorted(persons, key=lambda p: str(p["id"]))
        lead["identifiers"] = sorted(identifiers, key=lambda i: str(i["id"]))
        return lead

    async def leads(
        self, *, team: str, jit: str, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Leads of a JIT that ``team`` may see, newest first."""
        query = """
        MATCH (l:Lead {jit: $jit}) WHERE $team IN l.audience
          AND ($status IS NULL OR l.status = $status)
        RETURN properties(l) AS lead ORDER BY l.received_at DESC LIMIT $limit
        """
        async with self.driver.session() as session:
            result = await session.run(
                query, team=team, jit=jit, status=status, limit=limit
            )
            return [_clean(dict(r["lead"])) async for r in result]
