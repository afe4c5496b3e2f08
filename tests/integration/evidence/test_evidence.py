"""Evidence on the real platform: a resumable upload sealed and hashed on arrival, every custody
act recorded on Kafka and in the audit chain, H2 download permission, a signed package checked
offline, a hash break found by ``interlock evidence verify``, and erasure."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections import Counter
from pathlib import Path

import httpx
import pytest

from events.audit import AuditRecorded
from events.evidence import CustodyEvent
from events.topics import AUDIT, EVIDENCE_EVENTS
from services.evidence import package
from services.evidence.cli import verify_all
from services.evidence.store import FileBlobStore
from tests.integration.evidence.support import MIB, PNG, new_jit, upload
from tests.support.api import Member
from tests.support.kafka import read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NL, RO = "NL-KLPD", "RO-DIICOT"


def members(platform: Platform, issuer, jit: str) -> tuple[Member, Member]:
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    return nl, ro


def store(platform: Platform) -> FileBlobStore:
    return FileBlobStore(platform.env["INTERLOCK_EVIDENCE_DIR"])


def test_upload_is_hashed_sniffed_sealed_and_readable_back(platform: Platform, issuer) -> None:
    """A 3.5 MiB PNG sent in 1 MiB requests: 201 with its SHA-256/512, size and media type read
    from its bytes; the blob on disk is sealed (no plaintext), and the download gives it back."""
    jit = new_jit()
    nl, _ = members(platform, issuer, jit)
    content = PNG + os.urandom(3 * MIB + MIB // 2 - len(PNG))
    done = upload(nl, jit, content, chunk=MIB, filename="photo.dat", exhibit_ref="EXH-1")
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["sha512"] == hashlib.sha512(content).hexdigest()
    assert (body["size"], body["media_type"]) == (len(content), "image/png")

    item = nl.get(body["url"])
    assert item.status_code == 200, item.text
    blob = item.json()["sha256"]
    assert blob == body["sha256"]
    sealed_files = list(Path(platform.env["INTERLOCK_EVIDENCE_DIR"], "blobs").glob("*/*"))
    assert sealed_files
    assert not any(content[1000:1064] in f.read_bytes() for f in sealed_files)

    got = nl.http.get(f"{body['url']}/content")
    assert got.status_code == 200, got.text
    assert got.content == content
    assert got.headers["content-type"] == "image/png"


def test_an_upload_resumes_from_the_offset_it_is_told(platform: Platform, issuer) -> None:
    """A request cut inside a chunk keeps its whole chunks; a wrong offset is 409 with the right
    one; continuing from the told offset completes the file with the right hashes."""
    jit = new_jit()
    nl, ro = members(platform, issuer, jit)
    content = os.urandom(3 * MIB + 123)
    started = nl.post(f"/jits/{jit}/evidence/uploads", {"filename": "a.bin", "size": len(content)})
    assert started.status_code == 201, started.text
    url = started.json()["url"]
    first = nl.http.patch(url, content=content[: MIB + 500], headers={"Upload-Offset": "0"})
    assert first.status_code == 200, first.text
    assert first.json()["offset"] == MIB
    wrong = nl.http.patch(url, content=content[10:20], headers={"Upload-Offset": "10"})
    assert wrong.status_code == 409 and wrong.headers["Upload-Offset"] == str(MIB)
    assert ro.get(url).status_code == 404, "another member's upload is not told"
    status = nl.get(url)
    assert status.json()["offset"] == MIB
    rest = nl.http.patch(url, content=content[MIB:], headers={"Upload-Offset": str(MIB)})
    assert rest.status_code == 201, rest.text
    assert rest.json()["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_file_larger_than_the_jit_accepts_is_413(platform: Platform, issuer) -> None:
    """The per-JIT limit (1 MB for this JIT) refuses a larger declaration with 413, naming size."""
    jit = "jit-evidence-small"
    nl, _ = members(platform, issuer, jit)
    refused = nl.post(f"/jits/{jit}/evidence/uploads", {"filename": "big", "size": 1_000_001})
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["field"] == "body.size"
    fits = nl.post(f"/jits/{jit}/evidence/uploads", {"filename": "ok", "size": 1_000_000})
    assert fits.status_code == 201


def test_every_custody_act_is_an_event_and_an_audit_record(platform: Platform, issuer) -> None:
    """Register, view, share, download by the partner, transfer, acknowledge, export, erase: each
    is one event on the evidence topic with who, team, why and the hashes, and one audit record
    carrying the justification and the hashes; the custody view lists them in order."""
    jit = new_jit()
    nl, ro = members(platform, issuer, jit)
    content = b"cell tower data\n" * 1000
    done = upload(nl, jit, content, filename="cells.csv", description="tower dump")
    assert done.status_code == 201, done.text
    evidence_id = done.json()["evidence_id"]
    url = done.json()["url"]
    assert ro.get(url).status_code == 404, "not shared yet: the partner does not see it"

    assert nl.get(url).status_code == 200
    assert nl.post(f"{url}/share", {"teams": [RO]}).status_code == 200
    downloaded = ro.http.get(f"{url}/content")
    assert downloaded.status_code == 200 and downloaded.content == content
    transfer = nl.post(f"{url}/transfer", {"to_team": RO, "to_member": "ioana"})
    assert transfer.status_code == 200, transfer.text
    assert nl.post(f"{url}/acknowledge", {}).status_code == 403
    acknowledged = ro.post(f"{url}/acknowledge", {})
    assert acknowledged.status_code == 200 and acknowledged.json()["custodian"] == RO
    exported = nl.post(f"/jits/{jit}/evidence/packages", {"evidence_ids": [evidence_id]})
    assert exported.status_code == 200, exported.text
    assert nl.post(f"{url}/erase", {}).status_code == 200
    assert nl.http.get(f"{url}/content").status_code == 410

    custody = nl.get(f"{url}/custody").json()["custody"]
    acts = [line["act"] for line in custody]
    assert acts == [
        "registered",
        "viewed",
        "shared",
        "downloaded",
        "transferred",
        "receipt_acknowledged",
        "exported",
        "erased",
    ]
    sha256 = hashlib.sha256(content).hexdigest()
    for line in custody:
        assert line["sha256"] == sha256 and line["justification"]["case"] == "TEST-CASE"
    assert custody[3]["team"] == RO

    events = read_events(
        platform.settings,
        EVIDENCE_EVENTS,
        where=lambda e: e.subject == evidence_id,
        until=lambda found: len(found) >= 8,
    )
    assert len(events) == 8
    assert all(isinstance(e.data, CustodyEvent) and e.originator == NL for e in events)
    ids = {e.id for e in events}
    records = read_events(
        platform.settings,
        AUDIT,
        where=lambda e: (
            isinstance(e.data, AuditRecorded)
            and e.data.cause_id in ids
            and e.data.member is not None  # not the disclosures of the release to team feeds
        ),
        until=lambda found: len(found) >= 8,
        timeout=30,
    )
    assert len(records) == 8
    kinds = Counter(r.data.kind.value for r in records)
    assert kinds == {
        "collection": 1,
        "consultation": 2,
        "disclosure": 3,
        "alteration": 1,
        "erasure": 1,
    }
    for record in records:
        assert f"sha256:{sha256}" in record.data.object_ids
        assert record.data.justification is not None


def test_h2_evidence_needs_the_originators_permission(platform: Platform, issuer) -> None:
    """H2 evidence shared with a partner: its download is 403 until requested and granted; a
    denial keeps it 403; an export by the partner is refused before and after the grant (the
    disclosure policy: H2 leaves in no export but its originator's)."""
    jit = new_jit()
    nl, ro = members(platform, issuer, jit)
    done = upload(nl, jit, b"statement" * 100, handling="H2", releasable_to=[RO])
    assert done.status_code == 201, done.text
    url = done.json()["url"]
    evidence_id = done.json()["evidence_id"]
    assert ro.http.get(f"{url}/content").status_code == 403
    assert (
        ro.post(f"/jits/{jit}/evidence/packages", {"evidence_ids": [evidence_id]}).status_code
        == 403
    )
    requested = ro.post(f"{url}/download-requests", {})
    assert requested.status_code == 200 and requested.json()["download_requests"] == [RO]
    assert ro.post(f"{url}/download-requests/{RO}", {"grant": True}).status_code == 403
    denied = nl.post(f"{url}/download-requests/{RO}", {"grant": False})
    assert denied.status_code == 200
    assert ro.http.get(f"{url}/content").status_code == 403
    assert ro.post(f"{url}/download-requests", {}).status_code == 200
    assert nl.post(f"{url}/download-requests/{RO}", {"grant": True}).status_code == 200
    assert ro.http.get(f"{url}/content").status_code == 200
    refused = ro.post(f"/jits/{jit}/evidence/packages", {"evidence_ids": [evidence_id]})
    assert refused.status_code == 403 and evidence_id in refused.text


def test_a_custody_act_without_a_justification_is_428(platform: Platform, issuer) -> None:
    """Every act states its purpose: without the justification headers, 428 naming them."""
    jit = new_jit()
    nl, _ = members(platform, issuer, jit)
    done = upload(nl, jit, b"x" * 10)
    bare = httpx.get(
        platform.base_url + done.json()["url"],
        headers={"Authorization": nl.http.headers["Authorization"]},
    )
    assert bare.status_code == 428
    assert {e["field"] for e in bare.json()["errors"]} == {
        "header.X-Justification-Case",
        "header.X-Justification-Reason",
    }


def test_package_verifies_offline_and_a_changed_byte_is_caught(
    platform: Platform, issuer, tmp_path: Path
) -> None:
    """An exported package verifies against the published JWKS; one changed byte in a file, or
    in the manifest, makes verification fail and say where."""
    jit = new_jit()
    nl, _ = members(platform, issuer, jit)
    first = upload(nl, jit, b"first exhibit\n" * 50, filename="one.txt")
    second = upload(nl, jit, os.urandom(MIB + 7), filename="two.bin")
    ids = [first.json()["evidence_id"], second.json()["evidence_id"]]
    exported = nl.post(f"/jits/{jit}/evidence/packages", {"evidence_ids": ids})
    assert exported.status_code == 200, exported.text
    good = tmp_path / "package.zip"
    good.write_bytes(exported.content)
    jwks = httpx.get(platform.base_url + "/.well-known/jwks.json").json()
    keys = package.keys_from(jwks)
    assert package.verify(good, keys) == []
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read(package.MANIFEST))
    assert manifest["exported_by"] == "anna" and manifest["justification"]["case"] == "TEST-CASE"
    assert [i["evidence_id"] for i in manifest["items"]] == ids
    assert manifest["items"][0]["custody"][-1]["act"] == "exported"

    data = good.read_bytes()
    where = data.index(b"first exhibit")
    altered = tmp_path / "altered.zip"
    altered.write_bytes(data[:where] + b"F" + data[where + 1 :])
    problems = package.verify(altered, keys)
    assert problems and "one.txt" in problems[0]

    where = data.index(b'"exported_by"')
    broken = tmp_path / "broken.zip"
    broken.write_bytes(data[:where] + b'"exported_bY"' + data[where + len(b'"exported_by"') :])
    assert package.verify(broken, keys), "a changed manifest byte is caught"

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(good) as zf, zipfile.ZipFile(forged, "w") as out:
        for info in zf.infolist():
            body = zf.read(info)
            if info.filename == package.MANIFEST:
                body = body.replace(b'"anna"', b'"mallory"')
            out.writestr(info.filename, body)
    assert any("signature" in p for p in package.verify(forged, keys)), "a rewritten manifest"


