"""The process roles, written once: what each role runs, serves and is tested by.

The CLI (``interlock <role>``), the supervisor (``interlock run-all``), the gateway (its routers),
provisioning and the test groups all read this table, so a new service is one entry here plus its
folder under ``services/``. Modules are named, not imported: reading the table loads no service.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from events import topics as t
from events.topics import TopicSpec

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter, FastAPI

    from services.kit.settings import Settings


class Stoppable(Protocol):
    """What a service's gateway part returns: stopped when the gateway stops."""

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ProcessRole:
    """One service: its worker, its HTTP router on the gateway, its admin commands, its tests."""

    name: str
    worker: str | None = None
    """Module whose ``build(settings) -> faust.App`` makes the role's worker."""
    routers: tuple[str, ...] = ()
    """``module:attribute`` of each FastAPI router the gateway mounts for the service."""
    consulted: tuple[str, ...] = ()
    """Routers whose reads the audit service records as consultations (justified reads)."""
    on_gateway: str | None = None
    """``module:function`` taking ``(app, settings)`` that wires, in the gateway's lifespan, what
    the service's routers need (read models, stores); it returns what to stop with the gateway."""
    topics: tuple[TopicSpec, ...] = ()
    """The topics the worker reads, where they are a fixed set (projection and release read
    every event topic of the catalogue); provisioning creates them with the catalogue's."""
    writes: tuple[TopicSpec, ...] = ()
    """The topics the worker writes: its events, the outcomes of its commands, whatever else it
    produces (``services.principals`` grants its Kafka principal these and nothing more)."""
    reads_events: bool = False
    """The worker reads every event topic of the catalogue (projection, release, indicators)."""
    read_prefixes: tuple[str, ...] = ()
    """Logical topic-name prefixes it reads (per-team feeds, national systems' command topics)."""
    write_prefixes: tuple[str, ...] = ()
    """Logical topic-name prefixes it creates and writes (per-team feeds)."""
    commands: str | None = None
    """Module with ``add_commands(subparsers)``: the service's administration commands."""
    test_group: str | None = None
    """The integration test folder that exercises the role against real Kafka and Neo4j."""

    def build(self, settings: Settings) -> faust.App:
        """The role's faust app (a role without a worker has none)."""
        if self.worker is None:
            raise LookupError(f"{self.name} has no worker")
        app: faust.App = importlib.import_module(self.worker).build(settings)
        return app

    def start_on_gateway(self, app: FastAPI, settings: Settings) -> Stoppable | None:
        """Wire the service's part of the gateway (None for a service that needs none)."""
        if self.on_gateway is None:
            return None
        part: Stoppable = _load(self.on_gateway)(app, settings)
        return part


def _load(reference: str) -> Any:
    """The object a ``module:attribute`` reference names."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


ROLES: tuple[ProcessRole, ...] = (
    ProcessRole(
        "leads",
        worker="services.leads.agents",
        topics=(t.LEAD_COMMANDS, t.RETENTION_EVENTS),
        writes=(t.LEAD_EVENTS, t.OUTCOMES),
        routers=("services.leads.http:router",),
        test_group="tests/integration/leads",
    ),
    ProcessRole(
        "alerts",
        worker="services.alerts.agents",
        topics=(
            t.ALERT_COMMANDS,
            t.ALERT_EVENTS,
            t.LEAD_EVENTS,
            t.TASK_EVENTS,
            t.DECONFLICTION_EVENTS,
            t.DIRECTORY,
            t.RETENTION_EVENTS,
        ),
        writes=(t.ALERT_COMMANDS, t.ALERT_EVENTS, t.OUTCOMES),
        routers=("services.alerts.http:router",),
        test_group="tests/integration/alerts",
    ),
    ProcessRole(
        "projection",
        worker="services.projection.agents",
        topics=(t.DIRECTORY,),
        reads_events=True,
        consulted=("services.projection.http:router",),
        commands="services.projection.cli",
        test_group="tests/integration/projection",
    ),
    ProcessRole(
        "release",
        worker="services.release.agents",
        routers=("services.release.http:router",),
        topics=(t.SHARES, t.DIRECTORY),
        reads_events=True,
        writes=(t.SHARES, t.AUDIT, t.OUTCOMES, *t.COMMAND_TOPICS),
        read_prefixes=tuple(f"{spec.name}." for spec in t.COMMAND_TOPICS),
        write_prefixes=(t.FEED_PREFIX,),
        commands="services.release.cli",
        test_group="tests/integration/release",
    ),
    ProcessRole(
        "tasking",
        worker="services.tasking.agents",
        topics=(t.TASK_COMMANDS, t.RETENTION_EVENTS),
        writes=(t.TASK_COMMANDS, t.TASK_EVENTS, t.OUTCOMES),
        routers=("services.tasking.http:router",),
        test_group="tests/integration/tasking",
    ),
    ProcessRole(
        "deconfliction",
        worker="services.deconfliction.agents",
        topics=(
            t.LEAD_EVENTS,
            t.DECONFLICTION_COMMANDS,
            t.DECONFLICTION_INDEX,
            t.DECONFLICTION_HITS,
            t.RETENTION_EVENTS,
            t.DIRECTORY,
        ),
        writes=(
            t.DECONFLICTION_COMMANDS,
            t.DECONFLICTION_EVENTS,
            t.DECONFLICTION_INDEX,
            t.DECONFLICTION_HITS,
            t.OUTCOMES,
        ),
        routers=("services.deconfliction.http:router",),
        test_group="tests/integration/deconfliction",
    ),
    ProcessRole(
        "audit",
        worker="services.audit.agents",
        topics=(
            t.LEAD_EVENTS,
            t.DECONFLICTION_EVENTS,
            t.TASK_EVENTS,
            t.ALERT_EVENTS,
            t.RETENTION_EVENTS,
            t.EVIDENCE_EVENTS,
            t.AUDIT,
            t.AUDIT_CHAIN,
        ),
        writes=(t.AUDIT, t.AUDIT_CHAIN),
        read_prefixes=(t.FEED_PREFIX,),
        commands="services.audit.cli",
        test_group="tests/integration/audit",
    ),
    ProcessRole(
        "retention",
        worker="services.retention.agents",
        topics=(
            t.LEAD_EVENTS,
            t.TASK_EVENTS,
            t.DECONFLICTION_EVENTS,
            t.RETENTION_COMMANDS,
            t.DIRECTORY,
        ),
        writes=(t.RETENTION_EVENTS, t.RETENTION_COMMANDS, t.OUTCOMES),
        routers=("services.retention.http:router",),
        test_group="tests/integration/retention",
    ),
    ProcessRole(
        "evidence",
        worker="services.evidence.agents",
        topics=(t.EVIDENCE_COMMANDS, t.RETENTION_EVENTS),
        writes=(t.EVIDENCE_EVENTS, t.OUTCOMES),
        routers=("services.evidence.http:router",),
        on_gateway="services.evidence.bootstrap:start_evidence",
        commands="services.evidence.cli",
        test_group="tests/integration/evidence",
    ),
    ProcessRole(
        "messaging",
        worker="services.messaging.agents",
        topics=(t.MESSAGE_COMMANDS, t.RETENTION_EVENTS),
        writes=(t.MESSAGE_EVENTS, t.OUTCOMES),
        routers=("services.messaging.http:router",),
        consulted=("services.messaging.http:reads",),
        on_gateway="services.messaging.bootstrap:Messaging",
        test_group="tests/integration/messaging",
    ),
    ProcessRole(
        "indicators",
        worker="services.indicators.agents",
        topics=(t.EVALUATION_COMMANDS, t.EVALUATION_EVENTS, t.AUDIT),
        reads_events=True,
        writes=(t.EVALUATION_EVENTS, t.OUTCOMES),
        routers=("services.indicators.http:router",),
        commands="services.indicators.cli",
        test_group="tests/integration/indicators",
    ),
)
"""Every service, in the order the gateway mounts their routers."""

GATEWAY = "gateway"
"""The HTTP gateway: a process role of its own that mounts the services' routers."""

