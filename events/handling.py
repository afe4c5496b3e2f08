"""Handling and releasability: who may see a record, and what they may do with it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class HandlingCode(StrEnum):
    """SIENA-like handling codes, set by the originator of a record.

    H0: for police and judicial purposes within the JIT; H1: not to be used as evidence
    without the originator's permission; H2: no action on it without the originator's permission.
    """

    H0 = "H0"
    H1 = "H1"
    H2 = "H2"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 labels."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Handling(BaseModel):
    """The handling code and TLP label a record travels with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    readers: tuple[str, ...] = ()
    """TLP:RED only: the members of the receiving teams the originator names as its readers."""


def audience(originator: str, releasable_to: Iterable[str]) -> frozenset[str]:
    """The teams that may see a record: its originator and the teams it is released to.

    Sharing is explicit: nothing is visible to another team by default.
    """
    return frozenset({originator, *releasable_to})


def may_see(team: str, originator: str, releasable_to: Iterable[str]) -> bool:
    """Whether ``team`` may see a record of ``originator`` released to ``releasable_to``."""
    return team in audience(originator, releasable_to)


def victim_pseudonym(entity_id: str) -> str:
    """The stable pseudonym every team but the originator sees in place of a victim's identity.

    Derived from the entity id alone (a random UUID), so it reveals nothing about the person
    and is the same in the graph, the feeds and the web UI.
    """
    import hashlib

    return "Victim " + hashlib.sha256(f"victim:{entity_id}".encode()).hexdigest()[:8].upper()
