"""Target deconfliction end to end: two teams' leads mention one phone, written differently."""

from __future__ import annotations

import json

from events.deconfliction import DeconflictionDetailsReleased, DeconflictionHit, HitStatus

from .support import (
    DECLINED,
    HIT,
    RELEASED,
    TOKEN_REGISTERED,
    EventLog,
    Jit,
    lead,
    submit,
)

NL_PHONE = "+40 721 555 123"
RO_PHONE = "0721 555 123"
CANONICAL = "+40721555123"


def test_one_phone_in_two_teams_leads_is_one_hit_told_to_both_without_details(
    jit: Jit, events: EventLog
) -> None:
    """One phone in two teams' leads is one hit told to both, with desks and no lead details."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    nl_lead = submit(nl, jit, lead("nl-1", identifiers=[{"kind": "phone", "value": NL_PHONE}]))
    ro_lead = submit(
        ro,
        jit,
        lead("ro-1", identifiers=[{"kind": "phone", "value": RO_PHONE, "country": "RO"}]),
    )

    [hit_env] = events.wait(jit.id, HIT)
    hit = hit_env.data
    assert isinstance(hit, DeconflictionHit)
    assert hit_env.audience == {jit.nl, jit.ro}
    assert hit.kind == "phone"
    assert hit.status is HitStatus.CONFIRMED
    assert (hit.registering.team, hit.holding.team) == (jit.ro, jit.nl)
    assert hit.registering.desk == jit.desk(jit.ro)
    assert hit.holding.desk == jit.desk(jit.nl)
    wire = json.dumps(hit_env.to_wire())
    for secret in (NL_PHONE, RO_PHONE, CANONICAL, nl_lead, ro_lead, "Workers housed"):
        assert secret not in wire

    registered = events.events(jit.id, TOKEN_REGISTERED)
    assert {e.data.team for e in registered} == {jit.nl, jit.ro}
    assert all(e.audience == {e.data.team} for e in registered)


def test_a_release_is_seen_by_the_two_teams_only_and_a_third_team_may_not_decide(
    jit: Jit, events: EventLog
) -> None:
    """A release is seen by the hit's two teams only; a third team's release or decline
    answers as an unknown hit (404), naming nobody."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    submit(nl, jit, lead("nl-2", identifiers=[{"kind": "phone", "value": NL_PHONE}]))
    ro_lead = submit(
        ro, jit, lead("ro-2", identifiers=[{"kind": "phone", "value": RO_PHONE, "country": "RO"}])
    )
    [hit_env] = events.wait(jit.id, HIT)
    hit_id = hit_env.data.hit_id
    details = {"source_ref": ro_lead, "contact_officer": "Insp. Ionescu, +40 21 000 0000"}

    released = ro.post(f"/jits/{jit.id}/hits/{hit_id}/release", details)
    assert released.status_code == 201, released.text
    assert de.post(f"/jits/{jit.id}/hits/{hit_id}/release", details).status_code == 404
    assert de.post(f"/jits/{jit.id}/hits/{hit_id}/decline", {}).status_code == 404
    assert ro.post(f"/jits/{jit.id}/hits/{hit_id}/release", details).status_code == 409

    [release_env] = events.wait(jit.id, RELEASED)
    release = release_env.data
    assert isinstance(release, DeconflictionDetailsReleased)
    assert release_env.audience == {jit.nl, jit.ro}
    assert (release.by_team, release.to_team) == (jit.ro, jit.nl)
    assert release.details.source_ref == ro_lead

    declined = nl.post(f"/jits/{jit.id}/hits/{hit_id}/decline", {"reason": "ongoing covert"})
    assert declined.status_code == 201, declined.text
    [decline_env] = events.wait(jit.id, DECLINED)
    assert decline_env.audience == {jit.nl, jit.ro}


def test_a_decision_on_an_unknown_hit_is_404_and_a_bad_hit_id_422(jit: Jit) -> None:
    """Releasing details of a hit that does not exist is 404; a hit id that is no UUID, 422."""
    nl = jit.member(jit.nl)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert nl.post(f"/jits/{jit.id}/hits/{unknown}/release", {"note": "x"}).status_code == 404
    assert nl.post(f"/jits/{jit.id}/hits/not-a-uuid/release", {"note": "x"}).status_code == 422


def test_a_registration_names_the_bad_field(jit: Jit) -> None:
    """An identifier that is not a phone number is refused with 422 naming the field."""
    nl = jit.member(jit.nl)
    response = nl.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": "case-9", "identifiers": [{"kind": "phone", "value": "not a phone"}]},
    )
    assert response.status_code == 422
    assert any("identifiers" in e["field"] for e in response.json()["errors"])


def test_registering_through_the_api_finds_a_lead_of_another_team(
    jit: Jit, events: EventLog
) -> None:
    """An identifier registered through the API (201) hits another team's lead."""
    nl, de = jit.member(jit.nl), jit.member(jit.de)
    submit(nl, jit, lead("nl-3", identifiers=[{"kind": "phone", "value": NL_PHONE}]))
    events.wait(jit.id, TOKEN_REGISTERED)
    response = de.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": "de-case-7", "identifiers": [{"kind": "phone", "value": CANONICAL}]},
    )
    assert response.status_code == 201, response.text
    [hit_env] = events.wait(jit.id, HIT)
    assert hit_env.audience == {jit.nl, jit.de}
