"""``interlock projection rebuild`` and ``interlock projection hash``.

``interlock projection`` alone still starts the projection worker; these are its sub-commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from services.kit.graphdb import async_driver
from services.kit.settings import Settings


def _scope(args: argparse.Namespace) -> Any:
    from services.projection.canonical import Scope

    if not args.jit and not args.team:
        return None
    return Scope(jits=frozenset(args.jit or ()), teams=frozenset(args.team or ()))


def _add_scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jit", action="append", metavar="JIT", help="only this JIT's part of the graph"
    )
    parser.add_argument(
        "--team", action="append", metavar="TEAM", help="with --jit: also this team's node"
    )


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    """Clear the graph and replay every projected topic from the beginning; print the counts."""
    from services.projection.agents import projection_group
    from services.projection.rebuild import rebuild

    scope = _scope(args)
    what = "the whole graph" if scope is None else f"the graph of JITs {sorted(scope.jits)}"
    if not args.yes:
        print(
            f"this deletes {what} in {settings.neo4j_uri} and replays the log into it; "
            "stop the projection worker first, then run again with --yes",
            file=sys.stderr,
        )
        return 2

    async def run() -> int:
        driver = async_driver(settings)
        try:
            report = await rebuild(
                settings,
                driver,
                scope=scope,
                batch=args.batch,
                checkpoint_group=None if scope else projection_group(settings),
            )
        finally:
            await driver.close()
        print(report.summary())
        return 0

    return asyncio.run(run())


def hash_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the canonical hash of the graph (or of a scope of it) with its counts."""
    from services.projection.canonical import graph_digest

    async def run() -> int:
        driver = async_driver(settings)
        try:
            digest = await graph_digest(driver, scope=_scope(args))
        finally:
            await driver.close()
        print(
            json.dumps(
                {
                    "sha256": digest.sha256,
                    "nodes": digest.nodes,
                    "relationships": digest.relationships,
                }
            )
        )
        return 0

    return asyncio.run(run())


def add_commands(sub: Any) -> None:
    """Add ``rebuild`` and ``hash`` under the ``projection`` role."""
    parser = sub.choices.get("projection") or sub.add_parser(
        "projection", help="the graph projection"
    )
    actions = parser.add_subparsers(dest="projection_action", required=False)
    rebuild = actions.add_parser(
        "rebuild", help="clear the graph and replay every projected topic into it"
    )
    rebuild.add_argument(
        "--yes", action="store_true", help="confirm: the graph (or scope) is deleted first"
    )
    rebuild.add_argument("--batch", type=int, default=1000, help="events per write transaction")
    _add_scope(rebuild)
    rebuild.set_defaults(handler=rebuild_command)
    digest = actions.add_parser("hash", help="canonical hash of the graph (nodes, relationships)")
    _add_scope(digest)
    digest.set_defaults(handler=hash_command)