def test_verify_finds_a_sealed_file_that_was_altered(platform: Platform, issuer) -> None:
    """``interlock evidence verify`` passes an intact store and names the item whose sealed file
    had one byte changed on disk."""
    jit = new_jit()
    nl, _ = members(platform, issuer, jit)
    done = upload(nl, jit, os.urandom(2 * MIB), filename="tampered.bin")
    assert done.status_code == 201, done.text
    blobs = store(platform)
    count, problems = verify_all(platform.settings, blobs)
    assert count >= 1 and not [p for p in problems if "tampered.bin" in p]
    address = nl.get(done.json()["url"]).json()["blob"]
    target = Path(platform.env["INTERLOCK_EVIDENCE_DIR"], "blobs", address[:2], address)
    raw = bytearray(target.read_bytes())
    raw[5000] ^= 0x01
    target.write_bytes(bytes(raw))
    _, problems = verify_all(platform.settings, blobs)
    assert [p for p in problems if "tampered.bin" in p], problems


def test_a_victim_named_in_an_items_text_is_redacted_for_a_partner(
    platform: Platform, issuer
) -> None:
    """NL records Daria as a victim in a lead and describes a shared exhibit with her name and
    phone: RO lists and views the item with her pseudonym in the description and file name, NL
    reads its own words (the disclosure policy's redaction, as in every other channel)."""
    from tests.support.api import eventually, lead_body

    jit = new_jit()
    nl, ro = members(platform, issuer, jit)
    lead = nl.post(
        f"/jits/{jit}/leads",
        lead_body(
            f"victim-{os.urandom(3).hex()}",
            persons=[{"name": "Daria Vasilescu", "role": "victim"}],
            identifiers=[{"kind": "phone", "value": "+40 721 555 987", "person": 0}],
            releasable_to=[RO],
        ),
    )
    assert lead.status_code == 201, lead.text
    description = "Statement of Daria Vasilescu, reachable on 0721 555 987"
    done = upload(
        nl, jit, b"statement" * 10, filename="Daria Vasilescu statement.txt",
        description=description, releasable_to=[RO], link_kind="lead",
        link_id=lead.json()["lead_id"],
    )  # fmt: skip
    assert done.status_code == 201, done.text

    def partners_view() -> dict | None:
        items = ro.get(f"/jits/{jit}/evidence").json()["items"]
        return items[0] if items and "Daria" not in items[0]["description"] else None

    shown = eventually(partners_view)
    assert "[victim" in shown["description"] and "555" not in shown["description"]
    assert "Daria" not in shown["filename"]
    viewed = ro.get(done.json()["url"])
    assert viewed.status_code == 200 and "Vasilescu" not in viewed.text
    assert nl.get(f"/jits/{jit}/evidence").json()["items"][0]["description"] == description


