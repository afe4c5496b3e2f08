"""Screenshots of the main pages, with data seeded through the API, for the README.

Run with ``INTERLOCK_SCREENSHOTS=docs/screenshots`` to (re)write the committed pictures; without
it the pictures go to a temporary folder, so the test still proves every page renders.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import PURPOSE
from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PHONE = {"kind": "phone", "value": "+40 721 555 123", "person": 0}
IBAN = {"kind": "iban", "value": "RO49 AAAA 1B31 0075 9384 0000"}
LEADS: list[dict[str, Any]] = [
    {
        "source": "hotline",
        "reliability": "A",
        "summary": "Caller reports women kept in a flat above a nail bar; "
        "a man collects their earnings nightly.",
        "persons": [
            {"name": "Ion Popescu", "role": "suspect", "date_of_birth": "1984-03-02"},
        ],
        "identifiers": [PHONE, {**IBAN, "person": 0}],
    },
    {
        "source": "ngo",
        "summary": "NGO outreach: seasonal workers housed in containers at a greenhouse, "
        "passports held by the employer.",
        "persons": [{"name": "Vasile Ionescu", "role": "suspect"}],
        "identifiers": [
            PHONE,
            {"kind": "vehicle_plate", "value": "B 123 ABC", "country": "RO", "person": 0},
        ],
    },
    {
        "source": "osint",
        "reliability": "C",
        "credibility": "3",
        "summary": "Online advert offering 'escort services' with a recruiter's e-mail address.",
        "persons": [{"name": "Georgi Dimitrov", "role": "suspect"}],
        "identifiers": [{"kind": "email", "value": "recruiter.jobs@example.org", "person": 0}],
    },
    {
        "source": "border_screening",
        "credibility": "1",
        "summary": "Minor travelling with an unrelated adult; the adult holds her documents.",
        "persons": [{"name": "Maria Stoica", "role": "victim"}],
        "identifiers": [],
    },
    {
        "source": "financial_intelligence",
        "reliability": "A",
        "credibility": "3",
        "summary": "FIU report: many small transfers from several accounts to one IBAN.",
        "persons": [],
        "identifiers": [IBAN],
    },
]


def shots_dir(tmp_path: Path) -> Path:
    target = os.environ.get("INTERLOCK_SCREENSHOTS")
    folder = Path(target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_screenshots_of_the_main_pages(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str, tmp_path: Path
) -> None:
    """Every main page renders with realistic data; the pictures are saved for the README."""
    folder = shots_dir(tmp_path)
    nl = Member(platform.base_url, issuer, member="anna.devries", team="NL-KLPD", jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana.popa", team="RO-DIICOT", jits=(jit,))
    first = None
    for i, fields in enumerate(LEADS):
        body = lead_body(
            f"shot-{i}-{uuid.uuid4()}", **fields, releasable_to=["RO-DIICOT"] if i % 2 else []
        )
        created = nl.post(f"/jits/{jit}/leads", body)
        assert created.status_code == 201, created.text
        first = first or created.json()["lead_id"]
    lead = eventually(  # the lead's node may be projected a batch before its persons
        lambda: (
            (r := nl.get(f"/jits/{jit}/leads/{first}", **PURPOSE)).status_code == 200
            and r.json()["persons"]
            and r.json()
        ),
        timeout=90,
    )
    person = lead["persons"][0]["id"]
    for i, identifiers in enumerate(([PHONE], [IBAN])):
        held = ro.post(
            f"/jits/{jit}/leads",
            lead_body(
                f"shot-ro-{i}-{uuid.uuid4()}",
                source="partner_team",
                summary="RO case file: the same recruiter's phone and account.",
                persons=[{"name": "Ion Popescu", "role": "suspect"}] if i == 0 else [],
                identifiers=[{**x, "person": 0} if i == 0 else x for x in identifiers],
            ),
        )
        assert held.status_code == 201, held.text
    hits = eventually(
        lambda: len(items := nl.get(f"/jits/{jit}/hits").json()["items"]) >= 2 and items,
        timeout=120,
    )
    released = ro.post(
        f"/jits/{jit}/hits/{hits[-1]['id']}/release",
        {
            "contact_officer": "Insp. Ionescu, DIICOT Constanța",
            "note": "Our account holder is a suspect in case 1234/D/P/2026; call our desk first.",
        },
    )
    assert released.status_code == 201, released.text
    soon = datetime.now(UTC) + timedelta(days=2)
    for title, to_team in (
        ("Identify the holder of +40721555123", "RO-DIICOT"),
        ("Hear the greenhouse workers as witnesses", "NL-KLPD"),
        ("Freeze the account RO49…0000 (MLA)", "RO-DIICOT"),
    ):
        requester = nl if to_team == "RO-DIICOT" else ro
        requester.post(
            f"/jits/{jit}/tasks",
            {
                "to_team": to_team,
                "title": title,
                "description": "See the linked leads.",
                "priority": "high",
                "due_at": soon.isoformat(),
                "details": {"kind": "information_request"},
            },
        )
    for lat, lon, who in ((52.3702, 4.8952, nl), (52.3712, 4.8975, ro)):
        who.post(
            f"/jits/{jit}/operations",
            {
                "kind": "search",
                "place": {
                    "latitude": lat,
                    "longitude": lon,
                    "radius_m": 400,
                    "starts_at": soon.isoformat(),
                    "ends_at": (soon + timedelta(hours=4)).isoformat(),
                },
            },
        )

    page = open_as("anna.devries", "NL-KLPD", roles=("investigator", "coordinator"))
    waiting = ro.post(
        f"/jits/{jit}/alerts",
        {
            "severity": "P3",
            "category": "suspect_movement",
            "target_teams": ["NL-KLPD"],
            "summary": "Van B 123 ABC seen on the A2 towards Utrecht (ANPR).",
        },
    )
    assert waiting.status_code == 201, waiting.text
    desk = open_as("joost.bakker", "NL-KLPD", roles=("desk_officer", "team_lead"))
    desk.goto(f"/ui/jits/{jit}/desk")
    desk.locator('#live-state[data-state="live"]').wait_for(timeout=60_000)
    for severity, category, summary in (
        ("P2", "victim_at_risk", "Victim referral: shelter place needed tonight in Rotterdam."),
        (
            "P1",
            "officer_safety",
            "Armed suspect expected at the nail bar during tomorrow's search.",
        ),
    ):
        ro.post(
            f"/jits/{jit}/alerts",
            {
                "severity": severity,
                "category": category,
                "target_teams": ["NL-KLPD"],
                "summary": summary,
            },
        )
    desk.locator("li.alert").nth(2).wait_for(timeout=60_000)
    desk.wait_for_timeout(1500)
    desk.screenshot(path=str(folder / "alert-desk.png"), full_page=True)

    pages = {
        "dashboard": f"/ui/jits/{jit}",
        "leads": f"/ui/jits/{jit}/leads",
        "lead-form": f"/ui/jits/{jit}/leads/new",
        "lead": f"/ui/jits/{jit}/leads/{first}",
        "tasks": f"/ui/jits/{jit}/tasks",
        "operations": f"/ui/jits/{jit}/operations",
        "hits": f"/ui/jits/{jit}/hits",
        "person": f"/ui/jits/{jit}/persons/{person}",
        "graph": f"/ui/jits/{jit}/graph?focus={person}",
        "timeline": f"/ui/jits/{jit}/timeline",
    }
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if name == "lead-form":
            page.get_by_label("Summary").fill(
                "Taxi driver reports passengers dropped daily at a farm."
            )
            row = page.locator(".ident-row").first
            row.get_by_label("Value").fill("0721 555 123")
            row.get_by_label("Country").fill("RO")
            page.locator(".check").first.get_by_text("+40721555123").wait_for()
        if name == "graph":
            page.locator("#graph-nodes button").nth(1).wait_for()
            page.locator("#graph-nodes button", has_text="phone").first.click()
            page.wait_for_timeout(1500)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    anonymous = page.context.browser.new_context(base_url=platform.base_url)
    try:
        start = anonymous.new_page()
        start.goto("/ui/login")
        start.screenshot(path=str(folder / "login.png"), full_page=True)
    finally:
        anonymous.close()
    assert {p.name for p in folder.glob("*.png")} >= {f"{n}.png" for n in pages}
