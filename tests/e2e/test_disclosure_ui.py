"""The disclosure policy as a member meets it in the browser: the lead form offers the JIT's
teams only, and a victim named in a summary is redacted on another team's pages and exports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import TEAMS
from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_the_lead_form_offers_the_jits_teams_only(open_as: Callable[..., Any], jit: str) -> None:
    """Sharing is chosen among the JIT's other teams (checkboxes), never typed as free text."""
    page = open_as("anna", "NL-KLPD")
    page.goto(f"/ui/jits/{jit}/leads/new")
    offered = page.locator('input[type=checkbox][name="releasable_to"]')
    values = sorted(offered.evaluate_all("(boxes) => boxes.map((b) => b.value)"))
    assert values == sorted(t for t in TEAMS if t != "NL-KLPD")
    assert (
        page.locator(
            'input[type=text][name="releasable_to"], input:not([type])[name="releasable_to"]'
        ).count()
        == 0
    )


def test_a_victim_named_in_a_summary_is_redacted_for_another_team(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """RO reads NL's lead: the victim's name is her pseudonym on the page, in search and in the
    FtM export; NL still reads its own words."""
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    body = lead_body(
        f"e2e-victim-{uuid.uuid4()}",
        summary="One woman (Elena Marin) says she was recruited through an agency.",
        persons=[{"name": "Elena Marin", "role": "victim"}],
        identifiers=[],
        releasable_to=["RO-DIICOT"],
    )
    created = nl.post(f"/jits/{jit}/leads", body)
    assert created.status_code in (201, 202), created.text
    lead_id = created.json()["lead_id"]
    own = eventually(lambda: nl.get(f"/jits/{jit}/leads/{lead_id}?wait=2").json())
    assert "Elena Marin" in own["summary"]

    page = open_as("ioana", "RO-DIICOT")
    page.goto(f"/ui/jits/{jit}/leads/{lead_id}")
    text = page.locator("main").inner_text()
    assert "Marin" not in text
    assert "[victim V-" in text
    why = "purpose_case=e2e&purpose_reason=disclosure%20test"
    found = page.evaluate(
        """async ([jit, why]) => {
             const r = await fetch(`/jits/${jit}/leads?q=Marin&${why}`);
             return [r.status, await r.json()]; }""",
        [jit, why],
    )
    assert found[0] == 200, found
    assert not (found[1].get("items") if isinstance(found[1], dict) else found[1])
    export = page.evaluate(
        """async ([jit, why]) => {
             const r = await fetch(`/jits/${jit}/export.ftm?${why}`);
             return [r.status, await r.text()]; }""",
        [jit, why],
    )
    assert export[0] == 200, export
    assert "Marin" not in export[1]
    assert lead_id in export[1] or "Lead" in export[1]
