"""Journeys a police officer finishes without help (issue 21): errors in plain words at the
field, and the alert desk (rules shown, who is paged next, raise, acknowledge by name, resolve,
titles instead of ids), each run by members of two teams in Debian's Chromium."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.support import LIVE, PURPOSE
from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

expect: Any
try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - playwright is a dev dependency
    expect = None


def test_a_bad_phone_is_said_once_in_plain_words_next_to_it(
    open_as: Callable[..., Any], jit: str
) -> None:
    """A Bucharest investigator types a short phone: the form says once, beside the value, that
    it is not a Romanian number and how to write it; no field path, no "Value error"."""
    page = open_as("ioana", "RO-DIICOT")
    page.goto(f"/ui/jits/{jit}/leads/new")
    page.get_by_label("Summary").fill("Recruiter's phone from a hotline call")
    page.locator(".person-row").first.get_by_role("button", name="Remove this person").click()
    phone = page.locator(".ident-row").first
    phone.get_by_label("Country").fill("RO")
    phone.get_by_label("Value").fill("0721 55")
    expect(phone.locator(".check")).to_contain_text("Not a valid phone number for Romania (RO)")

    page.get_by_role("button", name="Submit lead").click()
    result = page.locator("[data-result]")
    expect(result).to_have_text("The lead was not submitted: correct the field marked below.")
    expect(phone.get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator('.field-error[data-error-for$=".value"]')).to_have_text(
        "Not a valid phone number for Romania (RO): check the digits, or write it with its "
        "country code (+40 …)."
    )
    text = page.locator("main").inner_text()
    assert text.count("Not a valid phone number") == 1, text
    assert "body." not in text and "Value error" not in text
    assert "invalid request" not in text

    phone.get_by_label("Value").fill("+40 721 555 123")
    expect(phone.get_by_label("Value")).not_to_have_attribute("aria-invalid", "true")
    expect(phone.locator(".check")).to_contain_text("+40721555123")
    page.get_by_role("button", name="Submit lead").click()
    expect(result).to_contain_text("Lead submitted", timeout=LIVE)


def test_desk_shows_rules_next_desk_titles_and_names_the_acknowledging_officer(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """Amsterdam's desk reads the escalation rules, sees to whom an alert escalates and the
    linked lead's title (not its id); a Bucharest investigator raises the alert from the UI;
    the Amsterdam officer acknowledges it (named, not only the team), then resolves it; the
    raise's ``url`` answers GET."""
    nl_api = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    lead_summary = f"Van seen at the Venlo border crossing ({uuid.uuid4().hex[:6]})"
    submitted = nl_api.post(
        f"/jits/{jit}/leads",
        lead_body(f"k-{uuid.uuid4()}", summary=lead_summary, releasable_to=["RO-DIICOT"]),
    )
    assert submitted.status_code in (201, 202), submitted.text
    lead_id = submitted.json()["lead_id"]

    desk = open_as("joost", "NL-KLPD", roles=("desk_officer",))
    desk.goto(f"/ui/jits/{jit}/desk")
    rules = desk.get_by_test_id("escalation-rules")
    expect(rules).to_contain_text("P1")
    expect(rules).to_contain_text("5 min")
    expect(rules).to_contain_text("the desk of the JIT's coordinator team")
    expect(rules).to_contain_text("until someone acknowledges")
    expect(desk.locator("#live-state")).to_have_text("live", timeout=LIVE)

    ro_api = Member(platform.base_url, issuer, member="ioana", team="RO-DIICOT", jits=(jit,))
    summary = f"Suspect's van heading for the border ({uuid.uuid4().hex[:6]})"
    raised = ro_api.post(
        f"/jits/{jit}/alerts",
        {
            "severity": "P2",
            "category": "suspect_movement",
            "target_teams": ["NL-KLPD"],
            "summary": summary,
            "links": [{"kind": "lead", "id": lead_id}],
        },
    )
    assert raised.status_code in (201, 202), raised.text
    url = raised.json()["url"]
    fetched = eventually(lambda: _found(ro_api.get(url, **PURPOSE)), timeout=30)
    assert fetched["summary"] == summary
    assert fetched["state"] in {"raised", "open"}

    alert = desk.locator("li.alert", has_text=summary)
    expect(alert).to_be_visible(timeout=LIVE)
    desk.reload()
    alert = desk.locator("li.alert", has_text=summary)
    expect(alert.locator(".countdown")).to_contain_text(
        re.compile(r"escalates to your team lead joost\.bakker in \d+:\d\d"), timeout=LIVE
    )
    expect(alert.locator(".link-chip")).to_contain_text(lead_summary[:40])
    expect(alert.locator(".link-chip")).not_to_contain_text(lead_id)

    alert.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(alert.get_by_test_id("alert-status")).to_contain_text(
        "acknowledged by joost (NL-KLPD)", timeout=LIVE
    )
    alert = desk.locator("li.alert", has_text=summary)
    alert.locator("summary", has_text="Resolve").click()
    alert.get_by_label("Why is it resolved?").fill("Van stopped by the Dutch border police")
    alert.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(
        desk.locator("li.alert", has_text=summary).get_by_test_id("alert-status")
    ).to_contain_text("resolved by joost (NL-KLPD)", timeout=LIVE)
    after = eventually(lambda: _found(ro_api.get(url, **PURPOSE), state="resolved"), timeout=30)
    assert after["resolved_by"] == "joost"


