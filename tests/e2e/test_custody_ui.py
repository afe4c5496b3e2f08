"""The custody acts and the message acts in the browser: custody transferred to a named member
who acknowledges it, an H2 download requested and granted, a seal refusing the download until it
is broken, and a message edited and deleted while the partner watches its thread live."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import LIVE, PURPOSE
from tests.integration.evidence.support import upload
from tests.support.api import Member, eventually, lead_body
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

expect: Any
try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - playwright is a dev dependency
    expect = None

NL, RO = "NL-KLPD", "RO-DIICOT"


def members(platform: Platform, issuer: Any, jit: str) -> tuple[Member, Member]:
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    return nl, ro


def evidence(nl: Member, jit: str, content: bytes, **declared: Any) -> str:
    """An item of NL released to RO, uploaded through the API; its page's path."""
    done = upload(nl, jit, content, filename="exhibit.txt", releasable_to=[RO], **declared)
    assert done.status_code == 201, done.text
    return f"/ui/jits/{jit}/evidence/{done.json()['evidence_id']}"


def acts(page: Any) -> list[str]:
    """The custody timeline's acts but the views (each page load records one)."""
    shown = page.locator("[data-testid=custody] [data-act]").evaluate_all(
        "items => items.map(i => i.dataset.act)"
    )
    return [str(a) for a in shown if a != "viewed"]


