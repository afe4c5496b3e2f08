"""``interlock indicators rebuild``: clear the indicators' facts and count the log again.

``interlock indicators`` alone starts the indicators worker; this is its sub-command.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from services.kit.graphdb import async_driver
from services.kit.settings import Settings


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    """Clear the facts (of some JITs) and replay the counted topics; print the counts."""
    from services.indicators.rebuild import rebuild

    async def run() -> int:
        driver = async_driver(settings)
        try:
            report = await rebuild(settings, driver, jits=args.jit)
        finally:
            await driver.close()
        print(report.summary())
        return 0

    return asyncio.run(run())


def add_commands(sub: Any) -> None:
    """Add ``rebuild`` under the ``indicators`` role."""
    parser = sub.choices.get("indicators") or sub.add_parser(
        "indicators", help="the JIT's indicators"
    )
    actions = parser.add_subparsers(dest="indicators_action", required=False)
    rebuild = actions.add_parser(
        "rebuild", help="clear the indicators' facts and count every event of the log again"
    )
    rebuild.add_argument(
        "--jit", action="append", metavar="JIT", help="only this JIT's facts (repeatable)"
    )
    rebuild.set_defaults(handler=rebuild_command)
