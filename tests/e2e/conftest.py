"""Fixtures for the web UI's end-to-end tests: the platform (every process role there is) with the
demo log-in switched on, Debian's Chromium driven by Playwright, and a fresh JIT per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.platform import Platform

CHROMIUM = os.environ.get("INTERLOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEAMS = ("NL-KLPD", "RO-DIICOT", "BG-GDBOP", "DE-BKA")


@pytest.fixture
def jit(platform: Platform) -> str:
    """A JIT of its own for one test, registered in the directory with the four demo teams."""
    from events.directory import JitRegistered
    from services.admin import jit_record, publish

    jit_id = f"jit-{uuid.uuid4().hex[:8]}"
    publish(
        platform.settings,
        [
            jit_record(
                JitRegistered(
                    jit_id=jit_id,
                    name=f"E2E {jit_id}",
                    legal_basis="JIT agreement for the end-to-end tests",
                    coordinator_team="NL-KLPD",
                    member_teams=TEAMS,
                    starts_on=date(2026, 1, 1),
                )
            )
        ],
    )
    return jit_id


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_as(
    browser: Any, platform: Platform, issuer: Any, jit: str
) -> Iterator[Callable[..., Any]]:
    """Open a browser page signed in (through the token form) as a member of a team in the JIT."""
    contexts: list[Any] = []

    def open_page(
        member: str,
        team: str,
        roles: tuple[str, ...] = ("investigator", "desk_officer"),
        purpose: bool = True,
        landing: str | None = None,
    ) -> Any:
        """``landing``: the page to land on after the log-in and the purpose form (the JIT's
        dashboard unless given; a lighter page saves a loaded machine two dashboards)."""
        target = landing or f"/ui/jits/{jit}"
        context = browser.new_context(
            base_url=platform.base_url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        token = issuer.issue(member=member, team=team, jits=[jit], roles=roles)
        # the session cookie as the log-in form sets it (the form itself is tested on its own,
        # tests/e2e/test_web_ui.py): two page loads fewer for each of some 45 pages opened
        context.add_cookies(
            [
                {
                    "name": "interlock_token",
                    "value": token,
                    "url": platform.base_url,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )
        if not purpose:
            page.goto(target)
            _arrive(page, target, "with the session cookie")
        else:
            page.goto(f"/ui/purpose?next={quote(target)}")
            page.get_by_label("Case reference").fill(f"{jit}/e2e")
            page.get_by_label("Reason").fill("end-to-end test of the web UI")
            page.get_by_role("button", name="Use this purpose").click()
            _arrive(page, target, "after the purpose form")
        return page

    yield open_page
    for context in contexts:
        context.close()


def _arrive(page: Any, target: str, when: str) -> None:
    """Wait for ``target``; on a timeout, say where the browser is instead and what it shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(f"**{target}")
    except PlaywrightTimeout:
        try:
            shown = page.inner_text("body", timeout=2_000)[:400]
        except PlaywrightTimeout:
            shown = "(the page has no body yet)"
        pytest.fail(f"{when}: expected {target}, the browser is at {page.url}: {shown!r}")
