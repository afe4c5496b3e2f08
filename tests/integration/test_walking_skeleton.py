"""The walking skeleton: a lead goes from the gateway through Kafka and faust to Neo4j and back."""

from __future__ import annotations

import uuid

import pytest

from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform

pytestmark = pytest.mark.integration


def test_lead_submitted_over_http_is_readable_by_its_team_and_hidden_from_another(
    platform: Platform, issuer
) -> None:
    """POST a lead → Kafka → leads → projection → Neo4j → GET for its team; 404 for another."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana", team="RO-DIICOT", jits=(jit,))

    created = nl.post(f"/jits/{jit}/leads", lead_body(f"skeleton-{uuid.uuid4()}"))
    assert created.status_code == 201, created.text
    lead_id = created.json()["lead_id"]

    lead = eventually(  # the lead's node may be projected a batch before its persons
        lambda: (
            (r := nl.get(f"/jits/{jit}/leads/{lead_id}")).status_code == 200
            and r.json()["persons"]
            and len(r.json()["identifiers"]) == 2
            and r.json()
        )
    )
    assert lead["id"] == lead_id
    assert lead["originator"] == "NL-KLPD"
    assert {i["value"] for i in lead["identifiers"]} == {"+40721555123", "RO49AAAA1B31007593840000"}
    assert lead["persons"][0]["name"] == "Ion Popescu"

    hidden = ro.get(f"/jits/{jit}/leads/{lead_id}")
    assert hidden.status_code == 404, hidden.text
    assert "no lead" in hidden.json()["error"]


def test_a_lead_read_with_wait_is_whole_right_after_its_submission(
    platform: Platform, issuer
) -> None:
    """Read-your-writes: after the 201, one read with ``wait`` has the lead and all its parts."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    for n in range(3):
        created = nl.post(f"/jits/{jit}/leads", lead_body(f"ryw-{n}-{uuid.uuid4()}"))
        assert created.status_code == 201, created.text
        read = nl.get(f"/jits/{jit}/leads/{created.json()['lead_id']}", wait=10)
        assert read.status_code == 200, read.text
        assert [p["name"] for p in read.json()["persons"]] == ["Ion Popescu"]
        assert len(read.json()["identifiers"]) == 2


def test_gateway_refuses_missing_forged_and_foreign_jit_tokens(platform: Platform, issuer) -> None:
    """No token or a forged one → 401; a JIT the team does not belong to → 403."""
    import httpx

    jit = f"jit-{uuid.uuid4().hex[:8]}"
    anonymous = httpx.post(f"{platform.base_url}/jits/{jit}/leads", json=lead_body("x"))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    token = nl.http.headers["Authorization"].removeprefix("Bearer ")
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    refused = httpx.post(
        f"{platform.base_url}/jits/{jit}/leads",
        json=lead_body("x"),
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert refused.status_code == 401
    assert "signature" in refused.json()["error"]

    outsider = nl.post("/jits/jit-elsewhere/leads", lead_body("x"))
    assert outsider.status_code == 403
    assert "not a member of JIT jit-elsewhere" in outsider.json()["error"]
