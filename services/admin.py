"""The JIT administrator's commands: the directory (JITs, teams, desks, members) and tokens.

Directory records are whole-state events on the compacted directory topic, keyed by the
record's id, so writing one again replaces it.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from events.codec import envelop
from events.directory import (
    DIRECTORY_JIT,
    DeskRegistered,
    JitRegistered,
    MemberRegistered,
    Role,
    TeamRegistered,
)
from events.envelope import Envelope, Event, new_id
from services.kit.settings import Settings

SOURCE = "/interlock/admin"
ADMIN_TEAM = "EU-INTERLOCK"
"""The originator of directory records: the platform's administration, not a national team."""


def directory_envelope(event: Event, *, subject: str, jit: str = DIRECTORY_JIT) -> Envelope:
    return envelop(
        event,
        subject=subject,
        jit=jit,
        originator=ADMIN_TEAM,
        source=SOURCE,
        correlation_id=new_id(),
    )


def jit_record(jit: JitRegistered) -> Envelope:
    return directory_envelope(jit, subject=f"jit:{jit.jit_id}", jit=jit.jit_id)


def team_record(team: TeamRegistered) -> Envelope:
    return directory_envelope(team, subject=f"team:{team.team}")


def desk_record(desk: DeskRegistered) -> Envelope:
    return directory_envelope(desk, subject=f"desk:{desk.team}")


def member_record(member: MemberRegistered) -> Envelope:
    return directory_envelope(member, subject=f"member:{member.member_id}")


def publish(settings: Settings, envelopes: list[Envelope]) -> None:
    from services.kit.kafka import Publisher

    publisher = Publisher(settings)
    try:
        publisher.publish(envelopes)
    finally:
        publisher.close()


def _jit_create(args: argparse.Namespace, settings: Settings) -> int:
    record = JitRegistered(
        jit_id=args.id,
        name=args.name,
        legal_basis=args.legal_basis,
        coordinator_team=args.coordinator,
        member_teams=tuple(args.team),
        starts_on=date.fromisoformat(args.starts),
        ends_on=date.fromisoformat(args.ends) if args.ends else None,
        cross_jit_matching=args.cross_jit,
    )
    publish(settings, [jit_record(record)])
    print(f"JIT {args.id} registered with teams {', '.join(args.team)}")
    return 0


def _team_add(args: argparse.Namespace, settings: Settings) -> int:
    publish(
        settings,
        [team_record(TeamRegistered(team=args.code, name=args.name, country=args.code[:2]))],
    )
    print(f"team {args.code} registered")
    return 0


def _desk_add(args: argparse.Namespace, settings: Settings) -> int:
    desk = DeskRegistered(
        team=args.team,
        name=args.name,
        phone=args.phone,
        email=args.email,
        team_lead=args.team_lead,
        webhook_url=args.webhook,
    )
    publish(settings, [desk_record(desk)])
    print(f"desk of {args.team} registered")
    return 0


def _member_add(args: argparse.Namespace, settings: Settings) -> int:
    member = MemberRegistered(
        member_id=args.id,
        team=args.team,
        display_name=args.name,
        roles=tuple(Role(r) for r in args.role),
        jits=tuple(args.jit),
    )
    publish(settings, [member_record(member)])
    print(f"member {args.id} of {args.team} registered")
    return 0


def _token_issue(args: argparse.Namespace, settings: Settings) -> int:
    from services.kit.identity import Issuer

    token = Issuer(settings).issue(
        member=args.member,
        team=args.team,
        jits=args.jit,
        roles=args.role,
        ttl_seconds=args.ttl,
    )
    print(token)
    return 0


def add_commands(sub: Any) -> None:
    """Register ``directory`` and ``token`` on the ``interlock`` parser."""
    directory = sub.add_parser("directory", help="manage JITs, teams, desks and members")
    dsub = directory.add_subparsers(dest="entity", required=True)

    jit = dsub.add_parser("jit-create", help="register a JIT and its member teams")
    jit.add_argument("--id", required=True)
    jit.add_argument("--name", required=True)
    jit.add_argument("--legal-basis", required=True)
    jit.add_argument("--coordinator", required=True, help="coordinating team code")
    jit.add_argument("--team", action="append", required=True, help="member team (repeat)")
    jit.add_argument("--starts", default=date.today().isoformat())
    jit.add_argument("--ends")
    jit.add_argument("--cross-jit", action="store_true", help="agreement allows cross-JIT matching")
    jit.set_defaults(handler=_jit_create)

    team = dsub.add_parser("team-add", help="register a national team")
    team.add_argument("--code", required=True, help="e.g. NL-KLPD")
    team.add_argument("--name", required=True)
    team.set_defaults(handler=_team_add)

    desk = dsub.add_parser("desk-add", help="register a team's rapid-response desk")
    desk.add_argument("--team", required=True)
    desk.add_argument("--name", required=True)
    desk.add_argument("--phone", required=True)
    desk.add_argument("--email", required=True)
    desk.add_argument("--team-lead")
    desk.add_argument("--webhook")
    desk.set_defaults(handler=_desk_add)

    member = dsub.add_parser("member-add", help="register a member and their roles")
    member.add_argument("--id", required=True)
    member.add_argument("--team", required=True)
    member.add_argument("--name", required=True)
    member.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    member.add_argument("--jit", action="append", default=[])
    member.set_defaults(handler=_member_add)

    token = sub.add_parser("token", help="issue credentials")
    tsub = token.add_subparsers(dest="action", required=True)
    issue = tsub.add_parser("issue", help="print a signed bearer token from the local issuer")
    issue.add_argument("--member", required=True)
    issue.add_argument("--team", required=True)
    issue.add_argument("--jit", action="append", default=[])
    issue.add_argument("--role", action="append", default=[])
    issue.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    issue.set_defaults(handler=_token_issue)
