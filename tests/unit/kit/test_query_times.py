"""Query times: one rule for every reading route (kit.web.UtcTime), and a stricter one for the
national systems' feeds (kit.web.OffsetTime); a bad time is a 422 naming its parameter."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from services.kit.web import OffsetTime, UtcTime


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()

    @app.get("/ui-read")
    async def ui_read(since: Annotated[UtcTime, Query()] = None) -> dict[str, str | None]:
        return {"since": since.isoformat() if isinstance(since, datetime) else None}

    @app.get("/feed")
    async def feed(since: Annotated[OffsetTime, Query()] = None) -> dict[str, str | None]:
        return {"since": since.isoformat() if isinstance(since, datetime) else None}

    return TestClient(app)


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("2026-12-07T10:00:00", "2026-12-07T10:00:00+00:00"),
        ("2026-12-07T10:00:00Z", "2026-12-07T10:00:00+00:00"),
        ("2026-12-07T12:00:00+02:00", "2026-12-07T10:00:00+00:00"),
        ("2026-12-07T05:00:00-05:00", "2026-12-07T10:00:00+00:00"),
    ],
)
def test_a_read_gets_utc(client: TestClient, given: str, read: str) -> None:
    assert client.get("/ui-read", params={"since": given}).json() == {"since": read}


def test_an_offset_neo4j_would_refuse_becomes_utc(client: TestClient) -> None:
    """The fuzz test's ``+20:24`` was a 500 from Neo4j before the graph got only UTC."""
    answer = client.get("/ui-read", params={"since": "0005-08-08T19:05:33.8+20:24"})
    assert answer.json() == {"since": "0005-08-07T22:41:33.800000+00:00"}
    overflow = client.get("/ui-read", params={"since": "0001-01-01T00:00:00+05:00"})
    assert overflow.status_code == 422
    assert "out of the range of times" in overflow.json()["detail"][0]["msg"]


def test_an_unreadable_time_names_its_parameter(client: TestClient) -> None:
    answer = client.get("/ui-read", params={"since": "yesterday"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "since"]


def test_a_feed_wants_the_offset(client: TestClient) -> None:
    naive = client.get("/feed", params={"since": "2026-12-07T10:00:00"})
    assert naive.status_code == 422
    assert "give the UTC offset" in naive.json()["detail"][0]["msg"]
    given = client.get("/feed", params={"since": "2026-12-07T11:00:00+01:00"})
    assert given.json() == {"since": "2026-12-07T10:00:00+00:00"}