def test_custody_is_transferred_and_the_named_member_acknowledges_receipt(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """NL transfers custody to ioana of RO from the item's page: it awaits her acknowledgement;
    on her page she acknowledges receipt, and RO is the custodian in both timelines."""
    nl, _ = members(platform, issuer, jit)
    path = evidence(nl, jit, b"tower dump\n" * 200)
    anna = open_as("anna", NL, landing=path)
    anna.get_by_label("To team").select_option(RO)
    anna.get_by_label("To member (who acknowledges receipt)").fill("ioana")
    anna.get_by_role("button", name="Transfer custody").click()
    expect(anna.get_by_test_id("pending-transfer")).to_contain_text(
        "ioana (RO-DIICOT)", timeout=LIVE
    )
    expect(anna.get_by_role("button", name="Acknowledge receipt")).to_have_count(0)

    ioana = open_as("ioana", RO, landing=path)
    expect(ioana.get_by_test_id("pending-transfer")).to_be_visible()
    ioana.get_by_role("button", name="Acknowledge receipt").click()
    expect(ioana.get_by_test_id("custodian")).to_have_text(RO, timeout=LIVE)
    assert acts(ioana)[-2:] == ["transferred", "receipt_acknowledged"]
    expect(ioana.get_by_role("button", name="Seal")).to_be_visible()  # the custodian's act now
    anna.reload()
    expect(anna.get_by_test_id("custodian")).to_have_text(RO)
    expect(anna.get_by_role("button", name="Seal")).to_have_count(0)


def test_h2_download_is_requested_granted_then_downloaded(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """RO sees no download of an H2 item, asks for one; NL grants it from its page; RO then
    downloads the very bytes, and the custody shows request, grant and download."""
    nl, _ = members(platform, issuer, jit)
    content = b"witness statement\n" * 300
    path = evidence(nl, jit, content, handling="H2")
    ioana = open_as("ioana", RO, landing=path)
    expect(ioana.get_by_test_id("download")).to_have_count(0)
    ioana.get_by_role("button", name="Request download").click()
    expect(ioana.get_by_test_id("request-pending")).to_be_visible(timeout=LIVE)

    anna = open_as("anna", NL, landing=path)
    requests = anna.get_by_test_id("download-requests")
    expect(requests).to_contain_text(RO)
    anna.get_by_role("button", name=f"Grant {RO}").click()
    expect(anna.locator("[data-act=download_granted]")).to_be_visible(timeout=LIVE)

    ioana.reload()
    with ioana.expect_download() as fetched:
        ioana.get_by_test_id("download").click()
    got = fetched.value.path()
    assert got is not None and Path(got).read_bytes() == content
    ioana.reload()
    assert acts(ioana)[-3:] == ["download_requested", "download_granted", "downloaded"]


def test_a_seal_refuses_the_download_until_it_is_broken(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """NL seals its item with a reference: the page names the seal and offers no download, the
    download itself is 409 naming the seal; unsealed with a reason, the file downloads again."""
    nl, _ = members(platform, issuer, jit)
    content = b"phone image\n" * 300
    path = evidence(nl, jit, content)
    anna = open_as("anna", NL, landing=path)
    anna.get_by_label("Reason for the seal").fill("kept for the court")
    anna.get_by_label("Seal reference (optional)").fill("BAG-0042")
    anna.get_by_role("button", name="Seal").click()
    expect(anna.get_by_test_id("seal")).to_contain_text("BAG-0042", timeout=LIVE)
    expect(anna.get_by_test_id("seal")).to_contain_text("kept for the court")
    expect(anna.get_by_test_id("download")).to_have_count(0)
    expect(anna.get_by_test_id("download-sealed")).to_be_visible()
    query = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in PURPOSE.items())
    refused = anna.request.get(f"{path.removeprefix('/ui')}/content?{query}")
    assert refused.status == 409 and "BAG-0042" in refused.json()["error"]

    anna.get_by_label("Why the seal is broken").fill("opened for the expert examination")
    anna.get_by_role("button", name="Unseal").click()
    expect(anna.get_by_test_id("download")).to_be_visible(timeout=LIVE)
    expect(anna.get_by_test_id("seal")).to_have_count(0)
    with anna.expect_download() as fetched:
        anna.get_by_test_id("download").click()
    got = fetched.value.path()
    assert got is not None and Path(got).read_bytes() == content
    anna.reload()
    custody = anna.get_by_test_id("custody")
    expect(custody.locator("[data-act=sealed]")).to_contain_text("BAG-0042")
    expect(custody.locator("[data-act=unsealed]")).to_contain_text("expert examination")
    assert acts(anna)[-3:] == ["sealed", "unsealed", "downloaded"]


def test_a_message_is_edited_and_deleted_live_and_its_mention_listed(
    open_as: Callable[..., Any], platform: Platform, issuer: Any, jit: str
) -> None:
    """NL's message mentions @ioana: it is in her mentions list and marked in the thread. With
    the thread open, she sees NL's edit arrive (marked edited, the earlier text in its history)
    and then its deletion (a tombstone with the reason), both made from NL's page."""
    nl, ro = members(platform, issuer, jit)
    made = nl.post(
        f"/jits/{jit}/leads", lead_body(f"msg-{uuid.uuid4().hex[:6]}", releasable_to=[RO])
    )
    assert made.status_code == 201, made.text
    lead_id = made.json()["lead_id"]
    assert eventually(lambda: ro.get(f"/jits/{jit}/leads/{lead_id}", **PURPOSE).status_code == 200)
    posted = nl.post(
        f"/jits/{jit}/threads/lead:{lead_id}/messages",
        {"text": "@ioana can you check the farm?", "thread_audience": [RO], "mentions": ["ioana"]},
    )
    assert posted.status_code == 201, posted.text
    message = f"[data-message='{posted.json()['message_id']}']"

    ioana = open_as("ioana", RO, landing=f"/ui/jits/{jit}/mentions")
    listed = ioana.get_by_test_id("mentions")
    expect(listed).to_contain_text("anna (NL-KLPD)")
    listed.get_by_role("link").first.click()
    theirs = ioana.locator(message)
    expect(theirs.locator("mark.mention.me")).to_have_text("@ioana")
    expect(theirs).to_contain_text("mentions you")
    expect(theirs.get_by_role("button", name="Save the edit")).to_have_count(0)

    anna = open_as("anna", NL, landing=f"/ui/jits/{jit}/leads/{lead_id}")
    mine = anna.locator(message)
    mine.get_by_text("Edit", exact=True).click()
    mine.get_by_label("New text").fill("@ioana can you check the farm and the van?")
    mine.get_by_role("button", name="Save the edit").click()
    expect(theirs.locator("p.text")).to_have_text(
        "@ioana can you check the farm and the van?", timeout=LIVE
    )
    expect(theirs).to_contain_text("edited")
    theirs.locator("details.history summary").click()
    expect(theirs.locator("details.history")).to_contain_text("@ioana can you check the farm?")

    mine = anna.locator(message)
    mine.get_by_text("Delete", exact=True).click()
    mine.get_by_label("Reason for deleting").fill("posted in the wrong thread")
    mine.get_by_role("button", name="Delete the message").click()
    expect(theirs.locator("[data-tombstone]")).to_have_text(
        "Deleted by anna: posted in the wrong thread", timeout=LIVE
    )
    expect(theirs.locator("p.text")).to_have_count(0)
    expect(anna.locator(message).locator("[data-tombstone]")).to_be_visible(timeout=LIVE)
