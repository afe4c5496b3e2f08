"""Run the benchmarks: ``python -m bench [--quick] [--only GROUP,...] [--out DIR]``.

Kafka and Neo4j come from the environment (``KAFKA_BOOTSTRAP``, ``NEO4J_URI``, ``NEO4J_USER``,
``NEO4J_PASSWORD``, as ``make bench`` exports them from ``.data/infra/infra.env``). The run gets
a topic prefix of its own; its topics, consumer groups and graph data are deleted at the end.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlparse

from bench import GROUPS
from bench.report import write
from bench.support import ROOT, BenchPlatform, Progress, Results, Run, listener_pid, machine
from services.kit.kafka import admin_client
from services.kit.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (under 3 minutes)")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run (default: all of {', '.join(GROUPS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench",
        help="directory for results.json, results-<mode>.json and README-table.md "
        "(default: bench/); with --only, the other groups' figures of the previous run of the "
        "same mode are kept in results-<mode>.json and the table, marked as such",
    )
    parser.add_argument(
        "--step-cap",
        type=float,
        default=None,
        help="most seconds one measurement may take (default: 30 quick, 300 full)",
    )
    return parser


def scale_notes(quick: bool, groups: tuple[str, ...]) -> list[str]:
    """What each group says about the sizes it measures at (for the table's header)."""
    notes = []
    for group in groups:
        note = getattr(importlib.import_module(f"bench.{group}"), "scale_note", None)
        if note is not None:
            notes.append(str(note(quick)))
    return notes


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


def _check_infra(settings: Settings) -> None:

    from services.kit.graphdb import driver

    try:
        admin_client(settings).list_topics(timeout=10)
    except Exception as exc:  # noqa: BLE001 - turned into one clear message
        raise SystemExit(
            f"Kafka at {settings.kafka_bootstrap} does not answer ({exc}); run `make infra-up`"
        ) from None
    try:
        with driver(settings) as db:
            db.verify_connectivity()
    except Exception as exc:  # noqa: BLE001 - turned into one clear message
        raise SystemExit(
            f"Neo4j at {settings.neo4j_uri} does not answer ({exc}); run `make infra-up`"
        ) from None


def _infra_pids(settings: Settings) -> dict[str, int]:
    found: dict[str, int] = {}
    kafka_port = int(settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
    neo4j_port = urlparse(settings.neo4j_uri).port or 7687
    for name, port in (("Kafka broker", kafka_port), ("Neo4j", neo4j_port)):
        pid = listener_pid(port)
        if pid is not None:
            found[name] = pid
    return found


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    groups = tuple(g.strip() for g in args.only.split(",") if g.strip())
    unknown = set(groups) - set(GROUPS)
    if unknown:
        print(f"--only: unknown groups {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    # The graph's warnings about labels the benchmark's JITs never create are not progress.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    base = Settings()
    _check_infra(base)
    progress = Progress()
    mode = "quick" if args.quick else "full"
    started = datetime.now(UTC).replace(microsecond=0)
    info: dict[str, Any] = {
        "mode": mode,
        "started": started.isoformat(),
        "machine": machine(),
        "groups": groups,
        "notes": scale_notes(args.quick, groups),
    }
    progress.say(
        f"bench ({mode}): {info['machine'].get('cores')} cores, "
        f"{info['machine'].get('memory_gib')} GiB, load {info['machine'].get('load_average')}"
    )
    platform = BenchPlatform(
        kafka_bootstrap=base.kafka_bootstrap,
        neo4j=(base.neo4j_uri, base.neo4j_user, base.neo4j_password.get_secret_value()),
        partitions=3,
    )
    results = Results()
    run = Run(
        quick=args.quick,
        results=results,
        progress=progress,
        platform=platform,
        step_cap=args.step_cap or (30.0 if args.quick else 300.0),
    )
    began = time.monotonic()
    try:
        with progress.step(f"provisioning topics (prefix {platform.prefix}) and constraints"):
            platform.provision()
        run.infra_pids = _infra_pids(platform.settings)
        for group in GROUPS:
            if group in groups:
                with progress.step(f"group {group}"):
                    importlib.import_module(f"bench.{group}").run_group(run)
    finally:
        with progress.step("stopping the run's processes, deleting its graph data and topics"):
            run.close()
        info["duration_s"] = round(time.monotonic() - began, 1)
        info["machine_at_end"] = {"load_average": machine().get("load_average")}
        results.settle()
        args.out.mkdir(parents=True, exist_ok=True)
        write(args.out, info, results)
        progress.say(f"results: {args.out / 'results.json'}, {args.out / 'README-table.md'}")
    errors = [f for f in results.figures.values() if f.status == "error"]
    unavailable = [f for f in results.figures.values() if f.status == "unavailable"]
    progress.say(
        f"{len(results.figures)} figures: {len(errors)} errors, {len(unavailable)} unavailable"
    )
    for fig in errors:
        progress.say(f"  error {fig.id}: {fig.reason}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
