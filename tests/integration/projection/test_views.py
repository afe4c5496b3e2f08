"""Every read of the query layer, on the real Neo4j, for teams that share differently.

The scenario (tests/unit/projection/builders.py): team A's lead names a suspect and a victim
with their identifiers and is shared with B, not C; B's own lead names the same suspect phone;
C has a lead of its own. Tasks, operations, a hit between A and B, and an alert follow.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from events.handling import victim_pseudonym
from events.leads import LeadSubmitted
from services.projection.agents import write
from services.projection.graph import STATEMENTS, activity
from services.projection.views import Area, GraphViews
from tests.unit.projection.builders import BASE, Scenario

pytestmark = pytest.mark.integration


@pytest.fixture
async def written(driver, scenario: Scenario) -> Scenario:  # type: ignore[no-untyped-def]
    await write(driver, scenario.envelopes)
    return scenario


async def test_a_lead_shows_each_team_what_it_may_see(views: GraphViews, written: Scenario) -> None:
    """A sees its victim by name and her email; B a pseudonym and no email; C nothing."""
    s = written
    a, b, c = s.teams
    ids = s.ids
    own = await views.lead(team=a, jit=s.jit, lead_id=ids["lead_a"])
    assert own is not None
    assert own["status"] == "closed"
    assert own["shared_with"] == [b]
    assert {p["name"] for p in own["persons"]} == {"Ion Popescu", "Мария Иванова"}
    assert {i["id"] for i in own["identifiers"]} == {
        ids["suspect_phone"],
        ids["victim_email"],
        ids["iban"],
    }
    assert [o["name"] for o in own["organisations"]] == ["Harvest Agro SRL"]
    assert [t["id"] for t in own["tasks"]] == [ids["task"]]
    assert [o["id"] for o in own["operations"]] == [ids["op_a"]]

    shared = await views.lead(team=b, jit=s.jit, lead_id=ids["lead_a"])
    assert shared is not None
    assert "shared_with" not in shared
    victim = next(p for p in shared["persons"] if p["role"] == "victim")
    assert victim["name"] == victim_pseudonym(ids["victim_a"])
    assert {i["id"] for i in shared["identifiers"]} == {ids["suspect_phone"], ids["iban"]}
    text = json.dumps(shared, ensure_ascii=False)
    for secret in ("Мария", "Mariya", "maria.v@example.org", "MD"):
        assert secret not in text

    assert await views.lead(team=c, jit=s.jit, lead_id=ids["lead_a"]) is None
    assert await views.lead(team=a, jit="jit-other", lead_id=ids["lead_a"]) is None


async def test_lead_list_filters(views: GraphViews, written: Scenario) -> None:
    """Filters by status, source, grading, date received and text, within what a team sees."""
    s = written
    a, b, c = s.teams
    ids = s.ids

    async def leads(team: str, **filters: object) -> set[str]:
        return {ld["id"] for ld in await views.leads(team=team, jit=s.jit, **filters)}  # type: ignore[arg-type]

    assert await leads(a) == {ids["lead_a"]}
    assert await leads(b) == {ids["lead_a"], ids["lead_b"]}
    assert await leads(c) == {ids["lead_c"]}
    assert await leads(b, status=["new"]) == {ids["lead_b"]}
    assert await leads(b, status=["closed", "discarded"]) == {ids["lead_a"]}
    assert await leads(c, source=["osint"]) == {ids["lead_c"]}
    assert await leads(b, reliability=["A"]) == set()
    assert await leads(b, credibility=["2"], reliability=["B"]) == {ids["lead_a"], ids["lead_b"]}
    assert await leads(b, text="DRIVER") == {ids["lead_b"]}
    first = next(
        e.data.received_at
        for e in s.envelopes
        if isinstance(e.data, LeadSubmitted) and e.subject == ids["lead_b"]
    )
    assert await leads(b, received_from=first) == {ids["lead_b"]}
    assert await leads(b, received_until=first) == {ids["lead_a"]}


async def test_suspect_card_per_team(views: GraphViews, written: Scenario) -> None:
    """The card lists identifiers, leads, tasks, operations, hits and alerts the team may see."""
    s = written
    a, b, c = s.teams
    ids = s.ids
    card_a = await views.card(team=a, jit=s.jit, person_id=ids["suspect_a"])
    assert card_a is not None
    assert card_a["name"] == "Ion Popescu"
    assert [i["id"] for i in card_a["identifiers"]] == [ids["suspect_phone"]]
    assert [ld["id"] for ld in card_a["leads"]] == [ids["lead_a"]]
    assert [t["id"] for t in card_a["tasks"]] == [ids["task"]]
    assert [o["id"] for o in card_a["operations"]] == [ids["op_a"]]
    assert [h["id"] for h in card_a["hits"]] == [ids["hit"]]
    assert card_a["hits"][0]["registering_desk_name"] == f"{b} desk"
    assert [a_["id"] for a_ in card_a["alerts"]] == [ids["alert"]]
    assert {d["status"] for d in card_a["hit_details"]} == {"released", "declined"}

    card_b = await views.card(team=b, jit=s.jit, person_id=ids["suspect_a"])
    assert card_b is not None
    assert card_b["hits"] == []  # B's registration is of its own lead, not of A's
    own_b = await views.card(team=b, jit=s.jit, person_id=ids["suspect_b"])
    assert own_b is not None
    assert [h["id"] for h in own_b["hits"]] == [ids["hit"]]
    released = next(d for d in own_b["hit_details"] if d["status"] == "released")
    assert released["contact_officer"] == "Insp. Anna"

    assert await views.card(team=c, jit=s.jit, person_id=ids["suspect_a"]) is None


async def test_a_victims_card_is_a_pseudonym_without_identifiers_for_others(
    views: GraphViews, written: Scenario
) -> None:
    """B sees the victim only as a pseudonym, with no identifier and no referral task."""
    s = written
    a, b, _ = s.teams
    ids = s.ids
    own = await views.card(team=a, jit=s.jit, person_id=ids["victim_a"])
    assert own is not None
    assert own["name"] == "Мария Иванова"
    assert [i["id"] for i in own["identifiers"]] == [ids["victim_email"]]
    assert ids["referral"] in {t["id"] for t in own["tasks"]}
    other = await views.card(team=b, jit=s.jit, person_id=ids["victim_a"])
    assert other is not None
    assert other["pseudonymised"] is True
    assert other["identifiers"] == []
    assert ids["referral"] not in {t["id"] for t in other["tasks"]}
    assert "Мария" not in json.dumps(other, ensure_ascii=False)


async def test_network_around_a_suspect(views: GraphViews, written: Scenario) -> None:
    """B's network joins its suspect to A's through the shared phone; A cannot reach B's lead."""
    s = written
    a, b, c = s.teams
    ids = s.ids
    net_b = await views.network(team=b, jit=s.jit, person_id=ids["suspect_b"], depth=2)
    assert net_b is not None
    refs = {n["id"] for n in net_b["nodes"]}
    assert f"Person:{ids['suspect_a']}" in refs
    assert f"Identifier:{ids['suspect_phone']}" in refs
    assert f"Identifier:{ids['victim_email']}" not in refs
    assert net_b["root"] == f"Person:{ids['suspect_b']}"
    for edge in net_b["edges"]:
        assert edge["source"] in refs
        assert edge["target"] in refs
    shallow = await views.network(team=b, jit=s.jit, person_id=ids["suspect_b"], depth=1)
    assert shallow is not None
    assert f"Person:{ids['suspect_a']}" not in {n["id"] for n in shallow["nodes"]}

    net_a = await views.network(team=a, jit=s.jit, person_id=ids["suspect_a"], depth=3)
    assert net_a is not None
    refs_a = {n["id"] for n in net_a["nodes"]}
    assert f"Lead:{ids['lead_b']}" not in refs_a
    assert f"Person:{ids['suspect_b']}" not in refs_a
    assert f"Identifier:{ids['victim_email']}" in refs_a
    assert await views.network(team=c, jit=s.jit, person_id=ids["suspect_a"]) is None


