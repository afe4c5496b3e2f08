"""Evidence as a pure aggregate: one writer per item, ``decide`` refuses or records a custody act,
``evolve`` folds. Who may do what with an item is decided here, before any byte leaves the store:
the gateway streams a file only after the worker has recorded the download."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from events.envelope import Actor, Addressed, Command, Event
from events.evidence import (
    AcknowledgeEvidence,
    CustodyEvent,
    DecideEvidenceDownload,
    DownloadEvidence,
    EraseEvidence,
    EvidenceCommand,
    EvidenceDownloadDecided,
    EvidenceDownloaded,
    EvidenceDownloadRequested,
    EvidenceErased,
    EvidenceExported,
    EvidenceReceiptAcknowledged,
    EvidenceRegistered,
    EvidenceSealed,
    EvidenceShared,
    EvidenceTransferred,
    EvidenceUnsealed,
    EvidenceViewed,
    ExportEvidence,
    RegisterEvidence,
    RequestEvidenceDownload,
    SealEvidence,
    ShareEvidence,
    TransferEvidence,
    UnsealEvidence,
    ViewEvidence,
    act_of,
)
from events.handling import Handling, HandlingCode, Tlp, audience
from events.outcomes import Rejected

E = TypeVar("E", bound=CustodyEvent)


class Transfer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    to_team: str
    to_member: str
    from_team: str


class Seal(BaseModel):
    """A tamper-evident seal on an item: who put it on, why, and its reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str
    team: str
    reason: str
    seal_ref: str | None = None

    def describe(self) -> str:
        ref = f"seal {self.seal_ref}" if self.seal_ref else "a seal"
        return f"{ref} put on by {self.by} ({self.team}): {self.reason}"


def sealed_refusal(evidence_id: str, seal: Seal, what: str) -> str:
    """The 409 reason for an act a seal forbids, naming the seal."""
    return f"evidence {evidence_id} is sealed ({seal.describe()}); unseal it before {what}"


class EvidenceState(BaseModel):
    """What the evidence service must remember of an item to decide on its next act."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    evidence_id: str
    subject_id: str
    originator: str
    sha256: str
    sha512: str
    blob: str
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    releasable_to: tuple[str, ...] = ()
    custodian: str
    """The team that holds custody; the originator until a transfer is acknowledged."""
    pending_transfer: Transfer | None = None
    requests: tuple[str, ...] = ()
    """Teams waiting for the originator's permission to download an H2 item."""
    grants: tuple[str, ...] = ()
    seal: Seal | None = None
    """While sealed, the file is neither downloaded nor exported."""
    erased: bool = False
    version: int = 0

    @property
    def audience(self) -> frozenset[str]:
        return audience(self.originator, self.releasable_to)

    def may_download(self, team: str) -> bool:
        """H2 items leave their originating team only with its permission."""
        return (
            self.handling is not HandlingCode.H2 or team == self.originator or team in self.grants
        )


