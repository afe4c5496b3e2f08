"""Every Kafka topic Interlock uses, as data: provisioning, contracts and services read it here.

Names are logical; a deployment may put a prefix in front (``INTERLOCK_TOPIC_PREFIX``) so that
several environments, or several test sessions, share one cluster without seeing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000
COMMAND_RETENTION_MS = 7 * DAY_MS
"""Commands are requests, not the record: what they caused is in the (sealed) event topics."""


CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
"""The ``content-type`` header of every record that is a CloudEvent: structured mode of the
CloudEvents Kafka protocol binding (a receiver picks the mode from this header)."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic and how it is kept."""

    name: str
    purpose: str
    partitions: int = 6
    compacted: bool = False
    retention_ms: int = -1
    """-1 keeps records for ever: the event log is the system of record."""
    extra: tuple[tuple[str, str], ...] = ()
    fed: bool = True
    """Whether the release may copy this topic's events to the teams' feeds. Not fed: the
    directory, command outcomes, dead letters and accountability records, which are about the
    platform, not the case."""
    content_type: str = CLOUDEVENTS_CONTENT_TYPE
    """What each record's value is, as its ``content-type`` header: a structured-mode CloudEvent
    on every topic but the three internal ones that hold no events (dead letters, the audit
    chain's links, wrapped keys)."""

    @property
    def carries_cloudevents(self) -> bool:
        return self.content_type == CLOUDEVENTS_CONTENT_TYPE

    def config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
            "min.insync.replicas": "1",
        }
        if self.compacted:
            cfg["min.compaction.lag.ms"] = "0"
        cfg.update(self.extra)
        return cfg


