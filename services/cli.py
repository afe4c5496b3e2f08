"""``interlock``: one command that starts any process role and administers a JIT.

interlock gateway | leads | projection | ...   start a process role
interlock provision                           create topics and graph constraints
interlock run-all                             every role, supervised (what ``make run`` uses)
interlock directory ...                       JITs, teams, desks, members
interlock token issue ...                     a signed bearer token from the local issuer
interlock demo                                the demo JIT, its log-ins and live scenario
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from typing import Any

from services import roles
from services.kit import logging as logs
from services.kit.settings import ConfigurationError, Settings, load_settings, use_principal
from services.provisioning import provision_all


def run_worker(role: str, settings: Settings) -> None:
    from faust.worker import Worker

    from services.kit.streams import declare_changelogs

    app = roles.role(role).build(settings)
    declare_changelogs(app, settings)
    worker = Worker(
        app,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    worker.execute_from_commandline()


def run_gateway(settings: Settings) -> None:
    import uvicorn

    from services.gateway.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        ssl_certfile=settings.gateway_tls_cert or None,
        ssl_keyfile=gateway_tls_key(settings),
    )


def gateway_tls_key(settings: Settings) -> str | None:
    """The key of the certificate the gateway serves HTTPS with (none: plain HTTP)."""
    if not settings.gateway_tls_cert:
        return None
    if not settings.gateway_tls_key:
        raise ConfigurationError(
            "INTERLOCK_GATEWAY_TLS_KEY: required with INTERLOCK_GATEWAY_TLS_CERT"
        )
    return settings.gateway_tls_key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interlock",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for role in roles.workers():
        sub.add_parser(role, help=f"start the {role} worker")
    sub.add_parser("gateway", help="start the HTTP gateway")
    sub.add_parser("provision", help="create topics and graph constraints (idempotent)")
    run_all = sub.add_parser("run-all", help="start every role, supervised; Ctrl-C stops all")
    run_all.add_argument("--demo", action="store_true", help="also load the demo JIT and scenario")

    for module in roles.command_modules():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    logs.configure(f"interlock-{args.command}", settings.log_level, settings.log_format)
    if args.command in roles.process_roles():
        # a process role speaks for itself on Kafka, never with the admin's rights
        settings = use_principal(roles.principal(args.command))
    handler: Callable[..., Any] | None = getattr(args, "handler", None)
    if handler is not None:
        result = handler(args, settings)
        return int(result or 0)
    if args.command in roles.workers():
        run_worker(args.command, settings)
        return 0
    if args.command == "gateway":
        run_gateway(settings)
        return 0
    if args.command == "provision":
        provision_all(settings)
        return 0
    if args.command == "run-all":
        from services.supervisor import run_all as supervise

        return asyncio.run(supervise(settings, demo=args.demo))
    return 2


if __name__ == "__main__":
    sys.exit(main())
