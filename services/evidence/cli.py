"""``interlock evidence verify`` and ``interlock evidence verify-package FILE``."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from events import sealing
from services.evidence import package
from services.evidence.ledger import Item, Ledger
from services.evidence.sealed import BrokenSeal, open_chunks, sealed_sha256
from services.evidence.settings import evidence_settings
from services.evidence.store import BlobStore, FileBlobStore
from services.kit.settings import Settings


def check_item(item: Item, store: BlobStore, ring: sealing.KeyRing | None) -> list[str]:
    """What breaks the chain of custody of one item: a blob that no longer matches its address
    or its registered hashes, or a custody line recorded with other hashes."""
    r = item.registered
    name = f"{item.evidence_id} ({r.filename})"
    problems = [
        f"{name}: custody line {i} ({line['act']}) records other hashes than the registration"
        for i, line in enumerate(item.custody)
        if (line["sha256"], line["sha512"]) != (r.sha256, r.sha512)
    ]
    if item.erased:
        return problems
    if not store.exists(r.blob):
        return [*problems, f"{name}: its sealed file {r.blob} is missing from the blob store"]
    with store.open(r.blob) as fh:
        if sealed_sha256(fh) != r.blob:
            problems.append(f"{name}: the sealed file no longer matches its address {r.blob}")
    key = ring.opening_key(sealing.key_id(item.jit, item.subject_id)) if ring else None
    if key is None:
        return [*problems, f"{name}: not checked against its hashes (no key: erased?)"]
    sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
    try:
        with store.open(r.blob) as fh:
            for chunk in open_chunks(fh, store.size(r.blob), key):
                sha256.update(chunk)
                sha512.update(chunk)
                size += len(chunk)
    except BrokenSeal as exc:
        return [*problems, f"{name}: the sealed file does not open ({exc})"]
    if sha256.hexdigest() != r.sha256:
        problems.append(f"{name}: SHA-256 of the file differs from the registered one")
    if sha512.hexdigest() != r.sha512:
        problems.append(f"{name}: SHA-512 of the file differs from the registered one")
    if size != r.size:
        problems.append(f"{name}: {size} bytes, {r.size} registered")
    return problems


def verify_all(settings: Settings, store: BlobStore) -> tuple[int, list[str]]:
    from services.kit.keys import install_key_ring

    ring = install_key_ring(settings)
    ledger = Ledger(settings).start()
    try:
        if not ledger.catch_up():
            raise SystemExit("the evidence topic could not be read")
        items = ledger.all()
        return len(items), [p for item in items for p in check_item(item, store, ring)]
    finally:
        ledger.stop()
        ring.stop()


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    store = FileBlobStore(args.dir or evidence_settings().dir)
    count, problems = verify_all(settings, store)
    if not problems:
        print(f"evidence intact: {count} items verified against their hashes")
        return 0
    print(f"evidence BROKEN: {len(problems)} problems in {count} items")
    for problem in problems:
        print(f"  {problem}")
    return 1


def _jwks(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    if args.jwks:
        loaded: dict[str, Any] = json.loads(Path(args.jwks).read_text())
        return loaded
    from services.kit.identity import load_or_create_key

    key_file = Path(settings.jwt_key_file)
    if not key_file.exists():
        raise SystemExit(f"no --jwks given and no platform key at {key_file}")
    return {"keys": [load_or_create_key(key_file).as_dict(private=False)]}


def _verify_package(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    problems = package.verify(path, package.keys_from(_jwks(args, settings)))
    if not problems:
        print(f"package intact: signature and every file verified ({path})")
        return 0
    print(f"package BROKEN: {len(problems)} problems ({path})")
    for problem in problems:
        print(f"  {problem}")
    return 1


def add_commands(sub: Any) -> None:
    """Register ``interlock evidence verify|verify-package`` (bare: start the worker)."""
    evidence = sub.choices.get("evidence") or sub.add_parser("evidence")
    evidence.description = "Without a command: start the evidence worker."
    commands = evidence.add_subparsers(dest="evidence_command", required=False)
    check = commands.add_parser(
        "verify", help="check every item's file against its address and registered hashes"
    )
    check.add_argument("--dir", help="the blob store (default INTERLOCK_EVIDENCE_DIR)")
    check.set_defaults(handler=_verify)
    offline = commands.add_parser(
        "verify-package", help="check an evidence package's signature and files, offline"
    )
    offline.add_argument("file", help="the package (zip)")
    offline.add_argument(
        "--jwks",
        help="the platform's JWKS (saved from /.well-known/jwks.json); default: "
        "the local platform key",
    )
    offline.set_defaults(handler=_verify_package)