def test_erasing_the_lead_shreds_its_files_and_a_rebuild_shows_no_trace(
    platform: Platform, issuer
) -> None:
    """A file sealed with its lead's key: once the lead is erased the item is gone for every
    team, its content cannot be read, its events on the log cannot be opened, and a read model
    rebuilt from the topic knows nothing of it."""
    from datetime import date

    from events import sealing
    from events.codec import ErasedEvent, decode
    from events.directory import JitRegistered
    from services.admin import jit_record, publish
    from services.evidence.ledger import Ledger
    from services.kit.keys import KafkaKeyRing
    from tests.support.api import eventually, lead_body
    from tests.support.kafka import key_ring, raw_records

    jit = new_jit()
    publish(platform.settings, [jit_record(JitRegistered(
        jit_id=jit, name="Evidence erasure", legal_basis="test", coordinator_team=NL,
        member_teams=(NL, RO), starts_on=date(2026, 1, 1),
    ))])  # fmt: skip
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,),
                roles=("investigator", "coordinator"))  # fmt: skip
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    lead = nl.post(f"/jits/{jit}/leads", lead_body(f"ev-erase-{os.urandom(3).hex()}"))
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["lead_id"]
    content = b"intercepted call log\n" * 500
    done = upload(nl, jit, content, link_kind="lead", link_id=lead_id, releasable_to=[RO])
    assert done.status_code == 201, done.text
    evidence_id, url = done.json()["evidence_id"], done.json()["url"]
    assert ro.http.get(f"{url}/content").content == content

    erased = nl.post(f"/jits/{jit}/retention/lead/{lead_id}/erase", {"reason": "closed"})
    assert erased.status_code == 200, erased.text
    assert eventually(lambda: nl.get(url).status_code == 404 and ro.get(url).status_code == 404)
    assert nl.http.get(f"{url}/content").status_code in (404, 410)
    assert evidence_id not in nl.get(f"/jits/{jit}/evidence").text

    raws = raw_records(
        platform.settings, EVIDENCE_EVENTS, timeout=4, where=lambda r: evidence_id.encode() in r
    )
    assert raws
    fresh = KafkaKeyRing(platform.settings, name=f"it-evidence-{os.urandom(3).hex()}").start()
    try:
        for raw in raws:
            with pytest.raises(ErasedEvent):
                decode(raw, ring=fresh)
    finally:
        fresh.stop()

    sealing.install(key_ring(platform.settings))
    rebuilt = Ledger(platform.settings).start()
    try:
        assert rebuilt.catch_up()
        assert rebuilt.get(evidence_id) is None
    finally:
        rebuilt.stop()
        sealing.install(None)