def test_raise_an_alert_from_the_desk_pages_the_other_team(
    open_as: Callable[..., Any], jit: str
) -> None:
    """A Bucharest investigator raises a P2 for Amsterdam from the desk page's form (a missing
    summary is named at the field first); it appears on Amsterdam's open desk."""
    nl = open_as("joost", "NL-KLPD", roles=("desk_officer",))
    nl.goto(f"/ui/jits/{jit}/desk")
    expect(nl.locator("#live-state")).to_have_text("live", timeout=LIVE)

    ro = open_as("ioana", "RO-DIICOT", roles=("investigator",))
    ro.goto(f"/ui/jits/{jit}/desk")
    form = ro.get_by_test_id("raise-alert")
    form.get_by_label("Desks to page (team codes)").fill("NL-KLPD")
    form.get_by_role("button", name="Raise the alert").click()
    expect(form.locator('[data-error-for="summary"]')).to_have_text("Fill this in.")
    summary = f"Victim called from a Rotterdam number ({uuid.uuid4().hex[:6]})"
    form.get_by_label("What is happening (no personal data)").fill(summary)
    form.get_by_role("button", name="Raise the alert").click()
    expect(form.locator("[data-result]")).to_contain_text("Alert raised", timeout=LIVE)

    expect(nl.locator("li.alert", has_text=summary)).to_be_visible(timeout=LIVE)