def decide(
    state: EvidenceState | None, command: Command, *, now: datetime, jit: str = ""
) -> list[Event | Addressed]:
    """The custody event a command records, or Rejected with the reason."""
    assert isinstance(command, EvidenceCommand)
    if isinstance(command, RegisterEvidence):
        return _register(state, command)
    if state is None or command.actor.team not in state.audience:
        raise Rejected(404, f"no evidence {command.evidence_id}")
    if state.erased:
        raise Rejected(410, f"evidence {state.evidence_id} was erased; its file is gone")
    actor = command.actor
    if isinstance(command, ViewEvidence):
        return [_addressed(state, _act(EvidenceViewed, state, command))]
    if isinstance(command, DownloadEvidence | ExportEvidence):
        if state.seal is not None:
            what = "exporting it" if isinstance(command, ExportEvidence) else "downloading it"
            raise Rejected(409, sealed_refusal(state.evidence_id, state.seal, what))
        if not state.may_download(actor.team):
            raise Rejected(
                403,
                f"evidence {state.evidence_id} is H2: team {actor.team} needs the permission of "
                f"{state.originator} to download or export it (request it first)",
            )
        if isinstance(command, ExportEvidence):
            exported = _act(EvidenceExported, state, command, package_id=command.package_id)
            return [_addressed(state, exported)]
        return [_addressed(state, _act(EvidenceDownloaded, state, command))]
    if isinstance(command, ShareEvidence):
        _originator_only(state, actor, "share")
        new = tuple(sorted(set(command.teams) - state.audience))
        if not new:
            raise Rejected(409, "the item is already shared with every team named")
        shared = _act(EvidenceShared, state, command, teams=new)
        return [_addressed(state, shared, extra=new)]
    if isinstance(command, RequestEvidenceDownload):
        if state.may_download(actor.team):
            raise Rejected(409, f"team {actor.team} may download this item already")
        if actor.team in state.requests:
            return []
        return [_addressed(state, _act(EvidenceDownloadRequested, state, command))]
    if isinstance(command, DecideEvidenceDownload):
        _originator_only(state, actor, "grant or deny a download of")
        if command.team not in state.requests:
            raise Rejected(409, f"team {command.team} has no pending request for this item")
        decided = _act(
            EvidenceDownloadDecided,
            state,
            command,
            for_team=command.team,
            decision="granted" if command.grant else "denied",
        )
        return [_addressed(state, decided)]
    if isinstance(command, TransferEvidence):
        if actor.team != state.custodian:
            raise Rejected(403, f"only the custodian team {state.custodian} may transfer custody")
        if state.pending_transfer is not None:
            raise Rejected(
                409,
                f"a transfer to {state.pending_transfer.to_team} awaits acknowledgement",
            )
        if command.to_team not in state.audience:
            raise Rejected(
                409, f"share the item with {command.to_team} before transferring custody to it"
            )
        if command.to_team == state.custodian:
            raise Rejected(409, f"team {command.to_team} holds custody already")
        transferred = _act(
            EvidenceTransferred,
            state,
            command,
            to_team=command.to_team,
            to_member=command.to_member,
        )
        return [_addressed(state, transferred)]
    if isinstance(command, AcknowledgeEvidence):
        pending = state.pending_transfer
        if pending is None:
            raise Rejected(409, "no transfer of this item awaits acknowledgement")
        if (actor.team, actor.member) != (pending.to_team, pending.to_member):
            raise Rejected(
                403, f"only {pending.to_member} of {pending.to_team} may acknowledge receipt"
            )
        acknowledged = _act(
            EvidenceReceiptAcknowledged, state, command, from_team=pending.from_team
        )
        return [_addressed(state, acknowledged)]
    if isinstance(command, SealEvidence | UnsealEvidence):
        return [_addressed(state, _seal_act(state, command))]
    assert isinstance(command, EraseEvidence)
    _originator_only(state, actor, "erase")
    return [_addressed(state, _act(EvidenceErased, state, command, blob=state.blob))]


def _seal_act(
    state: EvidenceState, command: SealEvidence | UnsealEvidence
) -> EvidenceSealed | EvidenceUnsealed:
    """Seals are put on and broken by the custodian team only; one seal at a time."""
    verb = "seal" if isinstance(command, SealEvidence) else "unseal"
    if command.actor.team != state.custodian:
        raise Rejected(403, f"only the custodian team {state.custodian} may {verb} this item")
    if isinstance(command, SealEvidence):
        if state.seal is not None:
            raise Rejected(
                409, f"evidence {state.evidence_id} is sealed already ({state.seal.describe()})"
            )
        return _act(
            EvidenceSealed, state, command, reason=command.reason, seal_ref=command.seal_ref
        )
    if state.seal is None:
        raise Rejected(409, f"evidence {state.evidence_id} is not sealed")
    return _act(
        EvidenceUnsealed, state, command, reason=command.reason, seal_ref=state.seal.seal_ref
    )


def _originator_only(state: EvidenceState, actor: Actor, what: str) -> None:
    if actor.team != state.originator:
        raise Rejected(403, f"only the originating team {state.originator} may {what} this item")


def _act(model: type[E], state: EvidenceState, command: EvidenceCommand, **fields: Any) -> E:
    return model(
        evidence_id=state.evidence_id,
        subject_id=state.subject_id,
        by=command.actor.member,
        team=command.actor.team,
        justification=command.justification,
        sha256=state.sha256,
        sha512=state.sha512,
        **fields,
    )