GATEWAY_READS: tuple[TopicSpec, ...] = (
    t.OUTCOMES,
    t.DIRECTORY,
    t.SHARES,
    t.AUDIT_CHAIN,
    t.DECONFLICTION_HITS,
)
"""What the gateway reads besides every event topic: its commands' outcomes and the read models
its routers serve (the directory, the shares, the audit chain, the hits)."""

GATEWAY_WRITES: tuple[TopicSpec, ...] = (*t.COMMAND_TOPICS, t.AUDIT, t.DIRECTORY)
"""The gateway writes commands (every service's), audit records of the reads it serves, and the
retention periods a coordinator or team lead sets (directory records, checked by its router)."""

COMMON_READS: tuple[TopicSpec, ...] = (t.KEYS, t.DIRECTORY)
"""Every service reads the key ring (data keys, wrapped by the master key, which Kafka never
sees) and the directory of teams and members."""

COMMON_WRITES: tuple[TopicSpec, ...] = (t.KEYS, t.DEAD_LETTER)
"""Every service may create a data key and dead-letter a record it cannot handle."""


def principal(role_name: str) -> str:
    """The Kafka principal (SCRAM user) a process role connects as: ``svc-<role>``."""
    return f"svc-{role_name}"


ADMIN_COMMANDS = ("services.admin", "services.demo", "services.contracts")
"""Modules with ``add_commands(subparsers)`` that belong to no one service."""


def role(name: str) -> ProcessRole:
    for entry in ROLES:
        if entry.name == name:
            return entry
    raise LookupError(f"no process role {name!r}")


def workers() -> tuple[str, ...]:
    """The roles that run a faust worker."""
    return tuple(r.name for r in ROLES if r.worker is not None)


def process_roles() -> tuple[str, ...]:
    """Every process ``interlock run-all`` starts: the workers and the gateway."""
    return (*workers(), GATEWAY)


def routers() -> list[tuple[APIRouter, bool]]:
    """The services' routers in mounting order, each with whether its reads are consultations."""
    return [
        (_load(reference), consulted)
        for entry in ROLES
        for references, consulted in ((entry.routers, False), (entry.consulted, True))
        for reference in references
    ]


def topics() -> tuple[TopicSpec, ...]:
    """Every topic to provision: the catalogue's and those the roles read, once each."""
    seen: dict[str, TopicSpec] = {spec.name: spec for spec in t.ALL_TOPICS}
    for entry in ROLES:
        for spec in entry.topics:
            seen.setdefault(spec.name, spec)
    return tuple(seen.values())


def command_modules() -> tuple[str, ...]:
    return (*ADMIN_COMMANDS, *(r.commands for r in ROLES if r.commands is not None))
