"""The audit trail end to end: justification of reads, every kind of operation in the chained
log with its fields, security events, the auditor's search, and ``audit verify``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kit.identity import Issuer
from tests.integration.audit.conftest import PURPOSE, chain, records
from tests.integration.deconfliction.support import register_jit
from tests.support.api import Member, eventually, lead_body
from tests.support.platform import ROOT, Platform

pytestmark = pytest.mark.integration


def _jit() -> str:
    return f"jit-{uuid.uuid4().hex[:8]}"


def _readable(member: Member, jit: str, lead_id: str) -> dict[str, Any]:
    found: dict[str, Any] = eventually(
        lambda: (
            (r := member.http.get(f"/jits/{jit}/leads/{lead_id}", headers=PURPOSE)).status_code
            == 200
            and r.json().get("persons")
            and r.json()
        )
    )
    return found


def test_reading_personal_data_without_a_purpose_is_refused(
    audited: Platform, issuer: Issuer
) -> None:
    """No justification → 428 naming the missing header; with one → 200 and a consultation
    record with who, the ids read and the justification."""
    jit = _jit()
    nl = Member(audited.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    lead_id = nl.post(f"/jits/{jit}/leads", lead_body(f"k-{uuid.uuid4()}")).json()["lead_id"]
    lead = _readable(nl, jit, lead_id)
    person_id = lead["persons"][0]["id"]

    import httpx

    token_only = {"Authorization": nl.http.headers["Authorization"]}
    bare = httpx.get(f"{audited.base_url}/jits/{jit}/persons/{person_id}", headers=token_only)
    assert bare.status_code == 428, bare.text
    assert "X-Justification-Case" in bare.json()["error"]
    half = httpx.get(
        f"{audited.base_url}/jits/{jit}/search",
        params={"q": "Ion"},
        headers={**token_only, "X-Justification-Case": "C-1"},
    )
    assert half.status_code == 428
    assert "X-Justification-Reason" in half.json()["error"]
    assert "X-Justification-Case" not in half.json()["error"]
    by_query = httpx.get(
        f"{audited.base_url}/jits/{jit}/persons/{person_id}",
        params={"purpose_case": "C-9", "purpose_reason": "desk check"},
        headers=token_only,
    )
    assert by_query.status_code == 200, by_query.text

    found = records(
        audited,
        lambda r: r["jit"] == jit and r["kind"] == "consultation" and person_id in r["object_ids"],
    )
    assert found[0]["member"] == "anna"
    assert found[0]["team"] == "NL-KLPD"
    assert found[0]["justification"] == {"case": "C-9", "reason": "desk check"}
    assert found[0]["operation"] == "GET /jits/{jit}/persons/{person_id}"


def test_every_kind_of_operation_is_recorded_with_its_fields(
    audited: Platform, issuer: Issuer
) -> None:
    """Collection, alteration, consultation, disclosure and combination each appear with who,
    when, what (ids, not personal data), why and to whom."""
    jit = register_jit(audited, issuer)
    nl = jit.member(jit.nl, "anna")
    ro = jit.member(jit.ro, "ioana")
    body = lead_body(f"k-{uuid.uuid4()}")
    lead_id = nl.post(f"/jits/{jit.id}/leads", body).json()["lead_id"]
    phone = {k: v for k, v in body["identifiers"][0].items() if k != "person"}
    same_phone = lead_body(f"k-{uuid.uuid4()}", persons=[], identifiers=[phone])
    assert ro.post(f"/jits/{jit.id}/leads", same_phone).status_code == 201
    _readable(nl, jit.id, lead_id)
    triaged = nl.post(
        f"/jits/{jit.id}/leads/{lead_id}/triage", {"assignee": "anna", "priority": "urgent"}
    )
    assert triaged.status_code in (200, 201), triaged.text

    def of(kind: str) -> dict[str, Any]:
        return records(audited, lambda r: r["jit"] == jit.id and r["kind"] == kind)[0]

    collected = records(
        audited,
        lambda r: (
            r["jit"] == jit.id
            and r["kind"] == "collection"
            and r["operation"] == "interlock.lead.submitted"
            and lead_id in r["object_ids"]
        ),
    )[0]
    assert collected["member"] == f"anna-{jit.nl.lower()}" and collected["team"] == jit.nl
    assert collected["at"].endswith(("Z", "+00:00"))
    altered = of("alteration")
    assert altered["operation"] == "interlock.lead.triaged" and lead_id in altered["object_ids"]
    consulted = of("consultation")
    assert consulted["justification"] == {
        "case": PURPOSE["X-Justification-Case"],
        "reason": PURPOSE["X-Justification-Reason"],
    }
    disclosed = records(
        audited,
        lambda r: r["jit"] == jit.id and r["kind"] == "disclosure" and lead_id in r["object_ids"],
    )[0]
    assert disclosed["recipients"] == [jit.nl]
    combined = records(audited, lambda r: r["jit"] == jit.id and r["kind"] == "combination")[0]
    assert combined["operation"] == "interlock.deconfliction.hit_detected"
    assert set(combined["recipients"]) == {jit.nl, jit.ro}

    text = json.dumps([link.record for link in chain(audited) if link.record["jit"] == jit.id])
    for personal in ("Ion Popescu", "+40 721 555 123", "+40721555123", "passports"):
        assert personal not in text


def test_a_hundred_wrong_logins_make_a_hundred_audit_records(
    audited: Platform, issuer: Issuer
) -> None:
    """100 requests with bad tokens → 100 authentication records, no token in them, and the
    gateway still answers."""
    jit = _jit()
    tokens = [f"bad.{uuid.uuid4().hex}.token" for _ in range(100)]
    with httpx.Client(base_url=audited.base_url, timeout=10) as client:
        for token in tokens:
            r = client.get(f"/jits/{jit}/leads", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
        assert client.get("/health").status_code == 200
    found = records(
        audited,
        lambda r: r["jit"] == jit and r["kind"] == "authentication_failed",
        count=100,
    )
    assert len(found) == 100
    assert {r["reason"] for r in found} == {"malformed bearer token"}
    text = json.dumps(found)
    assert not any(t in text for t in tokens)


def test_refused_authorisation_and_token_misuse_are_recorded(
    audited: Platform, issuer: Issuer
) -> None:
    """A member outside the JIT → authorisation_refused; an expired token → token_misuse."""
    jit = _jit()
    outsider = Member(audited.base_url, issuer, member="eve", team="DE-BKA", jits=("elsewhere",))
    assert outsider.get(f"/jits/{jit}/leads").status_code == 403
    expired = issuer.issue(
        member="old", team="DE-BKA", jits=(jit,), roles=("investigator",), ttl_seconds=1
    )
    import time

    time.sleep(1 + audited.settings.oidc_leeway_seconds + 2)  # past expiry and the clock leeway
    late = httpx.get(
        f"{audited.base_url}/jits/{jit}/leads", headers={"Authorization": f"Bearer {expired}"}
    )
    assert late.status_code == 401
    refused = records(audited, lambda r: r["jit"] == jit and r["kind"] == "authorisation_refused")
    assert refused[0]["member"] == "eve" and refused[0]["team"] == "DE-BKA"
    misuse = records(audited, lambda r: r["jit"] == jit and r["kind"] == "token_misuse")
    assert "expired" in misuse[0]["reason"]


def test_only_an_auditor_of_the_jit_can_search_its_audit_log(
    audited: Platform, issuer: Issuer
) -> None:
    """An auditor gets the JIT's records filtered by member and kind; others get 403."""
    jit = _jit()
    nl = Member(audited.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    lead_id = nl.post(f"/jits/{jit}/leads", lead_body(f"k-{uuid.uuid4()}")).json()["lead_id"]
    _readable(nl, jit, lead_id)
    auditor = Member(
        audited.base_url, issuer, member="aud", team="NL-KLPD", jits=(jit,), roles=("auditor",)
    )
    other = Member(
        audited.base_url, issuer, member="aud2", team="NL-KLPD", jits=("x",), roles=("auditor",)
    )

    assert nl.get(f"/jits/{jit}/audit").status_code == 403
    assert other.get(f"/jits/{jit}/audit").status_code == 403
    answer = eventually(
        lambda: (
            (r := auditor.get(f"/jits/{jit}/audit", member="anna", kind="consultation"))
            .json()
            .get("count")
            and r.json()
        )
    )
    assert all(i["member"] == "anna" and i["kind"] == "consultation" for i in answer["items"])
    assert all(i["jit"] == jit for i in answer["items"])
    everything = auditor.get(f"/jits/{jit}/audit").json()
    assert {"collection", "consultation"} <= {i["kind"] for i in everything["items"]}
    assert auditor.get(f"/jits/{jit}/audit", kind="nonsense").status_code == 422


def _cli(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "audit", *args],
        env=platform.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_verify_catches_altered_removed_and_reordered_records(
    audited: Platform, issuer: Issuer, tmp_path: Path
) -> None:
    """The live chain verifies; an exported copy with an altered, a removed or a reordered
    record fails, naming the sequence number and what is wrong."""
    records(audited, lambda _: True, count=5)
    live = _cli(audited, "verify")
    assert live.returncode == 0, live.stdout + live.stderr
    assert "intact" in live.stdout
    exported = tmp_path / "chain.jsonl"
    assert _cli(audited, "export", str(exported)).returncode == 0
    lines = exported.read_text().splitlines()
    assert len(lines) >= 5
    assert _cli(audited, "verify", "--from-file", str(exported)).returncode == 0

    altered = list(lines)
    link = json.loads(altered[2])
    link["record"]["member"] = "mallory"
    altered[2] = json.dumps(link)
    removed = lines[:3] + lines[4:]
    reordered = [*lines[:1], lines[2], lines[1], *lines[3:]]
    for name, tampered, expected in (
        ("altered", altered, "sequence 2): altered"),
        ("removed", removed, "sequence 4): removed: sequence 3 missing"),
        ("reordered", reordered, "sequence 1): reordered"),
    ):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(tampered) + "\n")
        result = _cli(audited, "verify", "--from-file", str(path))
        assert result.returncode == 1, (name, result.stdout)
        assert expected in result.stdout, (name, result.stdout)