def test_a_sealed_item_is_not_downloaded_until_it_is_unsealed(platform: Platform, issuer) -> None:
    """The custodian seals an item shared with a partner: both teams' downloads and an export
    are 409 naming the seal, the item and its custody stay readable; a partner may not break the
    seal; unsealed, the download gives the file. Both acts are custody lines with their reason
    and events on the evidence topic, and audit records with the justification and the hashes."""
    jit = new_jit()
    nl, ro = members(platform, issuer, jit)
    content = b"seized phone image\n" * 500
    done = upload(nl, jit, content, releasable_to=[RO])
    assert done.status_code == 201, done.text
    url, evidence_id = done.json()["url"], done.json()["evidence_id"]

    sealed = nl.post(f"{url}/seal", {"reason": "sealed for the court", "seal_ref": "BAG-0042"})
    assert sealed.status_code == 200, sealed.text
    assert sealed.json()["sealed"]["seal_ref"] == "BAG-0042"
    for member in (nl, ro):
        refused = member.http.get(f"{url}/content")
        assert refused.status_code == 409, refused.text
        assert "BAG-0042" in refused.json()["error"] and "sealed" in refused.json()["error"]
    export = nl.post(f"/jits/{jit}/evidence/packages", {"evidence_ids": [evidence_id]})
    assert export.status_code == 409 and "BAG-0042" in export.text
    assert ro.get(url).status_code == 200 and ro.get(f"{url}/custody").status_code == 200
    assert ro.post(f"{url}/unseal", {"reason": "not ours"}).status_code == 403
    assert nl.post(f"{url}/seal", {"reason": "again"}).status_code == 409

    unsealed = nl.post(f"{url}/unseal", {"reason": "opened for the expert examination"})
    assert unsealed.status_code == 200, unsealed.text
    assert unsealed.json()["sealed"] is None
    got = ro.http.get(f"{url}/content")
    assert got.status_code == 200 and got.content == content

    custody = nl.get(f"{url}/custody").json()["custody"]
    acts = [line["act"] for line in custody]
    assert acts[:1] == ["registered"] and acts[-1] == "downloaded"
    seal_line, unseal_line = (
        next(c for c in custody if c["act"] == a) for a in ("sealed", "unsealed")
    )
    assert acts.index("sealed") < acts.index("unsealed") < acts.index("downloaded")
    assert acts.count("downloaded") == 1, "the refused downloads left no custody line"
    assert (seal_line["reason"], seal_line["seal_ref"], seal_line["team"]) == (
        "sealed for the court", "BAG-0042", NL,
    )  # fmt: skip
    assert unseal_line["reason"] == "opened for the expert examination"
    assert unseal_line["seal_ref"] == "BAG-0042"
    assert seal_line["justification"]["case"] == "TEST-CASE"

    events = read_events(
        platform.settings,
        EVIDENCE_EVENTS,
        where=lambda e: e.subject == evidence_id and e.type.endswith("sealed"),
        until=lambda found: len(found) >= 2,
    )
    assert [e.type for e in events] == ["interlock.evidence.sealed", "interlock.evidence.unsealed"]
    ids = {e.id for e in events}
    records = read_events(
        platform.settings,
        AUDIT,
        where=lambda e: (
            isinstance(e.data, AuditRecorded)
            and e.data.cause_id in ids
            and e.data.member is not None
        ),
        until=lambda found: len(found) >= 2,
        timeout=30,
    )
    assert len(records) == 2
    sha256 = hashlib.sha256(content).hexdigest()
    for record in records:
        assert record.data.kind.value == "alteration" and record.data.member == "anna"
        assert f"sha256:{sha256}" in record.data.object_ids
        assert record.data.justification is not None