async def test_shortest_path_between_suspects(views: GraphViews, written: Scenario) -> None:
    """B finds suspect A—phone—suspect B; A cannot see B's suspect, so no path for A."""
    s = written
    a, b, _ = s.teams
    ids = s.ids
    found = await views.path(team=b, jit=s.jit, from_id=ids["suspect_a"], to_id=ids["suspect_b"])
    assert found is not None
    assert found["length"] == 2
    assert found["path"][1] == f"Identifier:{ids['suspect_phone']}"
    assert len(found["edges"]) == 2
    hidden = await views.path(team=a, jit=s.jit, from_id=ids["suspect_a"], to_id=ids["suspect_b"])
    assert hidden is None
    to_victim = await views.path(team=b, jit=s.jit, from_id=ids["suspect_a"], to_id=ids["victim_a"])
    assert to_victim is not None
    assert to_victim["length"] == 2
    labels = {n["id"]: n["label"] for n in to_victim["nodes"]}
    assert labels[f"Person:{ids['victim_a']}"] == victim_pseudonym(ids["victim_a"])


async def test_operations_by_time_and_area(views: GraphViews, written: Scenario) -> None:
    """Operations a team may see, by window and place, with the conflicts it may see."""
    s = written
    a, b, c = s.teams
    ids = s.ids

    async def ops(team: str, **kw: object) -> set[str]:
        return {o["id"] for o in await views.operations(team=team, jit=s.jit, **kw)}  # type: ignore[arg-type]

    assert await ops(a) == {ids["op_a"]}
    assert await ops(b) == {ids["op_a"], ids["op_b"]}
    assert await ops(c) == set()
    assert await ops(c, include_cancelled=True) == {ids["op_c"]}
    window = BASE + timedelta(days=2)
    assert await ops(b, since=window + timedelta(hours=4, minutes=30)) == {ids["op_a"]}
    assert await ops(b, until=window - timedelta(hours=1)) == set()
    near = Area(latitude=44.431, longitude=26.101, radius_m=100)
    assert await ops(b, area=near) == {ids["op_a"], ids["op_b"]}
    far = Area(min_latitude=50, min_longitude=10, max_latitude=51, max_longitude=11)
    assert await ops(b, area=far) == set()
    box = Area(min_latitude=44.4, min_longitude=26.0, max_latitude=44.5, max_longitude=26.2)
    assert await ops(a, area=box) == {ids["op_a"]}
    (op_a,) = await views.operations(team=a, jit=s.jit)
    assert [c_["id"] for c_ in op_a["conflicts"]] == [ids["conflict"]]
    assert op_a["conflicts"][0]["status"] == "resolved"
    assert op_a["latitude"] == 44.432  # moved


