"""The demo JIT: four national teams, their desks and members, and a scenario that keeps
producing leads (and, as the services land, tasks, operations and alerts) through the gateway."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from events.directory import (
    DeskRegistered,
    JitRegistered,
    MemberRegistered,
    RetentionPolicySet,
    Role,
    TeamRegistered,
)
from events.retention import DataCategory
from services.admin import (
    desk_record,
    directory_envelope,
    jit_record,
    member_record,
    publish,
    team_record,
)
from services.kit.identity import Issuer
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

JIT_ID = "jit-ember"
TEAMS = {
    "NL-KLPD": "Netherlands National Police, Central Unit",
    "RO-DIICOT": "Romania, Directorate for Investigating Organised Crime and Terrorism",
    "BG-GDBOP": "Bulgaria, Chief Directorate Combating Organised Crime",
    "DE-BKA": "Germany, Federal Criminal Police Office",
}
COORDINATOR = "NL-KLPD"


@dataclass(frozen=True)
class DemoAccount:
    member: str
    team: str
    name: str
    roles: tuple[str, ...]


ACCOUNTS = (
    DemoAccount("anna.devries", "NL-KLPD", "Anna de Vries", ("investigator", "coordinator")),
    DemoAccount("joost.bakker", "NL-KLPD", "Joost Bakker", ("desk_officer", "team_lead")),
    DemoAccount("ioana.popa", "RO-DIICOT", "Ioana Popa", ("investigator", "analyst")),
    DemoAccount("mihai.stan", "RO-DIICOT", "Mihai Stan", ("desk_officer",)),
    DemoAccount("elena.petrova", "BG-GDBOP", "Elena Petrova", ("investigator", "desk_officer")),
    DemoAccount("lukas.weber", "DE-BKA", "Lukas Weber", ("analyst", "desk_officer")),
    DemoAccount("ro-case-system", "RO-DIICOT", "RO national case system", ("national_system",)),
)


DEMO_RETENTION = {
    DataCategory.LEADS: 730,
    DataCategory.PERSONS: 730,
    DataCategory.VICTIMS: 180,
    DataCategory.OPERATIONS: 365,
    DataCategory.TASKS: 730,
}
"""The demo JIT agreement's periods (days after last activity): two years, victims six months."""


def directory_records() -> list[Any]:
    records = [
        jit_record(
            JitRegistered(
                jit_id=JIT_ID,
                name="JIT EMBER (trafficking for sexual and labour exploitation)",
                legal_basis="Council Framework Decision 2002/465/JHA; JIT agreement 2026/17",
                coordinator_team=COORDINATOR,
                member_teams=tuple(TEAMS),
                starts_on=date(2026, 1, 15),
                ends_on=date(2027, 12, 31),
            )
        )
    ]
    for code, name in TEAMS.items():
        records.append(team_record(TeamRegistered(team=code, name=name, country=code[:2])))
        lead = next(
            (a.member for a in ACCOUNTS if a.team == code and "team_lead" in a.roles),
            None,
        )
        records.append(
            desk_record(
                DeskRegistered(
                    team=code,
                    name=f"{code} rapid-response desk",
                    phone=f"+{10 + len(records)} 555 0100",
                    email=f"desk@{code.lower()}.jit.example",
                    team_lead=lead,
                )
            )
        )
    records += [
        directory_envelope(policy, subject=policy.key)
        for policy in (
            RetentionPolicySet(
                jit_id=JIT_ID,
                team=None,
                category=category,
                keep_days=keep,
                review_days=30,
                set_by="anna.devries",
            )
            for category, keep in DEMO_RETENTION.items()
        )
    ]
    for account in ACCOUNTS:
        records.append(
            member_record(
                MemberRegistered(
                    member_id=account.member,
                    team=account.team,
                    display_name=account.name,
                    roles=tuple(Role(r) for r in account.roles),
                    jits=(JIT_ID,),
                )
            )
        )
    return records


def tokens(settings: Settings) -> dict[str, str]:
    issuer = Issuer(settings)
    return {
        a.member: issuer.issue(member=a.member, team=a.team, jits=[JIT_ID], roles=a.roles)
        for a in ACCOUNTS
    }


def load(settings: Settings) -> dict[str, Any]:
    """Write the demo directory and return the accounts with their tokens."""
    publish(settings, directory_records())
    issued = tokens(settings)
    return {
        "jit": JIT_ID,
        "accounts": [
            {
                "member": a.member,
                "team": a.team,
                "roles": list(a.roles),
                "token": issued[a.member],
            }
            for a in ACCOUNTS
        ],
    }


PHONES = [
    "+40 721 555 {:03d}",
    "+31 6 5555 {:04d}",
    "+359 88 555 {:04d}",
    "+49 151 5555 {:04d}",
]
NAMES = [
    "Ion Popescu",
    "Vasile Ionescu",
    "Georgi Dimitrov",
    "Maria Stoica",
    "Elena Marin",
    "Andrei Radu",
    "Petar Ivanov",
    "Daniela Georgieva",
]


