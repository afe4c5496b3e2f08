"""The retention tests' JIT (an owner team and a partner) and its members."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from events.directory import JitRegistered
from services.admin import jit_record, publish
from tests.support.api import Member
from tests.support.platform import Platform

OWNER, PARTNER = "NL-KLPD", "RO-DIICOT"


@pytest.fixture
def jit(platform: Platform) -> str:
    """A JIT of the owner and a partner team, of this test alone."""
    jit_id = f"jit-{uuid.uuid4().hex[:8]}"
    record = JitRegistered(
        jit_id=jit_id,
        name="Erasure test",
        legal_basis="test",
        coordinator_team=OWNER,
        member_teams=(OWNER, PARTNER),
        starts_on=date(2026, 1, 1),
    )
    publish(platform.settings, [jit_record(record)])
    return jit_id


def members(platform: Platform, issuer, jit: str) -> tuple[Member, Member, Member]:  # type: ignore[no-untyped-def]
    url = platform.base_url
    coordinator = Member(url, issuer, member="anna", team=OWNER, jits=(jit,),
                         roles=("investigator", "coordinator"))  # fmt: skip
    investigator = Member(url, issuer, member="piet", team=OWNER, jits=(jit,))
    partner = Member(url, issuer, member="ioana", team=PARTNER, jits=(jit,),
                     roles=("investigator", "coordinator"))  # fmt: skip
    return coordinator, investigator, partner
