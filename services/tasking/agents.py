"""The tasking service's faust wiring: task commands and deadline ticks in, task events out.

One writer per task: commands are keyed by task id, the task lives in a changelog-backed table,
and its deadlines live in its state, so a restarted worker picks them up where they were. The
deadline timer only publishes ``CheckTaskDeadlines`` ticks; the task's writer applies them.
TaskOverdue goes to ``interlock.tasking.events``, where the alerts service raises the alert to
the responsible team's desk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import faust

from events.codec import envelop
from events.envelope import Actor, Envelope, new_id
from events.retention import SubjectKind
from events.tasking import CheckTaskDeadlines
from events.topics import TASK_COMMANDS
from services.kit.settings import Settings
from services.kit.streams import Deadlines, Domain, command_processor, create_app
from services.tasking import domain
from services.tasking.domain import TaskState, next_deadline
from services.tasking.settings import TaskingSettings, load_tasking_settings

SOURCE = "/interlock/tasking"
TIMER_MEMBER = "tasking-deadlines"
"""The member id deadline ticks are issued as: the service itself, not a person."""

TASKS = Domain(
    name="task",
    state_model=TaskState,
    decide=domain.decide_addressed,
    evolve=domain.evolve,
    source=SOURCE,
)


def _addressing(cause: Envelope) -> dict[str, Any]:
    return {"jit": cause.jit, "subject": cause.subject}


def deadline_tick(task_id: str, state: TaskState, now: datetime) -> Envelope:
    """A tick for one task, addressed like the task's own events (on the requester's behalf)."""
    command = CheckTaskDeadlines(
        task_id=task_id,
        actor=Actor(member=TIMER_MEMBER, team=state.requester_team),
    )
    return envelop(
        command,
        subject=task_id,
        jit=state.jit,
        originator=state.requester_team,
        source=SOURCE,
        correlation_id=new_id(),
        releasable_to=state.audience - {state.requester_team},
        handling=state.handling,
    )


def build(settings: Settings, tasking: TaskingSettings | None = None) -> faust.App:
    """The tasking worker: one writer per task; deadlines checked by a timer, kept in state."""
    tasking = tasking or load_tasking_settings()
    app = create_app(
        "tasking",
        settings,
        broker_session_timeout=tasking.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, tasking.session_timeout_seconds / 3),
    )
    command_processor(
        app,
        settings,
        domain=TASKS,
        commands=TASK_COMMANDS,
        context=_addressing,
        erasable=SubjectKind.TASK,
        deadlines=Deadlines(
            next_due=next_deadline,
            tick=deadline_tick,
            interval=tasking.deadline_check_seconds,
        ),
    )
    return app
