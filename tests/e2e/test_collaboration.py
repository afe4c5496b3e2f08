"""The JIT collaboration space in the browser: evidence uploaded from a lead's page, shared,
downloaded and its custody shown; a message arriving live in a thread; a task's page telling the
receiving team what it is asked to do."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

NL, RO = "NL-KLPD", "RO-DIICOT"


def shared_lead(platform: Platform, issuer: Any, jit: str) -> tuple[Member, Member, str]:
    """A lead of NL released to RO, visible to both through the API."""
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    made = nl.post(
        f"/jits/{jit}/leads", lead_body(f"collab-{uuid.uuid4().hex[:6]}", releasable_to=[RO])
    )
    assert made.status_code == 201, made.text
    lead_id = made.json()["lead_id"]
    assert eventually(lambda: ro.get(f"/jits/{jit}/leads/{lead_id}", **PURPOSE).status_code == 200)
    return nl, ro, lead_id


def test_upload_share_download_and_custody_in_the_browser(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """From the lead's page NL uploads a file (progress to 100 %), opens the evidence page, shares
    it with BG, downloads it (the same bytes) and reads each act in the custody timeline."""
    _, _, lead_id = shared_lead(platform, issuer, jit)
    page = open_as("anna", NL)
    page.goto(f"/ui/jits/{jit}/leads/{lead_id}")
    content = b"%PDF-1.4\n" + b"exhibit " * 4000
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    page.get_by_label("Description").fill("Witness statement, page 1")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("form[data-upload] [data-result]")).to_contain_text(
        "Uploaded statement.pdf", timeout=LIVE
    )
    expect(page.locator("form[data-upload] progress")).to_have_attribute("value", "100")
    page.get_by_role("link", name="Open the evidence").click()
    expect(page.get_by_role("heading", name="statement.pdf")).to_be_visible()
    expect(page.get_by_test_id("marking")).to_contain_text("TLP:AMBER")
    expect(page.get_by_text("application/pdf")).to_be_visible()

    page.get_by_label("Share with (team codes)").fill("BG-GDBOP")
    page.get_by_role("button", name="Share").click()
    expect(page.locator("[data-act=shared]")).to_be_visible(timeout=LIVE)

    with page.expect_download() as fetched:
        page.get_by_test_id("download").click()
    path = fetched.value.path()
    assert path is not None and Path(path).read_bytes() == content
    page.reload()
    custody = page.get_by_test_id("custody")
    for act in ("registered", "viewed", "shared", "downloaded"):
        expect(custody.locator(f"[data-act={act}]").first).to_be_visible()
    expect(custody).to_contain_text("end-to-end test of the web UI")


def test_a_message_arrives_live_in_the_partners_thread(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """RO has the lead's page open; a message NL posts in the lead's thread appears there without
    a reload, with its marking; RO's answer posted from the page is in NL's thread."""
    nl, _, lead_id = shared_lead(platform, issuer, jit)
    url = f"/jits/{jit}/threads/lead:{lead_id}"
    first = nl.post(f"{url}/messages", {"text": "Who takes the farm?", "thread_audience": [RO]})
    assert first.status_code == 201, first.text
    page = open_as("ioana", RO)
    page.goto(f"/ui/jits/{jit}/leads/{lead_id}")
    messages = page.locator("[data-messages]")
    expect(messages).to_contain_text("Who takes the farm?")
    later = nl.post(f"{url}/messages", {"text": "Search planned for Tuesday", "tlp": "GREEN"})
    assert later.status_code == 201, later.text
    expect(messages).to_contain_text("Search planned for Tuesday", timeout=LIVE)
    expect(messages).to_contain_text("TLP:GREEN")

    page.get_by_label("Message", exact=True).fill("We take the farm")
    page.locator("form[data-command$='/messages'] button[type=submit]").click()
    expect(messages).to_contain_text("We take the farm", timeout=LIVE)
    texts = [m["text"] for m in nl.get(url, **PURPOSE).json()["messages"]]
    assert "We take the farm" in texts


def test_the_receiving_team_reads_its_task_and_its_thread(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """NL asks RO for a measure: RO's task page shows the description, legal basis and requested
    measure, and the comment NL made on the task in the task's thread."""
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    requested = nl.post(
        f"/jits/{jit}/tasks",
        {
            "to_team": RO,
            "title": "Subscriber of the phone",
            "description": "Identify the subscriber of the number in the lead.",
            "priority": "high",
            "details": {
                "kind": "legal_assistance",
                "legal_basis": "Art. 18 EIO Directive",
                "requested_measure": "Subscriber data of the number",
            },
        },
    )
    assert requested.status_code == 201, requested.text
    task_id = requested.json()["task_id"]
    comment = nl.post(f"/jits/{jit}/tasks/{task_id}/comments", {"text": "Urgent: court on Friday"})
    assert comment.status_code == 201, comment.text
    page = open_as("ioana", RO)

    def shown() -> bool:
        page.goto(f"/ui/jits/{jit}/tasks/{task_id}")
        return page.get_by_test_id("task-description").count() > 0

    assert eventually(shown, timeout=30)
    expect(page.get_by_test_id("task-description")).to_have_text(
        "Identify the subscriber of the number in the lead."
    )
    expect(page.locator("main")).to_contain_text("Art. 18 EIO Directive")
    expect(page.locator("main")).to_contain_text("Subscriber data of the number")
    expect(page.locator("[data-messages]")).to_contain_text("Urgent: court on Friday", timeout=LIVE)
    expect(page).to_have_url(re.compile(rf"/tasks/{task_id}$"))
