"""The hit list and a single hit through the gateway, on the real platform: each of a hit's two
teams sees it with both desks and what each side decided about its details; a third team never
sees it, and asking for it by id is the same 404 as asking for a hit that does not exist."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.deconfliction.support import Jit, lead, register_jit, submit
from tests.support.api import Member, eventually
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

FRESH = {"wait": 10}


@pytest.fixture
def jit(platform: Platform, issuer: Any) -> Jit:
    """A fresh JIT of three fresh teams (NL, RO, DE), each with a desk."""
    return register_jit(platform, issuer)


def phone() -> str:
    return f"+40 721 {uuid.uuid4().int % 900 + 100} {uuid.uuid4().int % 900 + 100}"


def hits(member: Member, jit_id: str, **params: Any) -> dict[str, Any]:
    response = member.get(f"/jits/{jit_id}/hits", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fresh(read: Callable[[], dict[str, Any]], check: Callable[[dict[str, Any]], Any]) -> Any:
    """``check`` of a fresh read: it must hold at once when the read says it caught up with the
    topic (the write was on the broker before the command was answered); otherwise (a very
    slow machine) it must hold eventually."""
    first = read()
    if first["projection"]["caught_up"]:
        found = check(first)
        assert found, f"a caught-up read did not show the write: {first}"
        return found
    return eventually(lambda: check(read()), timeout=60)


def test_both_sides_see_the_hit_a_third_team_never_does(jit: Jit) -> None:
    """Each side lists the hit with both desks, its own matched lead and not the other's; the
    third team's list is empty and the hit by id is 404, the same answer as an unknown hit."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    number = phone()
    nl_lead = submit(
        nl, jit, lead(f"nl-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}])
    )
    ro_lead = submit(
        ro, jit, lead(f"ro-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}])
    )

    [seen_by_ro] = eventually(lambda: hits(ro, jit.id)["items"], timeout=90)
    assert seen_by_ro["kind"] == "phone"
    assert seen_by_ro["status"] == "confirmed"
    assert seen_by_ro["our_side"] == "registering"
    assert seen_by_ro["other_team"] == jit.nl
    assert seen_by_ro["registering"]["team"] == jit.ro
    assert seen_by_ro["holding"]["team"] == jit.nl
    nl_desk = jit.desk(jit.nl)
    assert seen_by_ro["holding"]["desk"] == {
        "name": nl_desk.name,
        "phone": nl_desk.phone,
        "email": nl_desk.email,
    }
    assert seen_by_ro["registering"]["decision"] == seen_by_ro["holding"]["decision"] == "pending"
    assert seen_by_ro["details"] == []
    assert [r["source_ref"] for r in seen_by_ro["our_records"]] == [ro_lead]
    hit_id = seen_by_ro["id"]

    listed_for_nl = fresh(lambda: hits(nl, jit.id, **FRESH), lambda b: b["items"])
    [seen_by_nl] = listed_for_nl
    assert seen_by_nl["id"] == hit_id
    assert seen_by_nl["our_side"] == "holding"
    assert seen_by_nl["other_team"] == jit.ro
    assert [r["source_ref"] for r in seen_by_nl["our_records"]] == [nl_lead]
    assert ro_lead not in json.dumps(seen_by_nl), "NL learnt which RO lead matched"
    assert nl_lead not in json.dumps(seen_by_ro), "RO learnt which NL lead matched"

    one = nl.get(f"/jits/{jit.id}/hits/{hit_id}")
    assert one.status_code == 200, one.text
    assert one.json() == seen_by_nl

    assert [h["id"] for h in hits(nl, jit.id, lead=nl_lead)["items"]] == [hit_id]
    assert [h["id"] for h in hits(ro, jit.id, lead=ro_lead)["items"]] == [hit_id]
    assert hits(ro, jit.id, lead=nl_lead)["items"] == [], "RO found the hit by NL's lead id"
    assert hits(nl, jit.id, lead=str(uuid.uuid4()))["items"] == []
    assert nl.get(f"/jits/{jit.id}/hits", lead="not-a-lead").status_code == 422

    third = hits(de, jit.id, **FRESH)
    assert third["projection"]["caught_up"] is True, third["projection"]
    assert third["items"] == [] and third["count"] == 0
    hidden = de.get(f"/jits/{jit.id}/hits/{hit_id}")
    unknown_id = str(uuid.uuid4())
    unknown = de.get(f"/jits/{jit.id}/hits/{unknown_id}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"].replace(hit_id, "?") == unknown.json()["error"].replace(
        unknown_id, "?"
    )
    assert hit_id not in json.dumps(de.get(f"/jits/{jit.id}/hits", status="confirmed").json())

    outsider = Member(
        jit.base_url,
        jit.issuer,
        member="x",
        team="BG-OUTSIDER",
        jits=(f"jit-{uuid.uuid4().hex[:8]}",),
    )
    assert outsider.get(f"/jits/{jit.id}/hits").status_code == 403
    assert outsider.get(f"/jits/{jit.id}/hits/{hit_id}").status_code == 403


def test_release_and_decline_show_in_both_sides_lists(jit: Jit) -> None:
    """RO releases a note, NL declines with a reason: a fresh read of either list shows both
    decisions and the released note to both sides, never to the third team."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    number = phone()
    submit(nl, jit, lead(f"nl-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}]))
    submit(ro, jit, lead(f"ro-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}]))
    [hit] = eventually(lambda: hits(ro, jit.id)["items"], timeout=90)
    note = f"Our case officer will call your desk ({uuid.uuid4().hex[:6]})."

    released = ro.post(f"/jits/{jit.id}/hits/{hit['id']}/release", {"note": note})
    assert released.status_code == 201, released.text

    def released_to(body: dict[str, Any]) -> Any:
        [found] = body["items"]
        return found["registering"]["decision"] == "released" and found

    seen = fresh(lambda: hits(nl, jit.id, **FRESH), released_to)
    assert seen["holding"]["decision"] == "pending"
    [details] = seen["details"]
    assert (details["by_team"], details["to_team"], details["status"]) == (
        jit.ro,
        jit.nl,
        "released",
    )
    assert details["note"] == note

    declined = nl.post(f"/jits/{jit.id}/hits/{hit['id']}/decline", {"reason": "sub judice"})
    assert declined.status_code == 201, declined.text

    def declined_to(body: dict[str, Any]) -> Any:
        [found] = body["items"]
        return found["holding"]["decision"] == "declined" and found

    seen = fresh(lambda: hits(ro, jit.id, **FRESH), declined_to)
    assert seen["registering"]["decision"] == "released"
    by_team = {d["by_team"]: d for d in seen["details"]}
    assert by_team[jit.nl]["status"] == "declined"
    assert by_team[jit.nl]["reason"] == "sub judice"
    assert by_team[jit.ro]["note"] == note

    assert note not in json.dumps(hits(de, jit.id, **FRESH))


def test_filters_by_status_kind_and_time(jit: Jit) -> None:
    """The list filters by match status, kind and detection time; an unknown kind is a 422."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    number = phone()
    submit(nl, jit, lead(f"nl-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}]))
    submit(ro, jit, lead(f"ro-{uuid.uuid4()}", identifiers=[{"kind": "phone", "value": number}]))
    [hit] = eventually(lambda: hits(nl, jit.id)["items"], timeout=90)

    def ids(**params: Any) -> list[str]:
        return [h["id"] for h in hits(nl, jit.id, **params)["items"]]

    assert ids(status="confirmed") == [hit["id"]]
    assert ids(status="possible") == []
    assert ids(kind="phone") == [hit["id"]]
    assert ids(kind=["email", "person"]) == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ids(since=past) == [hit["id"]]
    assert ids(since=future) == []
    bad = nl.get(f"/jits/{jit.id}/hits", kind="shoe_size")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.kind"
    assert nl.get(f"/jits/{jit.id}/hits/not-a-uuid").status_code == 422


def test_each_side_of_a_cross_jit_hit_sees_it_in_its_own_jit(
    platform: Platform, issuer: Any
) -> None:
    """A cross-JIT hit is listed for each side under its own JIT, and for no other team of
    either JIT."""
    first = register_jit(platform, issuer, cross_jit=True)
    second = register_jit(platform, issuer, cross_jit=True)
    email = f"broker.{uuid.uuid4().hex[:8]}@example.org"
    sides = ((first, first.nl), (second, second.ro))
    for jit, team in sides:
        registered = jit.member(team).post(
            f"/jits/{jit.id}/deconfliction/registrations",
            {
                "source_ref": f"x-{uuid.uuid4().hex[:8]}",
                "identifiers": [{"kind": "email", "value": email}],
            },
        )
        assert registered.status_code == 201, registered.text

    seen = [
        eventually(lambda j=jit, t=team: hits(j.member(t), j.id)["items"], timeout=90)
        for jit, team in sides
    ]
    [in_first], [in_second] = seen
    assert in_first["id"] == in_second["id"]
    assert in_first["cross_jit"] is in_second["cross_jit"] is True
    assert (in_first["other_team"], in_second["other_team"]) == (second.ro, first.nl)
    assert {in_first["our_side"], in_second["our_side"]} == {"registering", "holding"}
    for jit, team in ((first, first.ro), (first, first.de), (second, second.nl)):
        assert hits(jit.member(team), jit.id, **FRESH)["items"] == []
        assert jit.member(team).get(f"/jits/{jit.id}/hits/{in_first['id']}").status_code == 404