def scenario_lead(rng: random.Random, n: int) -> dict[str, Any]:
    """One plausible lead; a small pool of identifiers makes teams collide (deconfliction hits)."""
    name = rng.choice(NAMES)
    phone = rng.choice(PHONES).format(rng.randint(1, 40))
    role = rng.choice(["suspect", "suspect", "victim", "witness"])
    return {
        "idempotency_key": f"scenario-{n}-{uuid.uuid4().hex[:8]}",
        "source": rng.choice(
            ["hotline", "ngo", "osint", "border_screening", "financial_intelligence"]
        ),
        "received_at": datetime.now(UTC).isoformat(),
        "summary": rng.choice(
            [
                "Online advert offering 'escort services' with a recruiter's phone number.",
                "NGO reports workers housed at a farm, passports held by the employer.",
                "Border screening: minor travelling with an unrelated adult.",
                "Suspicious transfers from several accounts to one IBAN.",
            ]
        ),
        "reliability": rng.choice("ABCDX"),
        "credibility": rng.choice("1234"),
        "persons": [{"name": name, "role": role}],
        "identifiers": [{"kind": "phone", "value": phone, "person": 0}],
    }


HOTSPOTS = [(52.3676, 4.9041), (44.4268, 26.1025), (42.6977, 23.3219), (52.5200, 13.4050)]


def scenario_task(rng: random.Random, n: int, team: str) -> dict[str, Any]:
    """A request from one team to another, sometimes an information request, sometimes MLA."""
    to_team = rng.choice([t for t in TEAMS if t != team])
    now = datetime.now(UTC)
    kind = rng.choice(["information_request", "investigative_action", "legal_assistance"])
    details: dict[str, Any] = {"kind": kind}
    if kind == "legal_assistance":
        details |= {
            "legal_basis": "Directive 2014/41/EU (European Investigation Order)",
            "requested_measure": "Production of subscriber data for a phone number",
        }
    return {
        "idempotency_key": f"scenario-task-{n}-{uuid.uuid4().hex[:6]}",
        "to_team": to_team,
        "title": rng.choice(
            [
                "Identify subscriber",
                "Check border crossings",
                "Locate premises",
                "Financial profile of account holder",
            ]
        ),
        "description": "Requested in the course of JIT EMBER.",
        "priority": rng.choice(["normal", "high", "urgent"]),
        "respond_by": (now + timedelta(minutes=rng.choice([2, 10, 60]))).isoformat(),
        "due_at": (now + timedelta(hours=rng.choice([1, 24, 72]))).isoformat(),
        "details": details,
    }


def scenario_operation(rng: random.Random, n: int) -> dict[str, Any]:
    """An operation near one of a few hotspots, so that teams' plans sometimes collide."""
    lat, lon = rng.choice(HOTSPOTS)
    start = datetime.now(UTC) + timedelta(hours=rng.randint(1, 48))
    return {
        "idempotency_key": f"scenario-op-{n}-{uuid.uuid4().hex[:6]}",
        "kind": rng.choice(["arrest", "search", "surveillance", "victim_rescue"]),
        "place": {
            "latitude": lat + rng.uniform(-0.01, 0.01),
            "longitude": lon + rng.uniform(-0.01, 0.01),
            "radius_m": rng.choice([200, 500, 1000]),
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=rng.randint(2, 8))).isoformat(),
        },
    }


def scenario_alert(rng: random.Random, n: int, team: str) -> dict[str, Any]:
    return {
        "idempotency_key": f"scenario-alert-{n}-{uuid.uuid4().hex[:6]}",
        "severity": rng.choice(["P1", "P2", "P3", "P3", "P4"]),
        "category": rng.choice(["victim_at_risk", "suspect_movement", "other"]),
        "target_teams": sorted({team, rng.choice(list(TEAMS))}),
        "summary": rng.choice(
            [
                "Suspect vehicle observed crossing the border at Giurgiu.",
                "Victim reported moved to a new address tonight.",
                "Recruiter active again on the same classifieds site.",
            ]
        ),
    }


async def run_scenario(
    base_url: str, settings: Settings, *, interval: float = 5.0, stop: asyncio.Event | None = None
) -> None:
    """Keep the demo alive: teams submit leads, request tasks, plan operations and raise alerts
    through the gateway, as their members and national systems would."""
    import httpx

    issued = tokens(settings)
    rng = random.Random(17)
    actors = [a for a in ACCOUNTS if "investigator" in a.roles or "national_system" in a.roles]
    n = 0
    verify: str | bool = settings.gateway_tls_cert or True  # the served chain ends in the CA
    async with httpx.AsyncClient(base_url=base_url, timeout=10, verify=verify) as client:
        while stop is None or not stop.is_set():
            account = rng.choice(actors)
            n += 1
            roll = rng.random()
            if roll < 0.6:
                what, path, body = "lead", f"/jits/{JIT_ID}/leads", scenario_lead(rng, n)
            elif roll < 0.75:
                what, path = "task", f"/jits/{JIT_ID}/tasks"
                body = scenario_task(rng, n, account.team)
            elif roll < 0.9:
                what, path, body = (
                    "operation",
                    f"/jits/{JIT_ID}/operations",
                    scenario_operation(rng, n),
                )
            else:
                what, path = "alert", f"/jits/{JIT_ID}/alerts"
                body = scenario_alert(rng, n, account.team)
            try:
                response = await client.post(
                    path, json=body, headers={"Authorization": f"Bearer {issued[account.member]}"}
                )
                log.info("scenario", what=what, status=response.status_code, team=account.team)
            except httpx.HTTPError as exc:
                log.warning("scenario step failed", what=what, error=type(exc).__name__)
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    accounts = load(settings)
    if args.json:
        print(json.dumps(accounts, indent=2))
    return 0


def add_commands(sub: Any) -> None:
    """Register ``demo`` on the ``interlock`` parser."""
    demo = sub.add_parser("demo", help="load the demo JIT and print its log-ins")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=_demo)
