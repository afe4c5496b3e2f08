"""The evidence aggregate, pure: who may do which custody act, and what each act records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.audit import Justification
from events.envelope import Actor, Addressed
from events.evidence import (
    AcknowledgeEvidence,
    DecideEvidenceDownload,
    DownloadEvidence,
    EraseEvidence,
    EvidenceCommand,
    EvidenceSealed,
    EvidenceUnsealed,
    ExportEvidence,
    RegisterEvidence,
    RequestEvidenceDownload,
    SealEvidence,
    ShareEvidence,
    TransferEvidence,
    UnsealEvidence,
    ViewEvidence,
)
from events.outcomes import Rejected
from services.evidence.domain import EvidenceState, custody_line, decide, evolve

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WHY = Justification(case="C-1", reason="unit test")
NL = Actor(member="anna", team="NL-KLPD", roles=("investigator",))
RO = Actor(member="ioana", team="RO-DIICOT", roles=("investigator",))
BE = Actor(member="bert", team="BE-FGP", roles=("investigator",))


def register(**overrides: object) -> RegisterEvidence:
    fields: dict[str, object] = {
        "actor": NL,
        "evidence_id": "ev-1",
        "justification": WHY,
        "subject_id": "lead-1",
        "filename": "cells.csv",
        "media_type": "text/plain",
        "size": 10,
        "sha256": "a" * 64,
        "sha512": "b" * 128,
        "blob": "c" * 64,
    }
    fields.update(overrides)
    return RegisterEvidence.model_validate(fields)


def apply(state: EvidenceState | None, command: EvidenceCommand) -> EvidenceState | None:
    for item in decide(state, command, now=NOW):
        event = item.event if isinstance(item, Addressed) else item
        state = evolve(state, event)
    return state


def registered(**overrides: object) -> EvidenceState:
    state = apply(None, register(**overrides))
    assert state is not None
    return state


def test_registration_records_hashes_and_is_addressed_to_the_items_audience() -> None:
    """The registration carries who, why and the hashes, under the item's own markings."""
    [item] = decide(None, register(releasable_to=("RO-DIICOT",), handling="H2"), now=NOW)
    assert isinstance(item, Addressed)
    assert item.originator == "NL-KLPD" and item.releasable_to == frozenset({"RO-DIICOT"})
    assert item.handling is not None and item.handling.code.value == "H2"
    assert item.event.sha256 == "a" * 64 and item.event.justification == WHY


def test_a_team_outside_the_audience_is_told_nothing() -> None:
    """Any act by a team the item is not shared with is 404, as if it did not exist."""
    state = registered()
    with pytest.raises(Rejected) as refused:
        decide(state, ViewEvidence(actor=RO, evidence_id="ev-1", justification=WHY), now=NOW)
    assert refused.value.status == 404


def test_only_the_originator_shares_and_erases() -> None:
    """Sharing and erasure belong to the originating team."""
    state = registered(releasable_to=("RO-DIICOT",))
    for command in (
        ShareEvidence(actor=RO, evidence_id="ev-1", justification=WHY, teams=("BE-FGP",)),
        EraseEvidence(actor=RO, evidence_id="ev-1", justification=WHY),
    ):
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 403


def test_h2_download_needs_a_granted_request() -> None:
    """H2: the partner's download is 403 until its request is granted; a denial keeps it so."""
    state = registered(releasable_to=("RO-DIICOT",), handling="H2")
    download = DownloadEvidence(actor=RO, evidence_id="ev-1", justification=WHY)
    with pytest.raises(Rejected):
        decide(state, download, now=NOW)
    state = apply(state, RequestEvidenceDownload(actor=RO, evidence_id="ev-1", justification=WHY))
    assert state is not None and state.requests == ("RO-DIICOT",)
    decision = DecideEvidenceDownload(
        actor=NL, evidence_id="ev-1", justification=WHY, team="RO-DIICOT", grant=True
    )
    state = apply(state, decision)
    assert state is not None and state.grants == ("RO-DIICOT",) and state.requests == ()
    assert decide(state, download, now=NOW)


def test_transfer_passes_custody_only_when_the_named_member_acknowledges() -> None:
    """Custody moves to the recipient team on acknowledgement by the named member alone."""
    state = registered(releasable_to=("RO-DIICOT",))
    with pytest.raises(Rejected):
        decide(
            state,
            TransferEvidence(
                actor=NL, evidence_id="ev-1", justification=WHY, to_team="BE-FGP", to_member="b"
            ),
            now=NOW,
        )
    state = apply(
        state,
        TransferEvidence(
            actor=NL, evidence_id="ev-1", justification=WHY, to_team="RO-DIICOT", to_member="ioana"
        ),
    )
    assert state is not None and state.custodian == "NL-KLPD"
    other = Actor(member="mihai", team="RO-DIICOT")
    with pytest.raises(Rejected) as refused:
        decide(
            state, AcknowledgeEvidence(actor=other, evidence_id="ev-1", justification=WHY), now=NOW
        )
    assert refused.value.status == 403
    state = apply(state, AcknowledgeEvidence(actor=RO, evidence_id="ev-1", justification=WHY))
    assert state is not None and state.custodian == "RO-DIICOT" and state.pending_transfer is None


