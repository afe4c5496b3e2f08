"""Retention and erasure: how long a JIT keeps what it collected, and when it is erased.

The unit of erasure is the record that collected the data: a lead (with its persons, identifiers
and summary), a task (with a victim referral) or an operation. Data collected together is erased
together, so a subject is kept for the shortest period of its data categories: the most
protected category governs.

Policies are directory records (``events.directory.RetentionPolicySet``). The retention service
reminds the owning team before a subject's period ends (``ReviewDue``), lets it keep the data
longer (``RetentionExtended``) or erase it early, and announces every erasure
(``SubjectErased``) so that the key service destroys the subject's key and every service drops
its state. None of these records carries personal data: ids, categories and times only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.registry import CatalogueEntry
from events.topics import RETENTION_COMMANDS, RETENTION_EVENTS


class DataCategory(StrEnum):
    """What kind of data a subject holds; each category has its own retention period."""

    LEADS = "leads"
    PERSONS = "persons"
    VICTIMS = "victims"
    OPERATIONS = "operations"
    TASKS = "tasks"


class SubjectKind(StrEnum):
    """The record that collected the data, and so the unit of erasure."""

    LEAD = "lead"
    TASK = "task"
    OPERATION = "operation"


DEFAULT_KEEP_DAYS: Mapping[DataCategory, int] = MappingProxyType(
    {
        DataCategory.LEADS: 1095,
        DataCategory.PERSONS: 1095,
        DataCategory.VICTIMS: 180,
        DataCategory.OPERATIONS: 365,
        DataCategory.TASKS: 1095,
    }
)
"""Days a category is kept after a subject's last activity when neither the owning team nor the
JIT set a period.

LED 2016/680 Art. 5 requires a time limit for erasure or a periodic review of the need to keep
data, without setting one; the defaults are that limit when a JIT forgot to set its own. Three
years for leads, persons and tasks: the point at which Europol, the agency JITs share data with,
must review whether to keep data it processes (Regulation 2016/794 Art. 31). Victims' data 180
days: the most protected category, kept while a referral is live (the design's six months), so
a team that needs it longer says so after a review (``ExtendRetention``), never by default.
Operations one year: a place and a time window matter to deconfliction only until the operation
is over, and a year covers its follow-up. A subject's activity restarts the period.
"""

DEFAULT_REVIEW_DAYS = 30
"""Days before erasure the owning team is reminded by default: a month to decide to extend."""

MAX_KEEP_DAYS = 36_500
MAX_REVIEW_DAYS = 365
MAX_EXTENSION_DAYS = 3_650

SubjectId = Annotated[str, Field(pattern=ID_PATTERN)]
TeamCode = Annotated[str, Field(pattern=TEAM_PATTERN)]
MemberId = Annotated[str, Field(pattern=ID_PATTERN)]
Reason = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2_000,
        description="Why, in words that name no person: it is kept in the audit trail for ever.",
    ),
]


# --- commands ---------------------------------------------------------------------------------


class RetentionCommand(Command):
    """A command about one subject; the subject id is the partition key and the aggregate id."""

    subject_id: SubjectId
    subject_kind: SubjectKind


class EraseSubject(RetentionCommand):
    """The owning team's coordinator or team lead erases a subject before its period ends."""

    type = "interlock.retention.erase_subject"

    reason: Reason


class ExtendRetention(RetentionCommand):
    """The owning team keeps a subject longer after a review; audited as an alteration."""

    type = "interlock.retention.extend"

    days: int = Field(ge=1, le=MAX_EXTENSION_DAYS, description="Days added to the period.")
    reason: Reason


class CheckRetention(RetentionCommand):
    """A timer's tick: the subject's one writer emits whatever reminder or erasure is due now.

    Sent by the retention service's own deadline timer; a tick that arrives twice, or from
    anyone else, finds nothing more due than the deadlines kept in the subject's record.
    """

    type = "interlock.retention.check"


# --- events -----------------------------------------------------------------------------------


class RetentionEvent(Event):
    """Something that happened to one subject's retention, at ``at`` (when it was decided)."""

    subject_id: SubjectId
    subject_kind: SubjectKind
    at: AwareDatetime


class ReviewDue(RetentionEvent):
    """A reminder to the owning team: the subject is erased after ``erase_after`` unless kept."""

    type = "interlock.retention.review_due"

    owner_team: TeamCode
    categories: tuple[DataCategory, ...] = Field(min_length=1)
    erase_after: AwareDatetime


class RetentionExtended(RetentionEvent):
    """The owning team kept the subject ``days`` longer; it is now erased after ``erase_after``."""

    type = "interlock.retention.extended"

    by: MemberId
    days: int = Field(ge=1, le=MAX_EXTENSION_DAYS)
    reason: Reason
    erase_after: AwareDatetime


class SubjectErased(RetentionEvent):
    """A subject's data is to be erased everywhere: its key destroyed, its state dropped.

    ``cause`` is ``retention`` when its period ended (``by`` is None, ``reason`` names the
    period) or ``request`` when the owning team asked (``by`` the member, ``reason`` theirs).
    """

    type = "interlock.retention.subject_erased"

    owner_team: TeamCode
    categories: tuple[DataCategory, ...] = Field(min_length=1)
    cause: Literal["retention", "request"]
    by: MemberId | None
    reason: Reason


ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(EraseSubject, RETENTION_COMMANDS),
    CatalogueEntry(ExtendRetention, RETENTION_COMMANDS),
    CatalogueEntry(CheckRetention, RETENTION_COMMANDS),
    CatalogueEntry(ReviewDue, RETENTION_EVENTS),
    CatalogueEntry(RetentionExtended, RETENTION_EVENTS),
    CatalogueEntry(SubjectErased, RETENTION_EVENTS),
)
