"""Every event type is either sealed with a subject's key or says why it may travel in the clear.

Erasure is crypto-shredding (docs/retention.md): what is not sealed outlives an erasure on the
log. A new type must be added here, with its reason, before the catalogue accepts it.
"""

from __future__ import annotations

from events.catalogue import CATALOGUE

SEALED = {
    "interlock.lead.submitted": "lead_id",
    "interlock.lead.triaged": "lead_id",
    "interlock.lead.actioned": "lead_id",
    "interlock.lead.closed": "lead_id",
    "interlock.lead.discarded": "lead_id",
    "interlock.entity.observed": "lead_id",
    "interlock.operation.planned": "operation_id",
    "interlock.operation.moved": "operation_id",
    "interlock.operation.cancelled": "operation_id",
    "interlock.operation.conflict_detected": "conflict_id",
    "interlock.operation.conflict_resolution_recorded": "conflict_id",
    **{
        f"interlock.task.{name}": "task_id"
        for name in (
            "requested",
            "accepted",
            "declined",
            "started",
            "blocked",
            "unblocked",
            "completed",
            "cancelled",
            "commented",
            "consent_recorded",
            "referral_stopped",
            "overdue",
        )
    },
    **{
        f"interlock.evidence.{name}": "subject_id"
        for name in (
            "registered",
            "viewed",
            "downloaded",
            "shared",
            "download_requested",
            "download_decided",
            "transferred",
            "receipt_acknowledged",
            "sealed",
            "unsealed",
            "exported",
            "erased",
        )
    },
    "interlock.message.posted": "subject_id",
    "interlock.message.edited": "subject_id",
    "interlock.message.deleted": "subject_id",
}
"""Type → the field naming the subject whose key seals it (evidence and messages: the lead, task
or operation they belong to, so that its erasure shreds them too)."""

COMMANDS = "a command: kept 7 days on its topic, before any key exists (docs/retention.md)"
IDS = "ids, teams, times and codes only: no personal or operational data"

CLEAR = {
    "interlock.directory.jit": "the JIT's directory record: organisations, not persons",
    "interlock.directory.team": "a team's directory record: an organisation",
    "interlock.directory.desk": "a desk's on-call contact: duty data the JIT publishes to itself",
    "interlock.directory.member": "a member's directory record: needed to authorise every read",
    "interlock.directory.retention": "a retention period: a rule, no data",
    "interlock.command.accepted": IDS,
    "interlock.command.rejected": "a refusal reason, written not to name invisible records",
    "interlock.lead.rejected": "a refused submission's reason: nothing of the lead was written",
    "interlock.deconfliction.token_registered": "keyed HMAC tokens, irreversible without the "
    "deconfliction secret; the index forgets them at erasure",
    "interlock.deconfliction.person_registered": "keyed HMAC tokens and ids, as above",
    "interlock.deconfliction.hit_detected": IDS,
    "interlock.deconfliction.details_released": "a contact officer and a note, dropped with the "
    "hit by the projection; topic kept 7 days",
    "interlock.deconfliction.details_declined": IDS,
    "interlock.deconfliction.role_conflict_detected": IDS,
    "interlock.operation.conflict_resolved": IDS,
    "interlock.operation.conflict_cleared": IDS,
    "interlock.alert.raised": "KNOWN GAP: an alert's summary is free text and alerts are not yet "
    "subjects of retention; the UI asks for no personal data in it",
    "interlock.alert.routed": IDS,
    "interlock.alert.delivered": IDS,
    "interlock.alert.acknowledged": IDS,
    "interlock.alert.escalated": IDS,
    "interlock.alert.deduplicated": IDS,
    "interlock.alert.resolved": "a resolution note: free text like the summary (KNOWN GAP)",
    "interlock.alert.webhook_delivery_failed": IDS,
    "interlock.alert.desk_rule_set": "a desk's routing rule: no data",
    "interlock.alert.desk_escalation_set": "a desk's escalation times: no data",
    "interlock.retention.review_due": IDS,
    "interlock.retention.extended": "an extension's reason, about the retention, not the subject",
    "interlock.retention.subject_erased": IDS,
    "interlock.audit.recorded": "the audit chain: ids and justifications, kept by law",
    "interlock.message.thread_read": "a read mark: who, which team, up to which message",
    "interlock.evaluation.note_written": "the coordinator's assessment of the JIT's work for "
    "an evaluation report: no personal data by rule (the form says so)",
}
"""Type → why it travels in the clear."""


def test_every_event_type_is_sealed_or_says_why_not() -> None:
    """A type missing from both lists, or listed in the wrong one, fails here."""
    events = {e.type: e for e in CATALOGUE if e.kind == "event"}
    assert set(SEALED) | set(CLEAR) == set(events), "add the type to SEALED or CLEAR"
    assert not set(SEALED) & set(CLEAR)
    for type_, field in SEALED.items():
        assert events[type_].sealed_by == field, type_
    for type_ in CLEAR:
        assert events[type_].sealed_by is None, type_


def test_commands_travel_in_the_clear_for_a_week_only() -> None:
    """Commands are never sealed: a national system cannot seal; their topics keep 7 days."""
    for entry in CATALOGUE:
        if entry.kind == "command":
            assert entry.sealed_by is None, entry.type
            assert 0 < entry.topic.retention_ms <= 7 * 24 * 3600 * 1000, (entry.type, COMMANDS)
