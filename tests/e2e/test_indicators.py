"""The indicators dashboard and the evaluation report in headless Chromium, on the scripted JIT
published through the real topics: the charts are drawn, each table and CSV holds the scripted
values, and the report printed to PDF by Chromium holds them too (read back with pdftotext).

With ``INTERLOCK_SCREENSHOTS=docs/screenshots`` the pictures and the PDF go there (committed);
otherwise to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.indicators.facts import fact_of
from services.indicators.store import clear_facts, read_facts
from services.kit.graphdb import async_driver
from tests.support.api import Member, eventually
from tests.support.indicators_script import NL, run_apart, scripted_jit
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DAYS = "start=2026-11-02&end=2026-11-15"
NOTE = "Desks acknowledged P1 alerts within minutes; the EIO to BE-FGP took two days."


async def _facts(platform: Platform, jit: str, clear: bool = False) -> set[str]:
    s = platform.settings
    driver = async_driver(s)
    try:
        if clear:
            await clear_facts(driver, [jit])
            return set()
        return {str(f["id"]) for f in await read_facts(driver, jit)}
    finally:
        await driver.close()


@pytest.fixture
def scripted(platform: Platform, jit: str) -> Any:
    """The scripted JIT's events on the platform's topics, counted by the indicators worker."""
    from services.kit.kafka import Publisher

    events = scripted_jit(jit)
    publisher = Publisher(platform.settings)
    try:
        publisher.publish(events)
    finally:
        publisher.close()
    wanted = {f["id"] for env in events if (f := fact_of(env)) is not None}
    eventually(lambda: wanted <= run_apart(_facts(platform, jit)), timeout=90, interval=0.5)
    yield jit
    run_apart(_facts(platform, jit, clear=True))


def folder_for(tmp_path: Path) -> Path:
    target = os.environ.get("INTERLOCK_SCREENSHOTS")
    folder = Path(target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dashboard_draws_every_chart_with_its_table_and_csv(
    open_as: Callable[..., Any], scripted: str, tmp_path: Path
) -> None:
    """A coordinator's dashboard draws each chart; the P1 row and its CSV hold 1.0/3.0 minutes."""
    jit = scripted
    page = open_as("anna", NL, roles=("coordinator", "investigator"))
    page.goto(f"/ui/jits/{jit}/indicators?{DAYS}")
    page.wait_for_selector("body[data-charts-drawn=true]")
    drawn = page.locator("canvas[data-drawn=true]").count()
    assert drawn == page.locator("canvas[data-chart]").count() == 7
    row = page.get_by_test_id("chart-ack-priority").locator("tbody tr").first
    label, *figures = row.inner_text().split()
    assert label == "P1" and [float(f) for f in figures] == [3, 1.0, 3.0, 3.0]
    weekly = page.get_by_test_id("chart-weekly").locator("tbody tr").first.inner_text().split()
    assert weekly == ["2026-W45", "6", "2", "4", "5", "3"]
    victims = page.get_by_test_id("figures-victims").inner_text()
    assert "< 5" in victims  # the aggregate's small victim cells are suppressed
    csv = page.request.get(f"/ui/jits/{jit}/indicators/ack-priority.csv?{DAYS}")
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    assert "P1,3,1.0,3.0,3.0" in csv.text()
    page.screenshot(path=str(folder_for(tmp_path) / "indicators.png"), full_page=True)


def test_evaluation_report_prints_to_a_pdf_with_the_figures(
    open_as: Callable[..., Any],
    platform: Platform,
    issuer: Any,
    scripted: str,
    tmp_path: Path,
) -> None:
    """The coordinator's assessment is stored (command → event → report); Chromium prints the
    report to PDF, and the PDF's text holds the alert, task and hit figures and the assessment."""
    if shutil.which("pdftotext") is None:
        message = "pdftotext not found: apt-get install poppler-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    jit = scripted
    coordinator = Member(
        platform.base_url, issuer, member="anna", team=NL, jits=(jit,), roles=("coordinator",)
    )
    body = {"from": "2026-11-02", "to": "2026-11-15", "text": NOTE}
    written = coordinator.http.put(f"/jits/{jit}/evaluation/notes/cooperation", json=body)
    assert written.status_code == 200, written.text
    investigator = Member(
        platform.base_url,
        issuer,
        member="ioana",
        team="RO-DIICOT",
        jits=(jit,),
        roles=("investigator",),
    )
    refused = investigator.http.put(f"/jits/{jit}/evaluation/notes/lessons", json=body)
    assert refused.status_code == 403
    eventually(
        lambda: coordinator.get(
            f"/jits/{jit}/evaluation/notes", **{"from": "2026-11-02", "to": "2026-11-15"}
        ).json()["items"]
    )
    page = open_as("anna", NL, roles=("coordinator", "investigator"))
    page.goto(f"/ui/jits/{jit}/evaluation?{DAYS}")
    assert NOTE in page.get_by_test_id("note-cooperation").inner_text()
    folder = folder_for(tmp_path)
    page.screenshot(path=str(folder / "evaluation-report.png"), full_page=True)
    pdf = folder / "evaluation-report.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "JIT evaluation report" in flat
    assert "7 (3 / 3 / 0 / 1)" in flat  # alerts raised (P1 / P2 / P3 / P4)
    assert "3.0 min / 15.0 min / 15.0 min (n = 5)" in flat  # time to acknowledge
    dense = flat.replace(" · ", "·")  # pdftotext keeps or drops the spaces around "·"
    assert "5·3·1·2" in dense  # tasks requested·accepted·declined·completed
    assert "2·2·1" in dense  # hits: target·operation·role
    assert "2.0 d / 2.0 d / 2.0 d (n = 1)" in flat  # the EIO's turnaround
    assert "Desks acknowledged P1 alerts within minutes" in flat
    assert "Write the assessment" not in flat  # the form is not printed