def test_an_erased_item_refuses_every_act() -> None:
    """After erasure every act is 410."""
    state = apply(registered(), EraseEvidence(actor=NL, evidence_id="ev-1", justification=WHY))
    with pytest.raises(Rejected) as refused:
        decide(state, ViewEvidence(actor=NL, evidence_id="ev-1", justification=WHY), now=NOW)
    assert refused.value.status == 410


def test_a_repeated_registration_is_idempotent_and_a_clash_is_409() -> None:
    """The same blob registered again changes nothing; another blob under the id is 409."""
    state = registered()
    assert decide(state, register(), now=NOW) == []
    with pytest.raises(Rejected) as refused:
        decide(state, register(blob="d" * 64), now=NOW)
    assert refused.value.status == 409


def seal(actor: Actor = NL, **fields: object) -> SealEvidence:
    return SealEvidence.model_validate(
        {"actor": actor, "evidence_id": "ev-1", "justification": WHY, "reason": "for court"}
        | fields
    )


def unseal(actor: Actor = NL) -> UnsealEvidence:
    return UnsealEvidence(actor=actor, evidence_id="ev-1", justification=WHY, reason="expert exam")


def test_a_sealed_item_is_neither_downloaded_nor_exported_until_unsealed() -> None:
    """The seal refuses download and export with 409 naming it (for every team, the originator
    too), while a view is still recorded; unsealing lets the download through again."""
    state = apply(registered(releasable_to=("RO-DIICOT",)), seal(seal_ref="BAG-0042"))
    assert state is not None and state.seal is not None and state.seal.seal_ref == "BAG-0042"
    for command in (
        DownloadEvidence(actor=NL, evidence_id="ev-1", justification=WHY),
        DownloadEvidence(actor=RO, evidence_id="ev-1", justification=WHY),
        ExportEvidence(actor=NL, evidence_id="ev-1", justification=WHY, package_id="p-1"),
    ):
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 409
        assert "sealed" in refused.value.reason and "BAG-0042" in refused.value.reason
        assert "for court" in refused.value.reason
    assert decide(state, ViewEvidence(actor=RO, evidence_id="ev-1", justification=WHY), now=NOW)
    state = apply(state, unseal())
    assert state is not None and state.seal is None
    assert decide(state, DownloadEvidence(actor=RO, evidence_id="ev-1", justification=WHY), now=NOW)


def test_seal_and_unseal_record_who_why_and_the_seal() -> None:
    """Each act is an event with the hashes, the reason and the seal's reference; the unseal
    names the seal it broke; both are custody lines with their reason."""
    state = registered()
    [sealed] = decide(state, seal(seal_ref="BAG-7"), now=NOW)
    assert isinstance(sealed, Addressed) and isinstance(sealed.event, EvidenceSealed)
    assert (sealed.event.reason, sealed.event.seal_ref) == ("for court", "BAG-7")
    assert sealed.event.sha256 == "a" * 64 and sealed.event.justification == WHY
    state = evolve(state, sealed.event)
    [unsealed] = decide(state, unseal(), now=NOW)
    assert isinstance(unsealed, Addressed) and isinstance(unsealed.event, EvidenceUnsealed)
    assert unsealed.event.seal_ref == "BAG-7" and unsealed.event.reason == "expert exam"
    line = custody_line(unsealed.event)
    assert line["act"] == "unsealed" and line["reason"] == "expert exam"
    assert custody_line(sealed.event) | {"act": "sealed"} == custody_line(sealed.event)


def test_only_the_custodian_team_seals_and_unseals() -> None:
    """A partner the item is shared with may not seal it; after custody passes to it by an
    acknowledged transfer, it is the partner who seals and unseals, not the originator."""
    state = registered(releasable_to=("RO-DIICOT",))
    with pytest.raises(Rejected) as refused:
        decide(state, seal(RO), now=NOW)
    assert refused.value.status == 403 and "custodian" in refused.value.reason
    transfer = TransferEvidence(
        actor=NL, evidence_id="ev-1", justification=WHY, to_team="RO-DIICOT", to_member="ioana"
    )
    state = apply(state, transfer)
    state = apply(state, AcknowledgeEvidence(actor=RO, evidence_id="ev-1", justification=WHY))
    with pytest.raises(Rejected) as refused:
        decide(state, seal(NL), now=NOW)
    assert refused.value.status == 403
    state = apply(state, seal(RO))
    with pytest.raises(Rejected) as refused:
        decide(state, unseal(NL), now=NOW)
    assert refused.value.status == 403
    assert apply(state, unseal(RO)) is not None


def test_a_seal_is_put_on_once_and_broken_once() -> None:
    """Sealing a sealed item or unsealing an unsealed one is 409; erasure ends every act (410)."""
    state = registered()
    with pytest.raises(Rejected) as refused:
        decide(state, unseal(), now=NOW)
    assert refused.value.status == 409
    state = apply(state, seal(seal_ref="BAG-1"))
    with pytest.raises(Rejected) as refused:
        decide(state, seal(), now=NOW)
    assert refused.value.status == 409 and "BAG-1" in refused.value.reason
    state = apply(state, EraseEvidence(actor=NL, evidence_id="ev-1", justification=WHY))
    with pytest.raises(Rejected) as refused:
        decide(state, unseal(), now=NOW)
    assert refused.value.status == 410
