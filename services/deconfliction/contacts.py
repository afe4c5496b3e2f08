"""What the deconfliction worker asks of the directory: desk contacts, JIT members and which JIT
agreements allow cross-JIT matching, read from the kit's one directory read model.

The answers are derived once per directory book (the book is replaced, never changed, when a
record arrives), so the index's hot path asks a dictionary, not the whole directory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from events.deconfliction import DeskContact
from services.kit.directory import DirectoryBook, DirectoryView
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()


@dataclass(frozen=True)
class _Derived:
    book: DirectoryBook
    desks: Mapping[str, DeskContact]
    cross_jit: frozenset[str]


def derive(book: DirectoryBook) -> _Derived:
    return _Derived(
        book=book,
        desks={team: DeskContact.from_directory(desk) for team, desk in book.desks.items()},
        cross_jit=frozenset(jit for jit, r in book.jits.items() if r.cross_jit_matching),
    )


class Contacts:
    """The kit's directory view, asked the deconfliction worker's questions."""

    def __init__(self, settings: Settings) -> None:
        self.view = DirectoryView(settings, name="deconfliction")
        self._derived = derive(self.view.book)
        self._current_at = -1.0
        """Monotonic time of the last catch-up with the topic's end."""

    def _now(self) -> _Derived:
        book = self.view.book
        if book is not self._derived.book:
            self._derived = derive(book)
        return self._derived

    def desks(self) -> Mapping[str, DeskContact]:
        """Every team's desk contact."""
        return self._now().desks

    def members(self, jit: str) -> frozenset[str] | None:
        """The member teams of ``jit``, or None when the directory does not have the JIT."""
        book = self.view.book
        return book.teams_of(jit) if book.knows(jit) else None

    def cross_jit(self, jit: str) -> bool:
        """Whether the JIT's agreement allows matching against other JITs."""
        return jit in self._now().cross_jit

    def cross_jit_jits(self) -> frozenset[str]:
        return self._now().cross_jit

    def knows(self, jit: str | None = None, teams: Iterable[str] = ()) -> bool:
        """Whether the directory has ``jit`` and a desk for each of ``teams``."""
        book = self.view.book
        if jit is not None and not book.knows(jit):
            return False
        return all(team in book.desks for team in teams)

    def start(self) -> None:
        self.view.start()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for the first full read of the topic (records are never handled before it)."""
        if await asyncio.to_thread(self.view.wait_loaded, timeout):
            self._current_at = time.monotonic()

    async def sync(self, timeout: float, *, fresh: float = 0.5) -> bool:
        """Wait until every directory record written before this call is in the view; a view
        current ``fresh`` seconds ago counts as current (so a burst of records naming a JIT the
        directory lacks waits once, not once each)."""
        asked = time.monotonic()
        if self._current_at >= asked - fresh:
            return True
        if await asyncio.to_thread(self.view.catch_up, timeout):
            self._current_at = asked
            return True
        log.warning("directory view behind the topic")
        return False