def _addressed(state: EvidenceState, event: Event, extra: tuple[str, ...] = ()) -> Addressed:
    """Every act on an item is told to the item's audience, under the item's markings."""
    return Addressed(
        event,
        subject=state.evidence_id,
        originator=state.originator,
        releasable_to=frozenset({*state.releasable_to, *extra}),
        handling=Handling(code=state.handling, tlp=state.tlp),
    )


def _register(state: EvidenceState | None, command: RegisterEvidence) -> list[Event | Addressed]:
    if state is not None:
        if state.blob == command.blob and state.originator == command.actor.team:
            return []
        raise Rejected(409, f"evidence id {command.evidence_id} is already taken")
    if (command.link_kind is None) != (command.link_id is None):
        raise Rejected(422, "link_kind and link_id go together")
    registered = EvidenceRegistered(
        evidence_id=command.evidence_id,
        subject_id=command.subject_id,
        by=command.actor.member,
        team=command.actor.team,
        justification=command.justification,
        sha256=command.sha256,
        sha512=command.sha512,
        filename=command.filename,
        media_type=command.media_type,
        size=command.size,
        blob=command.blob,
        exhibit_ref=command.exhibit_ref,
        description=command.description,
        link_kind=command.link_kind,
        link_id=command.link_id,
        handling=command.handling,
        tlp=command.tlp,
        releasable_to=tuple(sorted(set(command.releasable_to) - {command.actor.team})),
    )
    return [
        Addressed(
            registered,
            subject=command.evidence_id,
            originator=command.actor.team,
            releasable_to=frozenset(registered.releasable_to),
            handling=Handling(code=command.handling, tlp=command.tlp),
        )
    ]


def evolve(state: EvidenceState | None, event: Event) -> EvidenceState:
    """Fold one evidence event into the state."""
    if isinstance(event, EvidenceRegistered):
        return EvidenceState(
            evidence_id=event.evidence_id,
            subject_id=event.subject_id,
            originator=event.team,
            sha256=event.sha256,
            sha512=event.sha512,
            blob=event.blob,
            handling=event.handling,
            tlp=event.tlp,
            releasable_to=event.releasable_to,
            custodian=event.team,
            version=1,
        )
    if state is None:
        raise TypeError(f"{event.type} before the evidence was registered")
    update: dict[str, object] = {"version": state.version + 1}
    if isinstance(event, EvidenceShared):
        update["releasable_to"] = tuple(sorted({*state.releasable_to, *event.teams}))
    elif isinstance(event, EvidenceDownloadRequested):
        update["requests"] = (*state.requests, event.team)
    elif isinstance(event, EvidenceDownloadDecided):
        update["requests"] = tuple(t for t in state.requests if t != event.for_team)
        if event.decision == "granted":
            update["grants"] = (*state.grants, event.for_team)
    elif isinstance(event, EvidenceTransferred):
        update["pending_transfer"] = Transfer(
            to_team=event.to_team, to_member=event.to_member, from_team=event.team
        )
    elif isinstance(event, EvidenceReceiptAcknowledged):
        update["pending_transfer"] = None
        update["custodian"] = event.team
    elif isinstance(event, EvidenceSealed):
        update["seal"] = Seal(
            by=event.by, team=event.team, reason=event.reason, seal_ref=event.seal_ref
        )
    elif isinstance(event, EvidenceUnsealed):
        update["seal"] = None
    elif isinstance(event, EvidenceErased):
        update["erased"] = True
    return state.model_copy(update=update)


LINE_FIELDS = (
    "teams", "to_team", "to_member", "from_team", "for_team", "package_id", "reason", "seal_ref",
)  # fmt: skip
"""What an act adds to its custody line, when it has it."""


def custody_line(event: CustodyEvent) -> dict[str, object]:
    """One act as the custody timeline and the package manifest show it."""
    line: dict[str, object] = {
        "act": act_of(event).value,
        "by": event.by,
        "team": event.team,
        "justification": event.justification.model_dump(),
        "sha256": event.sha256,
        "sha512": event.sha512,
    }
    for name in LINE_FIELDS:
        value = getattr(event, name, None)
        if value is not None:
            line[name] = list(value) if isinstance(value, tuple) else value
    return line