def test_the_coordinator_sets_a_desks_escalation_times_and_alerts_follow_them(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """The JIT coordinator (Amsterdam) gives Bucharest's desk a 2-minute P1 step in the UI;
    Bucharest's desk shows the setting, a P1 to it must be acknowledged within 2 minutes, and a
    Bucharest desk officer may not change the times (403)."""
    coordinator = open_as("mila", "NL-KLPD", roles=("coordinator", "desk_officer"))
    coordinator.goto(f"/ui/jits/{jit}/desk")
    expect(coordinator.get_by_test_id("no-overrides")).to_be_visible()
    panel = coordinator.get_by_test_id("set-escalation")
    panel.locator("summary").click()
    panel.get_by_label("For").fill("RO-DIICOT")
    panel.get_by_label("P1 step, minutes").fill("0")
    panel.get_by_role("button", name="Set the times").click()
    expect(panel.locator('[data-error-for="times.p1_seconds"]')).to_have_text(
        "Enter a number more than 0."
    )
    panel.get_by_label("P1 step, minutes").fill("2")
    panel.get_by_label("Page again every, minutes").fill("1")
    panel.get_by_role("button", name="Set the times").click()
    expect(panel.locator("[data-result]")).to_contain_text("Escalation times set", timeout=LIVE)

    ro_desk = open_as("radu", "RO-DIICOT", roles=("desk_officer",))
    ro_desk.goto(f"/ui/jits/{jit}/desk")
    row = ro_desk.get_by_test_id("escalation-overrides").locator("tr", has_text="RO-DIICOT desk")
    expect(row).to_contain_text("2 min")
    expect(row).to_contain_text("1 min")
    expect(row).to_contain_text("mila")
    expect(ro_desk.get_by_test_id("set-escalation")).to_have_count(0)

    ro_api = Member(
        platform.base_url, issuer, member="radu", team="RO-DIICOT", jits=(jit,),
        roles=("desk_officer",),
    )  # fmt: skip
    refused = ro_api.http.put(
        f"/jits/{jit}/escalation",
        json={"team": "RO-DIICOT", "times": {
            "p1_seconds": 1, "p2_seconds": 1, "p3_seconds": 1, "repage_seconds": 1}},
    )  # fmt: skip
    assert refused.status_code == 403, refused.text
    raised = ro_api.post(
        f"/jits/{jit}/alerts",
        {
            "severity": "P1",
            "category": "officer_safety",
            "target_teams": ["RO-DIICOT"],
            "summary": f"Officer alone at a safe house ({uuid.uuid4().hex[:6]})",
        },
    )
    assert raised.status_code in (201, 202), raised.text
    alert = eventually(lambda: _found(ro_api.get(raised.json()["url"], **PURPOSE)), timeout=30)
    granted = datetime.fromisoformat(alert["acknowledge_by"]) - datetime.fromisoformat(
        alert["raised_at"]
    )
    assert granted == timedelta(minutes=2)


def _found(response: Any, state: str | None = None) -> dict[str, Any] | None:
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    if state is not None and body.get("state") != state:
        return None
    return body


def test_bucharest_and_amsterdam_plan_in_their_own_zones_and_see_one_conflict(
    open_as: Callable[..., Any], jit: str
) -> None:
    """A Bucharest and an Amsterdam member each type the same moment in their own zone (06:00
    EET is 05:00 CET); the server stores one UTC time, both see the conflict, and each reads the
    operation in their zone with the same UTC time beside it."""
    moment = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)

    def plan(page: Any, zone: str, lat: str, lon: str) -> None:
        page.goto(f"/ui/jits/{jit}/operations")
        expect(page.get_by_label("Time zone")).to_have_value(zone)
        wall = moment.astimezone(ZoneInfo(zone))
        page.get_by_label("Kind").select_option("search")
        page.get_by_label("Latitude").fill(lat)
        page.get_by_label("Longitude").fill(lon)
        page.get_by_label("Radius (m)").fill("300")
        page.get_by_label("Starts").fill(wall.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Ends").fill((wall + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Plan operation").click()
        expect(page.locator("#plan-form [data-result]")).to_contain_text(
            "Operation planned", timeout=LIVE
        )

    ro = open_as("ioana", "RO-DIICOT")
    plan(ro, "Europe/Bucharest", "51.3704", "6.1724")
    nl = open_as("anna", "NL-KLPD")
    plan(nl, "Europe/Amsterdam", "51.3710", "6.1730")
    utc = f"({moment:%H:%M} UTC)"
    for page, zone in ((ro, "Europe/Bucharest"), (nl, "Europe/Amsterdam")):
        expect(page.get_by_test_id("conflicts")).to_contain_text(
            "Officer-safety conflict", timeout=LIVE
        )
        page.reload()
        local = moment.astimezone(ZoneInfo(zone))
        expect(page.locator("main")).to_contain_text(
            f"{local:%Y-%m-%d %H:%M} {local.tzname()} {utc}"
        )
