"""``interlock contracts``: the JSON Schemas, the AsyncAPI document and the README's catalogue,
generated from the models (``--check`` fails on drift, ``--publish`` freezes a baseline)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from services.kit.settings import Settings


def _contracts(args: argparse.Namespace, settings: Settings) -> int:
    """Write (or with --check, compare) the generated contracts; --publish freezes a baseline."""
    import shutil
    from pathlib import Path

    from events.schemas import all_contracts, with_catalogue

    root = Path(args.dir)
    generated = {
        path: json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        for path, doc in all_contracts().items()
    }
    readme = Path("README.md")
    generated_readme = with_catalogue(readme.read_text()) if readme.exists() else ""
    if args.check:
        stale = [
            p
            for p, text in generated.items()
            if not (root / p).exists() or (root / p).read_text() != text
        ]
        extra = [
            str(p.relative_to(root))
            for p in (root / "schemas").glob("*.json")
            if str(p.relative_to(root)) not in generated
        ]
        if readme.exists() and generated_readme != readme.read_text():
            stale.append("README.md (event catalogue section)")
        if stale or extra:
            print("contracts drift from the models; run `make contracts`:")
            for p in [*stale, *extra]:
                print(f"  {p}")
            return 1
        print(f"{len(generated)} contracts match the models")
        return 0
    for stale_file in (root / "schemas").glob("*.json"):
        if str(stale_file.relative_to(root)) not in generated:
            stale_file.unlink()
    for path, text in generated.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    if readme.exists() and generated_readme != readme.read_text():
        readme.write_text(generated_readme)
    if args.publish:
        published = root / "published"
        shutil.rmtree(published, ignore_errors=True)
        shutil.copytree(root / "schemas", published)
    print(f"wrote {len(generated)} contracts to {root}/")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``contracts`` on the ``interlock`` parser."""
    contracts = sub.add_parser("contracts", help="generate JSON Schemas and the AsyncAPI document")
    contracts.add_argument("--dir", default="contracts")
    contracts.add_argument("--check", action="store_true", help="fail if the files drift")
    contracts.add_argument(
        "--publish", action="store_true", help="freeze the schemas as the compatibility baseline"
    )
    contracts.set_defaults(handler=_contracts)
