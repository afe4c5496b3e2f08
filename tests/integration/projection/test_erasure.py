"""A subject's erasure in the graph, on the real Neo4j: no trace of it, everything else intact.

The scenario's erased part (tests/unit/projection/builders.py ``erased_subjects``): team C's lead
names a person, its own phone and the suspect's phone that A's and B's leads also mention; it
registered a token that hit B's; C also has a task and an operation. Then all three are erased.
"""

from __future__ import annotations

import json

import pytest
from neo4j import AsyncDriver

from services.projection.agents import write
from services.projection.canonical import graph_digest
from tests.integration.projection.conftest import scope_of
from tests.unit.projection.builders import ERASED_NAME, ERASED_PHONE, Scenario, erased_subjects

pytestmark = pytest.mark.integration


async def everything_of(driver: AsyncDriver, jit: str) -> str:
    """Every node and relationship property of the JIT, as one text to search."""
    records, _, _ = await driver.execute_query(
        "MATCH (n) WHERE n.jit = $jit OPTIONAL MATCH (n)-[r]-() "
        "RETURN collect(DISTINCT properties(n)) AS nodes, collect(DISTINCT properties(r)) AS rels",
        jit=jit,
    )
    return json.dumps([records[0]["nodes"], records[0]["rels"]], default=str, ensure_ascii=False)


async def ids_present(driver: AsyncDriver, ids: list[str]) -> set[str]:
    records, _, _ = await driver.execute_query(
        "MATCH (n) WHERE n.id IN $ids RETURN collect(n.id) AS found", ids=ids
    )
    return set(records[0]["found"])


async def test_erasure_leaves_no_trace_and_the_rest_intact(
    driver: AsyncDriver, scenario: Scenario
) -> None:
    """Lead, person, own identifier, registration, hit, task, operation and their timeline go."""
    s = scenario
    a, b, _ = s.teams
    erasures = erased_subjects(s)
    await write(driver, [e for e in s.envelopes if e not in erasures])
    erased = [s.ids[k] for k in ("erased_lead", "erased_task", "erased_operation",
                                 "erased_hit", "erased_person", "erased_registration",
                                 "erased_phone")]  # fmt: skip
    assert await ids_present(driver, erased) == set(erased)
    before = await everything_of(driver, s.jit)
    assert ERASED_NAME in before and "Recruiter seen" in before

    await write(driver, erasures)

    assert await ids_present(driver, erased) == set()
    after = await everything_of(driver, s.jit)
    for trace in (ERASED_NAME, ERASED_PHONE, "Recruiter seen", "recruiter's flat", *erased):
        assert trace not in after
    records, _, _ = await driver.execute_query(
        "MATCH (i:Identifier {id: $id}) RETURN i.audience AS audience", id=s.ids["suspect_phone"]
    )
    assert records[0]["audience"] == sorted([a, b]), "C's mention no longer widens it"
    kept = [s.ids[k] for k in ("lead_a", "lead_b", "lead_c", "hit", "task", "op_c")]
    assert await ids_present(driver, kept) == set(kept)


async def test_replaying_the_log_after_an_erasure_gives_the_same_graph(
    driver: AsyncDriver, scenario: Scenario
) -> None:
    """Replaying every event (the erasure included) again changes nothing: the digest holds."""
    s = scenario
    erasures = erased_subjects(s)
    await write(driver, [e for e in s.envelopes if e not in erasures])
    await write(driver, erasures)
    once = await graph_digest(driver, scope=scope_of(s))
    await write(driver, s.envelopes)
    assert await graph_digest(driver, scope=scope_of(s)) == once
