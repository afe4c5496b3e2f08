"""The leads the benchmarks submit: one suspect with a date of birth, one victim, and five
identifiers each (phone, e-mail, handle, ad URL, identity document), as a JIT member or a
national system would send them. A share of the identifiers is also held by another team's
lead, so that deconfliction has hits to find and the graph has cross-team links.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from events.codec import encode, envelop
from events.directory import DeskRegistered, JitRegistered, MemberRegistered, Role
from events.envelope import Actor, Envelope
from events.handling import Handling
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import (
    InformationCredibility,
    SourceReliability,
    SourceType,
    SubmitLead,
    lead_id_for,
)

IDENTIFIERS_PER_LEAD = 5
EVENTS_PER_LEAD = 1 + 2 + IDENTIFIERS_PER_LEAD
"""LeadSubmitted, one EntityObserved per person and per identifier (the outcome not counted)."""

SOURCE = "/interlock/bench"


@dataclass(frozen=True)
class Jit:
    """A JIT of the run: its id and member teams (the first is the coordinator)."""

    id: str
    teams: tuple[str, ...]

    @classmethod
    def new(cls, count: int = 3) -> Jit:
        tag = uuid.uuid4().hex[:6].upper()
        countries = ("NL", "RO", "BE", "IT", "DE", "FR", "ES", "PL")
        return cls(f"bench-{tag.lower()}", tuple(f"{c}-B{tag}" for c in countries[:count]))

    def directory(self) -> list[Envelope]:
        """The directory records that make the JIT, its teams' desks and members known."""
        from services.admin import desk_record, jit_record, member_record

        records = [
            jit_record(
                JitRegistered(
                    jit_id=self.id,
                    name="Benchmark JIT",
                    legal_basis="Benchmark run; no real case",
                    coordinator_team=self.teams[0],
                    member_teams=self.teams,
                    starts_on=date(2026, 1, 1),
                )
            )
        ]
        for team in self.teams:
            records.append(
                desk_record(
                    DeskRegistered(
                        team=team,
                        name=f"{team} desk",
                        phone="+31 70 000 0000",
                        email="desk@example.org",
                    )
                )
            )
            records.append(
                member_record(
                    MemberRegistered(
                        member_id=f"desk-{team.lower()}",
                        team=team,
                        display_name=f"{team} desk officer",
                        roles=(Role.DESK_OFFICER,),
                        jits=(self.id,),
                    )
                )
            )
        records.append(
            member_record(
                MemberRegistered(
                    member_id=f"analyst-{self.teams[0].lower()}",
                    team=self.teams[0],
                    display_name="Benchmark analyst",
                    roles=(Role.ANALYST,),
                    jits=(self.id,),
                )
            )
        )
        return records


def identifiers(n: int, tag: str, *, shared: int | None = None) -> tuple[Identifier, ...]:
    """Five identifiers of lead ``n``; with ``shared``, the handle is the one lead ``shared``
    has too (so two leads, of different teams, hold the same target)."""
    handle = shared if shared is not None else n
    return (
        Identifier(
            kind=IdentifierKind.PHONE,
            value=f"+40 72{n // 10**6 % 10} {n // 1000 % 1000:03d} {n % 1000:03d}",
            person=0,
        ),
        Identifier(kind=IdentifierKind.EMAIL, value=f"p{n}.{tag}@example.org", person=0),
        Identifier(kind=IdentifierKind.HANDLE, value=f"telegram:h{tag}{handle}", person=1),
        Identifier(kind=IdentifierKind.URL, value=f"https://ads.example.org/{tag}/{n}"),
        Identifier(kind=IdentifierKind.DOCUMENT, country="RO", value=f"X{tag[:6]}{n:09d}"),
    )


def persons(n: int) -> tuple[Person, ...]:
    rng = random.Random(n)
    born = date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
    return (
        Person(name=f"Suspect {n} Popescu", role=PersonRole.SUSPECT, date_of_birth=born),
        Person(name=f"Victim {n} Ionescu", role=PersonRole.VICTIM),
    )