DIRECTORY = TopicSpec(
    "interlock.directory",
    "JITs, teams, desks, members and roles; compacted, keyed by the record's id.",
    partitions=1,
    compacted=True,
    fed=False,
)
LEAD_COMMANDS = TopicSpec(
    "interlock.leads.commands",
    "Commands to the leads service, keyed by lead id. Kept 7 days: a submission carries personal "
    "data in the clear, and the sealed events it causes are the record.",
    retention_ms=COMMAND_RETENTION_MS,
)
LEAD_EVENTS = TopicSpec(
    "interlock.leads.events", "Lead lifecycle and observed entities, keyed by lead id."
)
DECONFLICTION_COMMANDS = TopicSpec(
    "interlock.deconfliction.commands",
    "Registrations, operations and hit decisions, keyed by aggregate id. Kept 7 days: "
    "registrations carry identifier values in the clear.",
    retention_ms=COMMAND_RETENTION_MS,
)
DECONFLICTION_EVENTS = TopicSpec(
    "interlock.deconfliction.events",
    "Hits, releases, operation and role conflicts, keyed by aggregate id.",
)
DECONFLICTION_INDEX = TopicSpec(
    "interlock.deconfliction.index",
    "Internal to the deconfliction service (never fed to teams): TokenRegistered and "
    "PersonRegistered repartitioned by token or birth-date block token to the worker that owns "
    "that index entry, and key-expiry ticks. Kept 7 days; registrations stay on the event topic.",
    retention_ms=7 * DAY_MS,
)
DECONFLICTION_HITS = TopicSpec(
    "interlock.deconfliction.hits",
    "Internal to the deconfliction service (never fed to teams): candidate hits and role "
    "conflicts keyed by hit id, admitted once by the hit's owner before they go out on "
    "interlock.deconfliction.events (a key rotation can find one pair under two tokens).",
    retention_ms=7 * DAY_MS,
)
ALERT_COMMANDS = TopicSpec(
    "interlock.alerts.commands",
    "Raise, acknowledge, resolve, desk rules, escalation ticks; keyed by JIT (one writer per JIT).",
    retention_ms=COMMAND_RETENTION_MS,
)
ALERT_EVENTS = TopicSpec(
    "interlock.alerts.events", "Alert lifecycle and deliveries, keyed by alert id."
)
TASK_COMMANDS = TopicSpec(
    "interlock.tasking.commands",
    "Task requests and transitions, keyed by task id. Kept 7 days: a request may carry a "
    "victim's referral details in the clear, and the sealed events it causes are the record.",
    retention_ms=COMMAND_RETENTION_MS,
)
TASK_EVENTS = TopicSpec("interlock.tasking.events", "Task lifecycle, keyed by task id.")
EVIDENCE_COMMANDS = TopicSpec(
    "interlock.evidence.commands",
    "Evidence registrations and custody acts (view, download, share, transfer, export, erase), "
    "keyed by evidence id. Kept 7 days: the sealed events they cause are the record.",
    retention_ms=COMMAND_RETENTION_MS,
)
EVIDENCE_EVENTS = TopicSpec(
    "interlock.evidence.events",
    "Evidence registered and every act of its chain of custody, keyed by evidence id; the files "
    "themselves live sealed in the blob store, never on Kafka.",
)
MESSAGE_COMMANDS = TopicSpec(
    "interlock.messaging.commands",
    "Posts, edits, deletions and read marks, keyed by thread id. Kept 7 days: message text is in "
    "the clear here, and the sealed events it causes are the record.",
    retention_ms=COMMAND_RETENTION_MS,
)
MESSAGE_EVENTS = TopicSpec(
    "interlock.messaging.events",
    "Messages posted, edited and deleted (tombstones) and threads read, keyed by thread id.",
)
RETENTION_COMMANDS = TopicSpec(
    "interlock.retention.commands",
    "Early erasure and extension requests and retention ticks, keyed by subject id; kept 7 days "
    "(the outcome and the resulting events are the record).",
    retention_ms=7 * DAY_MS,
)
RETENTION_EVENTS = TopicSpec(
    "interlock.retention.events",
    "Review reminders, extensions and erasures of subjects (ids, categories and times only, "
    "never personal data), keyed by subject id.",
)
EVALUATION_COMMANDS = TopicSpec(
    "interlock.evaluation.commands",
    "The coordinator's assessments for the JIT evaluation report, keyed by note (JIT, period, "
    "part); kept 7 days (the events are the record).",
    retention_ms=COMMAND_RETENTION_MS,
)
EVALUATION_EVENTS = TopicSpec(
    "interlock.evaluation.events",
    "Assessments written for the JIT evaluation report, keyed by note (JIT, period, part).",
)
OUTCOMES = TopicSpec(
    "interlock.outcomes",
    "The result of each command (accepted with its events, or rejected with the reason), "
    "keyed by correlation id; read by the gateway to answer the caller.",
    retention_ms=DAY_MS,
    fed=False,
)
DEAD_LETTER = TopicSpec(
    "interlock.deadletter",
    "Records no service could handle, with the reason; kept for inspection and replay.",
    partitions=1,
    retention_ms=30 * DAY_MS,
    content_type="application/vnd.interlock.deadletter+json",
    fed=False,
)
AUDIT = TopicSpec(
    "interlock.audit",
    "Accountability records (collection, consultation, disclosure, combination, erasure).",
    partitions=1,
    fed=False,
)
AUDIT_CHAIN = TopicSpec(
    "interlock.audit.chain",
    "The append-only, hash-chained audit log written by the audit service alone (one partition, "
    "never compacted, kept for ever); read by `interlock audit verify` and the auditor's search.",
    partitions=1,
    content_type="application/vnd.interlock.audit-link+json",
)
KEYS = TopicSpec(
    "interlock.keys",
    "Per-subject data keys, wrapped by the master key, keyed by key id; a tombstone destroys one "
    "(crypto-shredding). Compacted quickly so that a destroyed key is physically gone within "
    "hours; read only by Interlock's own services, never fed to a team.",
    compacted=True,
    extra=(
        ("segment.ms", str(60 * 60 * 1000)),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("delete.retention.ms", str(DAY_MS)),
    ),
    content_type="application/jose",
)
SHARES = TopicSpec(
    "interlock.release.shares",
    "Each lead's, task's and operation's sharing (originator, audience, TLP, handling, named "
    "readers), keyed by its id; written and read by the release service alone, so that a feed "
    "record's links to records its team may not see are dropped.",
    partitions=1,
    compacted=True,
    content_type="application/vnd.interlock.share+json",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    KEYS,
    DIRECTORY,
    LEAD_COMMANDS,
    LEAD_EVENTS,
    DECONFLICTION_COMMANDS,
    DECONFLICTION_EVENTS,
    DECONFLICTION_INDEX,
    DECONFLICTION_HITS,
    ALERT_COMMANDS,
    ALERT_EVENTS,
    TASK_COMMANDS,
    TASK_EVENTS,
    EVIDENCE_COMMANDS,
    EVIDENCE_EVENTS,
    MESSAGE_COMMANDS,
    MESSAGE_EVENTS,
    RETENTION_COMMANDS,
    RETENTION_EVENTS,
    EVALUATION_COMMANDS,
    EVALUATION_EVENTS,
    OUTCOMES,
    DEAD_LETTER,
    AUDIT,
    AUDIT_CHAIN,
    SHARES,
)

COMMAND_TOPICS: tuple[TopicSpec, ...] = tuple(
    spec for spec in ALL_TOPICS if spec.name.endswith(".commands")
)
"""The topics commands are written to, one per context."""

EVENT_TOPICS: tuple[TopicSpec, ...] = tuple(
    spec for spec in ALL_TOPICS if spec.name.endswith(".events")
)
"""The topics each context's events are written to."""

FEED_PREFIX = "interlock.feed."
FEED_RETENTION_MS = 30 * DAY_MS
"""A feed is a delivery buffer, not an archive: it carries personal data in the clear (its
reader holds no keys), so it keeps a record 30 days. A national system keeps what it received
under its own law, and is told of every erasure (``SubjectErased``) on the same feed."""


def feed_topic(team: str) -> TopicSpec:
    """The per-team feed a national system reads: every event its team may see, nothing else."""
    return TopicSpec(
        FEED_PREFIX + team,
        f"Everything team {team} may see, as CloudEvents JSON; kept 30 days.",
        retention_ms=FEED_RETENTION_MS,
    )
