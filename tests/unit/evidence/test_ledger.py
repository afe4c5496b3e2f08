"""The evidence read model folds custody events and answers visibility through the disclosure
policy (a channel that bypassed it would show a TLP:RED item to a partner team)."""

from __future__ import annotations

from datetime import UTC, datetime

from events.audit import Justification
from events.evidence import EvidenceRegistered, EvidenceShared, EvidenceViewed
from events.handling import HandlingCode, Tlp
from services.evidence.ledger import Ledger
from services.kit.disclosure import Viewer
from services.kit.settings import Settings

AT = datetime(2026, 1, 1, tzinfo=UTC)
WHY = Justification(case="C", reason="r")
HASHES = {"sha256": "a" * 64, "sha512": "b" * 128}
RO = Viewer(team="RO-DIICOT", member="ioana")


def registered(evidence_id: str, tlp: Tlp, handling: HandlingCode) -> EvidenceRegistered:
    return EvidenceRegistered(
        evidence_id=evidence_id,
        subject_id="lead-1",
        by="anna",
        team="NL-KLPD",
        justification=WHY,
        filename="f.bin",
        media_type="application/octet-stream",
        size=1,
        blob="c" * 64,
        tlp=tlp,
        handling=handling,
        releasable_to=("RO-DIICOT",),
        **HASHES,
    )


def test_visibility_and_markings_come_from_the_disclosure_policy() -> None:
    """Released AMBER: the partner sees it; released RED: it does not (named readers only);
    H2: the partner's national system does not; every item shows its banner."""
    ledger = Ledger(Settings())
    for n, (tlp, code) in enumerate(
        [(Tlp.AMBER, HandlingCode.H0), (Tlp.RED, HandlingCode.H0), (Tlp.AMBER, HandlingCode.H2)]
    ):
        ledger.fold(f"e{n}", "jit-1", AT, registered(f"ev-{n}", tlp, code))
    amber, red, h2 = (ledger.get(f"ev-{n}") for n in range(3))
    assert amber and red and h2
    assert amber.visible_to(RO) and not red.visible_to(RO)
    assert h2.visible_to(RO) and not h2.visible_to(Viewer.feed("RO-DIICOT"))
    assert not h2.exportable_by(RO)
    assert red.summary()["marking"]["banner"].startswith("TLP:RED")


def test_custody_lines_fold_in_order_once_each() -> None:
    """A repeated event id is folded once; sharing widens the audience."""
    ledger = Ledger(Settings())
    ledger.fold("e1", "jit-1", AT, registered("ev-1", Tlp.AMBER, HandlingCode.H0))
    shared = EvidenceShared(
        evidence_id="ev-1", subject_id="lead-1", by="anna", team="NL-KLPD", justification=WHY,
        teams=("BE-FGP",), **HASHES,
    )  # fmt: skip
    viewed = EvidenceViewed(
        evidence_id="ev-1", subject_id="lead-1", by="bert", team="BE-FGP", justification=WHY,
        **HASHES,
    )  # fmt: skip
    for event_id, event in (("e2", shared), ("e3", viewed), ("e3", viewed)):
        ledger.fold(event_id, "jit-1", AT, event)
    item = ledger.get("ev-1")
    assert item is not None
    assert [line["act"] for line in item.custody] == ["registered", "shared", "viewed"]
    assert item.visible_to(Viewer(team="BE-FGP", member="bert"))
