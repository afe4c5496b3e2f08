"""Where sealed evidence files live: one small interface, and its filesystem implementation.

Blobs are content-addressed by the SHA-256 of their sealed bytes, so a blob that no longer matches
its address is detected without any key. Uploads grow in a staging area (one file per upload,
appended to chunk by chunk, so an interrupted upload resumes where it stopped) and become a blob
by one rename when complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

ADDRESS = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobStore(Protocol):
    """Sealed blobs by address, and staging files for uploads in progress."""

    def open(self, address: str) -> BinaryIO:
        """The sealed bytes of a blob; FileNotFoundError if there is none."""
        ...

    def size(self, address: str) -> int: ...

    def exists(self, address: str) -> bool: ...

    def delete(self, address: str) -> bool:
        """Remove a blob; False if it was not there."""
        ...

    def addresses(self) -> Iterator[str]: ...

    def append(self, upload: str) -> BinaryIO:
        """The staging file of an upload, opened for appending (created if new)."""
        ...

    def staged(self, upload: str) -> BinaryIO:
        """The staging file of an upload, opened for reading."""
        ...

    def staged_size(self, upload: str) -> int:
        """Bytes staged so far (0 for an upload not started)."""
        ...

    def truncate(self, upload: str, size: int) -> None:
        """Cut a staging file back to ``size`` bytes (a chunk half-written by a crash)."""
        ...

    def commit(self, upload: str, address: str) -> None:
        """Make a complete staging file the blob at ``address``."""
        ...

    def discard(self, upload: str) -> None: ...

    def put_meta(self, upload: str, meta: bytes) -> None:
        """Keep what an upload was declared as, so that any gateway can resume it."""
        ...

    def get_meta(self, upload: str) -> bytes | None: ...


class FileBlobStore:
    """Blobs under ``root/blobs/ab/<address>``, staging files under ``root/uploads``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        (self.root / "uploads").mkdir(parents=True, exist_ok=True)

    def _blob(self, address: str) -> Path:
        if not ADDRESS.match(address):
            raise ValueError(f"not a blob address: {address!r}")
        return self.root / "blobs" / address[:2] / address

    def _upload(self, upload: str) -> Path:
        if not UPLOAD_ID.match(upload):
            raise ValueError(f"not an upload id: {upload!r}")
        return self.root / "uploads" / f"{upload}.part"

    def open(self, address: str) -> BinaryIO:
        return self._blob(address).open("rb")

    def size(self, address: str) -> int:
        return self._blob(address).stat().st_size

    def exists(self, address: str) -> bool:
        return self._blob(address).exists()

    def delete(self, address: str) -> bool:
        try:
            self._blob(address).unlink()
        except FileNotFoundError:
            return False
        return True

    def addresses(self) -> Iterator[str]:
        for path in sorted((self.root / "blobs").glob("*/*")):
            if ADDRESS.match(path.name):
                yield path.name

    def append(self, upload: str) -> BinaryIO:
        return self._upload(upload).open("ab")

    def staged(self, upload: str) -> BinaryIO:
        return self._upload(upload).open("rb")

    def staged_size(self, upload: str) -> int:
        try:
            return self._upload(upload).stat().st_size
        except FileNotFoundError:
            return 0

    def truncate(self, upload: str, size: int) -> None:
        with self._upload(upload).open("r+b") as fh:
            fh.truncate(size)

    def commit(self, upload: str, address: str) -> None:
        target = self._blob(address)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self._upload(upload)
        with source.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(source, target)

    def discard(self, upload: str) -> None:
        self._upload(upload).unlink(missing_ok=True)
        self._upload(upload).with_suffix(".json").unlink(missing_ok=True)

    def put_meta(self, upload: str, meta: bytes) -> None:
        path = self._upload(upload).with_suffix(".json")
        temp = path.with_suffix(".tmp")
        temp.write_bytes(meta)
        os.replace(temp, path)

    def get_meta(self, upload: str) -> bytes | None:
        try:
            return self._upload(upload).with_suffix(".json").read_bytes()
        except FileNotFoundError:
            return None
