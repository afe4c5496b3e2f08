"""Killing the projection worker mid-burst leaves the graph exactly as if it had not died: each
lead once, with its persons and identifiers, none missing."""

from __future__ import annotations

import uuid

import pytest
from neo4j import GraphDatabase

from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform, burst_through_a_kill

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

LEADS = 30


def test_killing_the_projection_mid_burst_writes_each_lead_once(
    platform: Platform, issuer, neo4j_auth: tuple[str, str, str]
) -> None:
    jit = f"jit-proj-{uuid.uuid4().hex[:6]}"
    nl = Member(platform.base_url, issuer, member="proj-nl", team="NL-KLPD", jits=(jit,))

    def submit(i: int) -> str:
        response = nl.post(f"/jits/{jit}/leads", lead_body(f"proj-{i}-{uuid.uuid4()}"))
        assert response.status_code in (201, 202), response.text
        return str(response.json()["lead_id"])

    leads, back_after = burst_through_a_kill(platform, "projection", submit, LEADS)
    assert len(leads) == LEADS

    uri, user, password = neo4j_auth
    with GraphDatabase.driver(uri, auth=(user, password)) as driver:

        def counts() -> dict[str, int]:
            records, _, _ = driver.execute_query(
                """
                MATCH (l:Lead) WHERE l.jit = $jit
                OPTIONAL MATCH (l)--(p:Person)
                OPTIONAL MATCH (l)--(i:Identifier)
                RETURN count(DISTINCT l) AS leads, count(DISTINCT p) AS persons,
                       count(DISTINCT i) AS identifiers, collect(DISTINCT l.id) AS ids
                """,
                jit=jit,
            )
            return dict(records[0])

        settled = eventually(lambda: (c := counts())["leads"] == LEADS and c, timeout=120)
        assert set(settled["ids"]) == set(leads)
        assert settled["persons"] >= 1
        assert settled["identifiers"] >= 2
        duplicates, _, _ = driver.execute_query(
            "MATCH (l:Lead) WHERE l.jit = $jit WITH l.id AS id, count(*) AS n WHERE n > 1 "
            "RETURN count(*) AS duplicated",
            jit=jit,
        )
        assert duplicates[0]["duplicated"] == 0
    print(f"\nprojection restart: back after {back_after:.1f}s; {LEADS} leads projected once each")
