"""The read API through FastAPI with real tokens and the real Neo4j: every endpoint checks JIT
membership and answers each team with what it may see."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from followthemoney import model

from events.directory import JitRegistered, MemberRegistered, Role
from events.handling import victim_pseudonym
from services.admin import jit_record, member_record
from services.kit.directory import DirectoryBook, StaticDirectory
from services.kit.identity import Issuer, Verifier
from services.kit.settings import Settings
from services.kit.web import ApiError, problem
from services.projection.agents import write
from services.projection.http import router
from services.projection.views import GraphViews
from tests.unit.projection.builders import Scenario

pytestmark = pytest.mark.integration


class Api:
    """Authenticated GETs as one member of a team."""

    def __init__(self, client: httpx.AsyncClient, issuer: Issuer) -> None:
        self.client = client
        self.issuer = issuer

    async def get(
        self, team: str, path: str, jits: tuple[str, ...], **params: Any
    ) -> httpx.Response:
        token = self.issuer.issue(
            member=f"{team.lower()}-m", team=team, jits=jits, roles=("investigator",)
        )
        headers = {"Authorization": f"Bearer {token}"}
        if params:
            return await self.client.get(path, params=params, headers=headers)
        return await self.client.get(path, headers=headers)


def directory_of(s: Scenario) -> DirectoryBook:
    """The scenario's JIT and each team's member ``<team>-m``, as the directory holds them."""
    jit = JitRegistered(
        jit_id=s.jit,
        name=s.jit,
        legal_basis="agreement",
        coordinator_team=s.teams[0],
        member_teams=tuple(s.teams),
        starts_on=date(2026, 1, 1),
    )
    members = [
        MemberRegistered(
            member_id=f"{team.lower()}-m",
            team=team,
            display_name=team,
            roles=(Role.INVESTIGATOR,),
            jits=(s.jit,),
        )
        for team in s.teams
    ]
    return DirectoryBook.of([jit_record(jit), *(member_record(m) for m in members)])


@pytest.fixture
async def api(
    driver: Any,
    views: GraphViews,
    scenario: Scenario,
    projection_settings: Settings,
    tmp_path: Path,
) -> AsyncIterator[Api]:
    await write(driver, scenario.envelopes)
    settings = projection_settings.model_copy(update={"jwt_key_file": str(tmp_path / "jwk.json")})
    issuer = Issuer(settings)
    app = FastAPI()
    app.state.views = views
    app.state.verifier = Verifier(settings, issuer.jwks())
    app.state.directory = StaticDirectory(directory_of(scenario))

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), exc.errors)

    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield Api(client, issuer)


async def test_every_endpoint_requires_a_token_and_the_jits_membership(
    api: Api, scenario: Scenario
) -> None:
    """401 without a token, 403 for a team outside the JIT (whatever its token claims), on
    every read."""
    s = scenario
    a = s.teams[0]
    ids = s.ids
    paths = [
        f"/jits/{s.jit}/leads",
        f"/jits/{s.jit}/leads/{ids['lead_a']}",
        f"/jits/{s.jit}/persons/{ids['suspect_a']}",
        f"/jits/{s.jit}/persons/{ids['suspect_a']}/network",
        f"/jits/{s.jit}/paths?from={ids['suspect_a']}&to={ids['victim_a']}",
        f"/jits/{s.jit}/operations",
        f"/jits/{s.jit}/timeline",
        f"/jits/{s.jit}/search?q=popescu",
        f"/jits/{s.jit}/export.ftm",
        f"/jits/{s.jit}/export.stix",
    ]
    for path in paths:
        anonymous = await api.client.get(path)
        assert anonymous.status_code == 401, path
        outsider = await api.get("FR-OCRTEH", path, jits=(s.jit,))
        assert outsider.status_code == 403, path
        assert f"not a member of JIT {s.jit}" in outsider.json()["error"]
        member = await api.get(a, path, jits=(s.jit,))
        assert member.status_code == 200, (path, member.text)


async def test_reads_answer_two_teams_that_share_differently(api: Api, scenario: Scenario) -> None:
    """A and B get their own views of the same JIT through every endpoint; C gets 404s."""
    s = scenario
    a, b, c = s.teams
    ids = s.ids
    jits = (s.jit,)

    lead_b = (await api.get(b, f"/jits/{s.jit}/leads/{ids['lead_a']}", jits)).json()
    assert {p["name"] for p in lead_b["persons"]} == {
        "Ion Popescu",
        victim_pseudonym(ids["victim_a"]),
    }
    missing = await api.get(c, f"/jits/{s.jit}/leads/{ids['lead_a']}", jits)
    assert missing.status_code == 404

    listed = (await api.get(b, f"/jits/{s.jit}/leads", jits, status="new")).json()
    assert [i["id"] for i in listed["items"]] == [ids["lead_b"]]
    graded = await api.get(a, f"/jits/{s.jit}/leads", jits, reliability="B", q="farm")
    assert [i["id"] for i in graded.json()["items"]] == [ids["lead_a"]]
    bad = await api.get(a, f"/jits/{s.jit}/leads", jits, reliability="Z")
    assert bad.status_code == 422

    card_a = (await api.get(a, f"/jits/{s.jit}/persons/{ids['victim_a']}", jits)).json()
    card_b = (await api.get(b, f"/jits/{s.jit}/persons/{ids['victim_a']}", jits)).json()
    assert card_a["name"] == "Мария Иванова"
    assert card_b["name"] == victim_pseudonym(ids["victim_a"])
    assert card_b["identifiers"] == []
    hidden = await api.get(c, f"/jits/{s.jit}/persons/{ids['victim_a']}", jits)
    assert hidden.status_code == 404

    net = (
        await api.get(b, f"/jits/{s.jit}/persons/{ids['suspect_b']}/network", jits, depth=2)
    ).json()
    assert {"nodes", "edges", "root"} <= set(net)
    assert all({"id", "label", "kind"} <= set(n) for n in net["nodes"])
    assert all({"id", "source", "target", "type"} <= set(e) for e in net["edges"])
    too_deep = await api.get(b, f"/jits/{s.jit}/persons/{ids['suspect_b']}/network", jits, depth=4)
    assert too_deep.status_code == 422

    path = f"/jits/{s.jit}/paths?from={ids['suspect_a']}&to={ids['suspect_b']}"
    assert (await api.get(b, path, jits)).json()["length"] == 2
    assert (await api.get(a, path, jits)).status_code == 404

    ops_b = (await api.get(b, f"/jits/{s.jit}/operations", jits, lat=44.431, lon=26.101,
                           radius_m=100)).json()  # fmt: skip
    assert {o["id"] for o in ops_b["items"]} == {ids["op_a"], ids["op_b"]}
    half_box = await api.get(b, f"/jits/{s.jit}/operations", jits, min_lat=44)
    assert half_box.status_code == 422
    assert half_box.json()["errors"][0]["field"] == "query.min_lat"

    timeline_c = (await api.get(c, f"/jits/{s.jit}/timeline", jits, order="asc")).json()
    assert timeline_c["count"] > 0
    assert ids["lead_a"] not in json.dumps(timeline_c)

    found_a = (await api.get(a, f"/jits/{s.jit}/search", jits, q="Мария")).json()
    found_b = (await api.get(b, f"/jits/{s.jit}/search", jits, q="Мария")).json()
    assert [h["ref"] for h in found_a["items"]] == [ids["victim_a"]]
    assert found_b["items"] == []


async def test_export_is_what_the_team_sees_as_valid_followthemoney(
    api: Api, scenario: Scenario
) -> None:
    """Each line is a FollowTheMoney entity; B's export holds the victim's pseudonym only."""
    s = scenario
    a, b, _ = s.teams
    exports = {}
    for team in (a, b):
        response = await api.get(team, f"/jits/{s.jit}/export.ftm", (s.jit,))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        entities = [json.loads(line) for line in response.text.splitlines()]
        for data in entities:
            proxy = model.get_proxy(data)
            assert all(proxy.get(p) for p in proxy.schema.required)
        exports[team] = entities
    text_a = json.dumps(exports[a], ensure_ascii=False)
    text_b = json.dumps(exports[b], ensure_ascii=False)
    assert "Мария Иванова" in text_a
    assert "maria.v@example.org" in text_a
    assert "Мария" not in text_b
    assert "maria.v@example.org" not in text_b
    assert victim_pseudonym(s.ids["victim_a"]) in text_b
    assert "Driver seen moving workers at night." in text_b
    assert "Driver seen moving workers at night." not in text_a


async def test_stix_export_is_what_the_team_sees_as_a_valid_stix_bundle(
    api: Api, scenario: Scenario
) -> None:
    """GET export.stix: a STIX 2.1 bundle that stix2-validator finds no error in and stix2 reads
    back with as many objects; every object marked; B's bundle holds the victim's pseudonym
    only, as its FollowTheMoney export does (the same scoped graph)."""
    import stix2
    from stix2validator import ValidationOptions, validate_string

    from services.projection.stix import TLP2_IDS

    s = scenario
    a, b, _ = s.teams
    bundles = {}
    for team in (a, b):
        response = await api.get(team, f"/jits/{s.jit}/export.stix", (s.jit,))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/stix+json")
        results = validate_string(response.text, ValidationOptions(version="2.1"))
        assert [str(e) for e in results.errors or ()] == []
        assert results.is_valid
        bundle = response.json()
        again = stix2.parse(response.text, allow_custom=True)
        assert len(again.objects) == len(bundle["objects"])
        for obj in bundle["objects"]:
            if obj["type"] != "marking-definition":
                assert set(TLP2_IDS.values()) & set(obj["object_marking_refs"]), obj["id"]
        assert {"report", "threat-actor"} <= {o["type"] for o in bundle["objects"]}
        bundles[team] = response.text
    assert "Мария Иванова" in bundles[a]
    assert "maria.v@example.org" in bundles[a]
    assert "Мария" not in bundles[b]
    assert "maria.v@example.org" not in bundles[b]
    assert victim_pseudonym(s.ids["victim_a"]) in bundles[b]
