"""The scripted JIT through real Kafka: its events go onto the platform's topics, the
indicators worker writes their facts to Neo4j, and the HTTP API answers every indicator with
the value worked out by hand; a rebuild from the log gives the same answer."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.indicators.facts import fact_of
from services.indicators.rebuild import rebuild
from services.indicators.store import clear_facts, read_facts
from services.kit.graphdb import async_driver
from services.kit.identity import Issuer
from tests.support.api import Member, eventually
from tests.support.indicators_script import (
    EXPECTED,
    EXPECTED_NL_VICTIMS,
    EXPECTED_WEEKLY,
    NL,
    PERIOD,
    RO,
    SUPPRESSED_AGGREGATE_VICTIMS,
    scripted_jit,
)
from tests.support.kafka import publish_as_the_platform
from tests.support.platform import Platform

QUERY = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}


def facts_now(platform: Platform, jit: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        s = platform.settings
        driver = async_driver(s)
        try:
            return await read_facts(driver, jit)
        finally:
            await driver.close()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def jit(platform: Platform) -> Iterator[str]:
    """A JIT of its own, its scripted events published; its facts are deleted afterwards."""
    name = f"jit-ind-{uuid.uuid4().hex[:8]}"
    events = scripted_jit(name)
    publish_as_the_platform(platform.settings, events)
    wanted = {f["id"] for env in events if (f := fact_of(env)) is not None}
    eventually(
        lambda: wanted <= {f["id"] for f in facts_now(platform, name)}, timeout=90, interval=0.5
    )
    yield name

    async def clean() -> None:
        s = platform.settings
        driver = async_driver(s)
        try:
            await clear_facts(driver, [name])
        finally:
            await driver.close()

    asyncio.run(clean())


def member(platform: Platform, issuer: Issuer, jit: str, team: str, *roles: str) -> Member:
    return Member(platform.base_url, issuer, member="eval1", team=team, jits=(jit,), roles=roles)


def suppressed_aggregate() -> dict[str, Any]:
    shown = copy.deepcopy(EXPECTED)
    shown["victims"] = SUPPRESSED_AGGREGATE_VICTIMS
    return shown


def test_every_indicator_of_the_scripted_jit_through_kafka(
    platform: Platform, issuer: Issuer, jit: str
) -> None:
    """A coordinator reads the aggregate with each value as scripted (victim cells under 5
    suppressed), the weekly trend, and every team's breakdown."""
    coordinator = member(platform, issuer, jit, NL, "coordinator")
    reply = coordinator.get(f"/jits/{jit}/indicators", **QUERY)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    for section, values in suppressed_aggregate().items():
        assert body["jit_aggregate"][section] == values, section
    assert body["weekly"] == EXPECTED_WEEKLY
    assert set(body["teams"]) == {"BE-FGP", NL, RO}
    assert body["teams"][NL]["victims"] == EXPECTED_NL_VICTIMS
    assert body["min_cell"] == 5


def test_a_team_sees_its_own_figures_and_the_aggregate_only(
    platform: Platform, issuer: Issuer, jit: str
) -> None:
    """An RO investigator gets RO's breakdown and the aggregate; asking for NL's is 403."""
    investigator = member(platform, issuer, jit, RO, "investigator")
    body = investigator.get(f"/jits/{jit}/indicators", **QUERY).json()
    assert set(body["teams"]) == {RO}
    assert body["teams"][RO]["tasks"]["requested"] == 3
    assert body["jit_aggregate"]["victims"] == SUPPRESSED_AGGREGATE_VICTIMS
    refused = investigator.get(f"/jits/{jit}/indicators", team=NL, **QUERY)
    assert refused.status_code == 403
    assert "RO-DIICOT may see its own indicators" in refused.json()["error"]
    outsider = Member(platform.base_url, issuer, member="x1", team=RO, jits=("jit-other",))
    assert outsider.get(f"/jits/{jit}/indicators", **QUERY).status_code == 403


def test_a_reversed_period_is_refused_naming_the_field(
    platform: Platform, issuer: Issuer, jit: str
) -> None:
    """from after to is a 422 that names query.from."""
    investigator = member(platform, issuer, jit, NL, "investigator")
    reply = investigator.get(
        f"/jits/{jit}/indicators", **{"from": QUERY["to"], "to": QUERY["from"]}
    )
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "query.from"


def test_a_rebuild_from_the_log_gives_the_same_indicators(
    platform: Platform, issuer: Issuer, jit: str
) -> None:
    """Clearing the JIT's facts and counting the log again answers the same JSON, and a second
    replay on top of it (every fact written twice) changes nothing."""
    coordinator = member(platform, issuer, jit, NL, "coordinator")
    before = coordinator.get(f"/jits/{jit}/indicators", **QUERY).json()

    async def replay(clear: bool) -> None:
        s = platform.settings
        driver = async_driver(s)
        try:
            report = await rebuild(s, driver, jits=[jit], clear=clear)
            assert report.counted > 0
        finally:
            await driver.close()

    asyncio.run(replay(clear=True))
    assert coordinator.get(f"/jits/{jit}/indicators", **QUERY).json() == before
    asyncio.run(replay(clear=False))
    assert coordinator.get(f"/jits/{jit}/indicators", **QUERY).json() == before
