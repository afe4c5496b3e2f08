"""Tests' tokens for members the directory knows: the gateway admits no one it does not.

The gateway reads JIT membership and roles from the directory, never from a token's claims, so
a test that issues a token must first register the member (and the member's team in each JIT
named). :class:`EnrollingIssuer` does both whenever it issues: the member's record, and each
JIT's record with the team added to the teams it already has (a JIT the test did not register
is registered with the demo teams and the member's). ``enroll=False`` issues a token
for someone the directory does not know, which is how a test shows a refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date

from events.directory import JitRegistered, MemberRegistered, Role
from services.admin import jit_record, member_record, publish
from services.kit.directory import DirectoryView
from services.kit.identity import Issuer
from services.kit.settings import Settings

DEMO_TEAMS = ("NL-KLPD", "RO-DIICOT", "BG-GDBOP", "DE-BKA")
"""The teams a JIT that a test did not register itself is given (with the member's own)."""


class EnrollingIssuer(Issuer):
    """The local issuer, registering in the directory everyone it issues a token to."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._view = DirectoryView(settings, name="tests")
        self._lock = threading.Lock()

    def issue(  # type: ignore[override]
        self,
        *,
        member: str,
        team: str,
        jits: Sequence[str],
        roles: Sequence[str],
        ttl_seconds: int | None = None,
        enroll: bool = True,
    ) -> str:
        if enroll:
            self.enroll(member=member, team=team, jits=jits, roles=roles)
        return super().issue(
            member=member, team=team, jits=jits, roles=roles, ttl_seconds=ttl_seconds
        )

    def enroll(self, *, member: str, team: str, jits: Sequence[str], roles: Sequence[str]) -> None:
        """Register ``member`` of ``team`` with ``roles`` in ``jits``, adding the team to each."""
        with self._lock:
            self._view.wait_loaded(60)
            self._view.catch_up()
            book = self._view.book
            records = []
            for jit in jits:
                current = book.jits.get(jit)
                if current is None:
                    records.append(
                        jit_record(
                            JitRegistered(
                                jit_id=jit,
                                name=f"test JIT {jit}",
                                legal_basis="test agreement",
                                coordinator_team=team,
                                member_teams=(team, *(t for t in DEMO_TEAMS if t != team)),
                                starts_on=date(2026, 1, 1),
                            )
                        )
                    )
                elif team not in current.member_teams:
                    teams = (*current.member_teams, team)
                    records.append(jit_record(current.model_copy(update={"member_teams": teams})))
            known = book.members.get(member)
            kept = known.jits if known is not None and known.team == team else ()
            all_jits = tuple(dict.fromkeys((*kept, *jits)))
            valid_roles = tuple(Role(r) for r in roles if r in Role._value2member_map_)
            records.append(
                member_record(
                    MemberRegistered(
                        member_id=member,
                        team=team,
                        display_name=member,
                        roles=valid_roles or (Role.INVESTIGATOR,),
                        jits=all_jits,
                    )
                )
            )
            publish(self.settings, records)
            self._view.catch_up()

    def close(self) -> None:
        self._view.stop()
