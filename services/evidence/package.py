"""Evidence packages: a zip of files, a manifest, and a detached signature anyone can check offline.

``manifest.json`` lists every item (file path in the zip, hashes, size, media type, markings and
custody lines), the exporting member and team, and the justification. ``manifest.sig`` is a
detached JWS (RFC 7515, appendix F) over the manifest's bytes, made with the platform's signing
key, whose public half is in the gateway's JWKS (``/.well-known/jwks.json``). The manifest holds
the hashes, so the signature covers the files as well.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ALGORITHM = "ES256"
FORMAT = "interlock-evidence-package/1"


@dataclass(frozen=True)
class PackedItem:
    """One file going into a package: its plaintext chunks and what the manifest says of it."""

    entry: dict[str, Any]
    chunks: Iterable[bytes]


def safe_name(filename: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    return cleaned[:100]


def build(
    target: Path,
    items: Iterable[PackedItem],
    *,
    header: dict[str, Any],
    key: ECKey,
) -> dict[str, Any]:
    """Write the package to ``target``; each file is hashed again as it is written."""
    entries = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for item in items:
            path = f"files/{item.entry['evidence_id']}/{safe_name(item.entry['filename'])}"
            sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
            with zf.open(path, "w", force_zip64=True) as out:
                for chunk in item.chunks:
                    out.write(chunk)
                    sha256.update(chunk)
                    sha512.update(chunk)
                    size += len(chunk)
            if (sha256.hexdigest(), sha512.hexdigest(), size) != (
                item.entry["sha256"],
                item.entry["sha512"],
                item.entry["size"],
            ):
                raise ValueError(
                    f"evidence {item.entry['evidence_id']} no longer matches its hashes"
                )
            entries.append({**item.entry, "path": path})
        manifest = {"format": FORMAT, **header, "items": entries}
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        zf.writestr(MANIFEST, body)
        zf.writestr(SIGNATURE, sign(body, key))
    return manifest


def sign(body: bytes, key: ECKey) -> str:
    """A detached compact JWS over ``body``: ``header..signature``."""
    token = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid}, body, key)
    protected, _, signature = token.split(".")
    return f"{protected}..{signature}"


def verify(path: Path, keys: KeySet) -> list[str]:
    """What is wrong with a package: an empty list when its signature and every file hold."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"not a readable zip: {exc}"]
    with zf:
        names = set(zf.namelist())
        if MANIFEST not in names or SIGNATURE not in names:
            return [f"{MANIFEST} or {SIGNATURE} is missing"]
        try:
            body = zf.read(MANIFEST)
            signature = zf.read(SIGNATURE).decode("ascii", "replace").strip()
        except zipfile.BadZipFile as exc:
            return [f"{MANIFEST} or {SIGNATURE} is unreadable ({exc})"]
        problems += _check_signature(body, signature, keys)
        try:
            manifest = json.loads(body)
        except ValueError as exc:
            return [*problems, f"{MANIFEST} is not JSON: {exc}"]
        listed = {MANIFEST, SIGNATURE}
        for entry in manifest.get("items", []):
            listed.add(entry["path"])
            problems += _check_file(zf, entry)
        for extra in sorted(names - listed):
            problems.append(f"{extra}: in the zip but not in the manifest")
    return problems


def _check_signature(body: bytes, signature: str, keys: KeySet) -> list[str]:
    protected, _, rest = signature.partition("..")
    if not protected or not rest:
        return [f"{SIGNATURE} is not a detached compact JWS"]
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    try:
        jws.deserialize_compact(f"{protected}.{payload}.{rest}", keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        return [f"the manifest's signature does not verify ({type(exc).__name__}: {exc})"]
    return []


def _check_file(zf: zipfile.ZipFile, entry: dict[str, Any]) -> list[str]:
    path = entry["path"]
    try:
        info = zf.getinfo(path)
    except KeyError:
        return [f"{path}: listed in the manifest but missing"]
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    try:
        with zf.open(info) as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                sha256.update(chunk)
                sha512.update(chunk)
    except zipfile.BadZipFile as exc:
        return [f"{path}: unreadable ({exc})"]
    problems = []
    if sha256.hexdigest() != entry["sha256"]:
        problems.append(f"{path}: SHA-256 differs from the manifest")
    if sha512.hexdigest() != entry["sha512"]:
        problems.append(f"{path}: SHA-512 differs from the manifest")
    if info.file_size != entry["size"]:
        problems.append(
            f"{path}: size {info.file_size} differs from the manifest's {entry['size']}"
        )
    return problems


def keys_from(jwks: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]


def iter_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from iter(lambda: fh.read(1024 * 1024), b"")
