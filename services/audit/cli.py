"""``interlock audit verify [--from-file PATH]`` and ``interlock audit export PATH``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.audit.chain import verify
from services.audit.store import chain_values
from services.kit.settings import Settings


def report(links: Iterable[bytes | str], *, source: str) -> int:
    """Print what verification found; 0 if the chain is intact, 1 if not."""
    count, problems = verify(links)
    if not problems:
        print(f"audit chain intact: {count} records verified ({source})")
        return 0
    print(f"audit chain BROKEN: {len(problems)} problems in {count} records ({source})")
    for problem in problems:
        print(f"  {problem}")
    return 1


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    if args.from_file:
        path = Path(args.from_file)
        if not path.is_file():
            print(f"no such file: {path}", file=sys.stderr)
            return 2
        with path.open(encoding="utf-8") as lines:
            return report((line for line in lines if line.strip()), source=str(path))
    return report(chain_values(settings), source=settings.topic("interlock.audit.chain"))


def _export(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb") as out:
        for value in chain_values(settings):
            out.write(value.rstrip(b"\n") + b"\n")
            count += 1
    print(f"exported {count} audit records to {path}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``interlock audit verify|export`` (bare ``interlock audit`` starts the worker)."""
    audit = sub.choices.get("audit") or sub.add_parser("audit")
    audit.description = "Without a command: start the audit worker. verify/export: the audit log."
    commands = audit.add_subparsers(dest="audit_command", required=False)
    check = commands.add_parser(
        "verify",
        help="check the chain; names every altered, removed or reordered record",
    )
    check.add_argument("--from-file", metavar="PATH", help="verify an exported JSONL file instead")
    check.set_defaults(handler=_verify)
    export = commands.add_parser("export", help="write the chain as JSON lines")
    export.add_argument("path", help="the JSONL file to write")
    export.set_defaults(handler=_export)
