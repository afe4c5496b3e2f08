"""The demo JIT: four national teams, their desks and members, and a scenario that keeps
producing leads (and, as the services land, tasks, operations and alerts) through the gateway."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from events.directory import (
    DeskRegistered,
    JitRegistered,
    MemberRegistered,
    Role,
    TeamRegistered,
)
from services.admin import desk_record, jit_record, member_record, publish, team_record
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


async def run_scenario(
    base_url: str,
    settings: Settings,
    *,
    interval: float = 5.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Keep the demo alive: each team submits leads now and then through the gateway."""
    import httpx

    issued = tokens(settings)
    rng = random.Random(17)
    submitters = [a for a in ACCOUNTS if "investigator" in a.roles or "national_system" in a.roles]
    n = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        while stop is None or not stop.is_set():
            account = rng.choice(submitters)
            n += 1
            try:
                response = await client.post(
                    f"/jits/{JIT_ID}/leads",
                    json=scenario_lead(rng, n),
                    headers={"Authorization": f"Bearer {issued[account.member]}"},
                )
                log.info("scenario lead", status=response.status_code, team=account.team)
            except httpx.HTTPError as exc:
                log.warning("scenario lead failed", error=type(exc).__name__)
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))