async def test_timeline_by_time(views: GraphViews, written: Scenario) -> None:
    """Each team's timeline holds exactly the events released to it, in time order."""
    s = written
    for team in s.teams:
        items = await views.timeline(team=team, jit=s.jit, limit=1000, newest_first=False)
        expected = {
            e.id
            for e in s.envelopes
            if team in e.audience and e.jit == s.jit and e.type in STATEMENTS and activity(e)
        }
        assert {i["id"] for i in items} == expected
        times = [i["at"] for i in items]
        assert times == sorted(times)
    a = s.teams[0]
    recent = await views.timeline(team=a, jit=s.jit, limit=2)
    assert len(recent) == 2
    assert recent[0]["at"] >= recent[1]["at"]
    leads_only = await views.timeline(team=a, jit=s.jit, kinds=["Lead"], limit=1000)
    assert {i["subject_kind"] for i in leads_only} == {"Lead"}


async def test_search_names_and_identifiers(views: GraphViews, written: Scenario) -> None:
    """Names in any script and identifiers match, within what the team may see; a hidden
    victim never matches, not even as her pseudonym."""
    s = written
    a, b, c = s.teams
    ids = s.ids

    async def found(team: str, text: str) -> set[str]:
        return {h["ref"] for h in await views.search(team=team, jit=s.jit, text=text)}

    assert await found(a, "popescu") == {ids["suspect_a"]}
    assert await found(b, "popescu") == {ids["suspect_a"], ids["suspect_b"]}
    assert await found(b, "Попеску") == {ids["suspect_a"], ids["suspect_b"]}  # Latin records
    assert await found(a, "Мария") == {ids["victim_a"]}
    assert await found(a, "mariya ivanova") == {ids["victim_a"]}
    assert await found(b, "Мария") == set()
    assert await found(b, "ivanova") == set()
    assert await found(b, "+40 721 555 123") == {ids["suspect_phone"]}
    assert await found(b, "maria.v@example.org") == set()
    assert await found(a, "maria.v@example.org") == {ids["victim_email"]}
    assert await found(c, "harvest") == set()
    assert ids["iban"] in await found(b, "RO49 AAAA 1B31 0075 9384 0000")