def submit_lead(
    jit: Jit,
    team: str,
    n: int,
    tag: str,
    *,
    shared: int | None = None,
    releasable_to: tuple[str, ...] = (),
    correlation_id: str | None = None,
) -> Envelope:
    """A ``SubmitLead`` command envelope, as the gateway would write it to the command topic."""
    key = f"bench-{tag}-{n}"
    lead_id = lead_id_for(team, key)
    command = SubmitLead(
        actor=Actor(member="bench-analyst", team=team, roles=("analyst",)),
        lead_id=lead_id,
        idempotency_key=key,
        source=SourceType.HOTLINE,
        received_at=datetime.now(UTC),
        summary=f"Benchmark lead {n}: workers housed at a farm, passports held.",
        reliability=SourceReliability.B,
        credibility=InformationCredibility.HEARSAY_CORROBORATED,
        persons=persons(n),
        identifiers=identifiers(n, tag, shared=shared),
    )
    return envelop(
        command,
        subject=lead_id,
        jit=jit.id,
        originator=team,
        source=SOURCE,
        correlation_id=correlation_id or str(uuid.uuid4()),
        releasable_to=frozenset(releasable_to),
        handling=Handling(),
    )


def lead_stream(
    jit: Jit, count: int, tag: str, *, start: int = 0, share_every: int = 10
) -> list[tuple[bytes, bytes]]:
    """``count`` encoded lead commands (key, value), round-robin over the JIT's teams; every
    ``share_every``-th lead holds the handle of the lead before it (another team's)."""
    out: list[tuple[bytes, bytes]] = []
    for n in range(start, start + count):
        team = jit.teams[n % len(jit.teams)]
        shared = n - 1 if share_every and n % share_every == 0 and n > start else None
        env = submit_lead(jit, team, n, tag, shared=shared)
        out.append((env.subject.encode(), encode(env)))
    return out


def lead_body(n: int, tag: str, *, shared: int | None = None) -> dict[str, Any]:
    """The same lead as a JSON body for ``POST /jits/{jit}/leads``."""
    return {
        "idempotency_key": f"bench-http-{tag}-{n}",
        "source": "hotline",
        "summary": f"Benchmark lead {n}: workers housed at a farm, passports held.",
        "reliability": "B",
        "credibility": "3",
        "persons": [p.model_dump(mode="json", exclude_none=True) for p in persons(n)],
        "identifiers": [
            i.model_dump(mode="json", exclude_none=True)
            for i in identifiers(n, f"h{tag}", shared=shared)
        ],
    }


def raise_alert(jit: Jit, n: int, tag: str) -> tuple[bytes, bytes]:
    """An encoded ``RaiseAlert`` (P3, suspect movement) for every desk of the JIT, keyed by JIT
    as the alerts service wants its commands (one writer per JIT)."""
    from events.alerts import Category, RaiseAlert, Severity
    from services.alerts.domain import alert_id_for

    team = jit.teams[0]
    alert_id = alert_id_for(f"bench/{tag}/{n}")
    command = RaiseAlert(
        actor=Actor(member="bench-analyst", team=team, roles=("analyst",)),
        alert_id=alert_id,
        jit=jit.id,
        severity=Severity.P3,
        category=Category.SUSPECT_MOVEMENT,
        target_teams=jit.teams,
        summary=f"Benchmark alert {n}: vehicle of interest crossed the border.",
    )
    env = envelop(
        command,
        subject=alert_id,
        jit=jit.id,
        originator=team,
        source=SOURCE,
        correlation_id=str(uuid.uuid4()),
        releasable_to=frozenset(jit.teams) - {team},
    )
    return jit.id.encode(), encode(env)


def register_jit(run: Any, teams: int) -> Jit:
    """A new JIT written to the run's directory, and remembered so that the run deletes what
    the projection wrote of it."""
    from services.admin import publish

    jit = Jit.new(teams)
    publish(run.settings, jit.directory())
    run.shared.setdefault("jits", []).append(jit)
    return jit


def bench_jit(run: Any) -> Jit:
    """The run's JIT (three teams with desks), written to the directory once."""
    if "jit" not in run.shared:
        run.shared["jit"] = register_jit(run, 3)
        run.shared["tag"] = uuid.uuid4().hex[:6]
    found: Jit = run.shared["jit"]
    return found
