"""No team sees another team's identifiers or case details on the deconfliction topic unless that
team released them.

Three teams register overlapping and private identifiers and persons (through leads, the API and
a release), plan overlapping operations; then every event on the topic whose audience holds a
team is searched for every other team's secrets: raw and canonical values, tokens, lead ids and
source refs, names, dates of birth, summaries, operation centres and kinds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from events.deconfliction import (
    DeconflictionDetailsReleased,
    PersonRegistered,
    TokenRegistered,
)
from events.envelope import Envelope
from events.identifiers import Identifier

from .support import (
    CONFLICT,
    DECLINED,
    HIT,
    RELEASED,
    ROLE_CONFLICT,
    EventLog,
    Jit,
    lead,
    submit,
)

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


def _canonical(ident: dict[str, Any]) -> str:
    return Identifier.model_validate({k: v for k, v in ident.items() if k != "person"}).value


def _place(lat: float, lon: float, radius: float) -> dict[str, Any]:
    return {
        "latitude": lat,
        "longitude": lon,
        "radius_m": radius,
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=6)).isoformat(),
    }


def test_no_event_a_team_may_see_carries_another_teams_values_or_case_details(
    jit: Jit, events: EventLog
) -> None:
    """No event a team may see holds another team's values or case details unless released to it."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    secrets: dict[str, set[str]] = defaultdict(set)

    def remember(team: str, *values: str) -> None:
        secrets[team].update(v for v in values if v)

    nl_ids = [
        {"kind": "phone", "value": "+31 6 1234 5678"},
        {"kind": "email", "value": "Private.NL@Example.org"},
    ]
    nl_person = {"name": "Mihai Dinu", "role": "victim", "date_of_birth": "1979-06-15"}
    nl_lead = submit(
        nl,
        jit,
        lead(
            "nl-leak",
            summary="NL summary: shelter in Rotterdam",
            identifiers=nl_ids,
            persons=[nl_person],
        ),
    )
    remember(jit.nl, nl_lead, "NL summary: shelter in Rotterdam", "Mihai Dinu", "1979-06-15")
    for ident in nl_ids:
        remember(jit.nl, ident["value"], _canonical(ident))

    ro_ids = [
        {"kind": "phone", "value": "06-1234 5678", "country": "NL"},
        {"kind": "iban", "value": "RO49 AAAA 1B31 0075 9384 0000"},
    ]
    ro_lead = submit(
        ro,
        jit,
        lead(
            "ro-leak",
            summary="RO summary: Constanta port",
            identifiers=ro_ids,
            persons=[{**nl_person, "role": "suspect"}],
        ),
    )
    ro_document = {"kind": "document", "value": "RO 998877665", "country": "RO"}
    registered = ro.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": "ro-secret-ref-77", "identifiers": [ro_document]},
    )
    assert registered.status_code == 201, registered.text
    remember(jit.ro, ro_lead, "RO summary: Constanta port", "ro-secret-ref-77")
    remember(jit.ro, "Mihai Dinu", "1979-06-15")
    for ident in [*ro_ids, ro_document]:
        remember(jit.ro, ident["value"], _canonical(ident))

    de_ids = [
        {"kind": "iban", "value": "ro49aaaa1b31007593840000"},
        {"kind": "handle", "value": "telegram:@de_private_handle"},
    ]
    registered = de.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": "de-secret-ref-5", "identifiers": de_ids},
    )
    assert registered.status_code == 201, registered.text
    remember(jit.de, "de-secret-ref-5")
    for ident in de_ids:
        remember(jit.de, ident["value"], _canonical(ident))

    nl_op = nl.post(
        f"/jits/{jit.id}/operations", {"kind": "search", "place": _place(51.9244, 4.4777, 800)}
    )
    ro_op = ro.post(
        f"/jits/{jit.id}/operations",
        {"kind": "victim_rescue", "place": _place(51.9301, 4.4777, 700)},
    )
    assert nl_op.status_code == ro_op.status_code == 201
    remember(jit.nl, "51.9244", "search")
    remember(jit.ro, "51.9301", "victim_rescue")

    hits = events.wait(jit.id, HIT, count=3, timeout=30)
    assert len(hits) == 3  # NL-RO phone, NL-RO person, RO-DE IBAN
    events.wait(jit.id, ROLE_CONFLICT)
    events.wait(jit.id, CONFLICT)
    phone_hit = next(h.data.hit_id for h in hits if h.data.kind == "phone")
    released = ro.post(
        f"/jits/{jit.id}/hits/{phone_hit}/release",
        {"source_ref": ro_lead, "note": "RO case DIICOT-2231: call Insp. Ionescu"},
    )
    assert released.status_code == 201, released.text
    assert (
        nl.post(f"/jits/{jit.id}/hits/{phone_hit}/decline", {"reason": "NL covert"}).status_code
        == 201
    )
    events.wait(jit.id, RELEASED)
    events.wait(jit.id, DECLINED)
    release_note = "RO case DIICOT-2231: call Insp. Ionescu"
    remember(jit.ro, release_note)

    for env in events.events(jit.id):
        if isinstance(env.data, TokenRegistered):
            remember(env.data.team, env.data.token)
        elif isinstance(env.data, PersonRegistered):
            remember(env.data.team, env.data.block_token, env.data.person_token, env.data.clk)

    all_records = _every_record(events)
    checked = 0
    for team in jit.teams:
        visible = [e for e in all_records if team in e.audience]
        assert visible, f"{team} sees nothing"
        for env in visible:
            wire = env.model_dump_json(by_alias=True)
            for owner, values in secrets.items():
                if owner == team:
                    continue
                allowed = _released_to(env, team, owner)
                for value in values - allowed - secrets[team]:
                    checked += 1
                    assert value not in wire, (
                        f"{team} sees {owner}'s {value!r} in {env.type} {env.id}"
                    )
    assert checked > 100
    nl_view = [e for e in all_records if jit.nl in e.audience and e.type == RELEASED]
    assert any(ro_lead in e.model_dump_json() for e in nl_view)
    assert not any(e.type == RELEASED for e in all_records if jit.de in e.audience)


def _released_to(env: Envelope, team: str, owner: str) -> set[str]:
    """What ``owner`` released to ``team`` in this very event."""
    data = env.data
    if (
        isinstance(data, DeconflictionDetailsReleased)
        and data.by_team == owner
        and data.to_team == team
    ):
        details = data.details
        return {v for v in (details.source_ref, details.note, details.summary_ref) if v}
    return set()


def _every_record(events: EventLog) -> list[Envelope]:
    """Every record on the topic, of any JIT (a team must not see a leak from anywhere)."""
    return events.all_records()
