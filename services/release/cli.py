"""``interlock national-system issue|rotate|acls|revoke`` and ``interlock feed subscribe``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from confluent_kafka.admin import AclBinding

from services.kit.settings import Settings
from services.release import subscriber
from services.release.credentials import (
    CredentialError,
    Credentials,
    NationalSystems,
    acl_bindings,
    check_team,
    grants,
    principal_name,
)

NATIONAL_BOOTSTRAP_ENV = ("INTERLOCK_NATIONAL_BOOTSTRAP", "KAFKA_SASL_BOOTSTRAP")
"""Where national systems connect (the SASL listener); told with the credentials."""


def national_bootstrap() -> str:
    for name in NATIONAL_BOOTSTRAP_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return "127.0.0.1:9094"


def national_tls() -> tuple[str, str]:
    """The national systems' security protocol and the CA file to give them with the
    credentials (deploy/infra.sh's ``KAFKA_SASL_PROTOCOL``/``KAFKA_CA_FILE``)."""
    protocol = os.environ.get("KAFKA_SASL_PROTOCOL", "SASL_SSL")
    return protocol, os.environ.get("KAFKA_CA_FILE", "") if protocol == "SASL_SSL" else ""


def _print_credentials(creds: Credentials, *, as_json: bool) -> None:
    protocol, ca_file = national_tls()
    told = {
        "team": creds.team,
        "bootstrap": national_bootstrap(),
        "security_protocol": protocol,
        "ca_certificate": ca_file or "-",
        "sasl_mechanism": creds.mechanism,
        "username": creds.principal,
        "password": creds.password,
        "feed_topic": creds.feed_topic,
        "consumer_group_prefix": creds.group_prefix,
        "command_topics": list(creds.command_topics),
    }
    if as_json:
        print(json.dumps(told, indent=2))
        return
    width = max(len(k) for k in told)
    for key, value in told.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key:<{width}}  {shown}")
    print(
        "\nThe password is shown this once and is not stored; keep it in the national system's "
        "secret store. `interlock national-system rotate` replaces it.",
        file=sys.stderr,
    )


def _team(args: argparse.Namespace) -> str | None:
    try:
        return check_team(args.team)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _issue(args: argparse.Namespace, settings: Settings) -> int:
    team = _team(args)
    if team is None:
        return 2
    try:
        creds = NationalSystems(settings).issue(team)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_credentials(creds, as_json=args.json)
    return 0


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    team = _team(args)
    if team is None:
        return 2
    try:
        creds = NationalSystems(settings).rotate(team)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_credentials(creds, as_json=args.json)
    return 0


def _acls(args: argparse.Namespace, settings: Settings) -> int:
    team = _team(args)
    if team is None:
        return 2
    systems = NationalSystems(settings)
    if args.apply:
        systems.ensure_topics(team)
        systems.grant(team)
    held = {_rule(b) for b in systems.acls(team)}
    rules = map(_rule, acl_bindings(settings, team))
    wanted = dict(zip(rules, grants(settings, team), strict=True))
    print(f"ACLs of User:{principal_name(settings, team)}:")
    for rule, grant in wanted.items():
        print(f"  {grant}{'' if rule in held else '   (MISSING)'}")
    for rule in sorted(held - set(wanted), key=str):
        print(f"  unexpected: {rule}")
    if set(wanted) - held:
        print("some rules are missing: run with --apply", file=sys.stderr)
        return 1
    return 0


def _rule(binding: AclBinding) -> tuple[str, ...]:
    return tuple(
        str(x)
        for x in (
            binding.restype,
            binding.name,
            binding.resource_pattern_type,
            binding.principal,
            binding.operation,
            binding.permission_type,
        )
    )


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    team = _team(args)
    if team is None:
        return 2
    NationalSystems(settings).revoke(team)
    print(f"revoked the national-system credentials and ACLs of {team}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``national-system`` and ``feed`` on the ``interlock`` parser."""
    ns = sub.add_parser(
        "national-system", help="issue, rotate and revoke a national system's Kafka credentials"
    )
    nsub = ns.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("issue", _issue, "create the principal, its topics and ACLs; print the password once"),
        ("rotate", _rotate, "replace the password; print the new one once"),
    ):
        cmd = nsub.add_parser(name, help=text)
        cmd.add_argument("--team", required=True, help="team code, e.g. RO-DIICOT")
        cmd.add_argument("--json", action="store_true", help="print as JSON")
        cmd.set_defaults(handler=handler)
    acls = nsub.add_parser("acls", help="show (or --apply) the principal's ACLs")
    acls.add_argument("--team", required=True)
    acls.add_argument("--apply", action="store_true", help="create missing topics and ACLs")
    acls.set_defaults(handler=_acls)
    revoke = nsub.add_parser("revoke", help="withdraw the ACLs and delete the credential")
    revoke.add_argument("--team", required=True)
    revoke.set_defaults(handler=_revoke)

    feed = sub.add_parser("feed", help="a team's feed, as a national system reads it")
    fsub = feed.add_subparsers(dest="action", required=True)
    subscribe = fsub.add_parser(
        "subscribe",
        help="read a feed over SASL/SCRAM, validate each event against the contract, print it",
    )
    subscriber.add_arguments(subscribe)
    subscribe.set_defaults(handler=subscriber.run)
