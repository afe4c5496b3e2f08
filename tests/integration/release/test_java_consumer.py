"""A second language reads a feed with its official tools: contracts/examples/java (the
CloudEvents Java SDK's Kafka deserializer, the plain Kafka client, a Java JSON-Schema validator)
built by Maven, run against a real feed over SASL/SCRAM; it counts what the Python subscriber
counts on the same feed, and finds every event valid against contracts/schemas/."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from services.kit.identity import Issuer
from services.release.credentials import Credentials
from services.release.subscriber import Contract, Options, subscribe
from tests.integration.release.conftest import Feeds, new_team, triaged
from tests.support.api import Member, lead_body
from tests.support.infra import SaslEndpoint
from tests.support.platform import ROOT, Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

JAVA_EXAMPLE = ROOT / "contracts" / "examples" / "java"
JAR = JAVA_EXAMPLE / "target" / "feed-reader.jar"


@pytest.fixture(scope="module")
def feed_reader() -> Path:
    """The Java example, built by Maven (offline first, then from Maven Central)."""
    if shutil.which("mvn") is None or shutil.which("java") is None:
        pytest.fail("Java and Maven are prerequisites (deploy/prerequisites.sh check)")
    for offline in (["-o"], []):
        built = subprocess.run(
            ["mvn", "-q", "-B", *offline, "package"],
            cwd=JAVA_EXAMPLE,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )
        if built.returncode == 0 and JAR.is_file():
            return JAR
    pytest.fail(f"mvn package failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")


def _stable(feeds: Feeds, team: str, wanted: Callable[[list[dict[str, object]]], bool]) -> int:
    """Wait until the feed holds what is wanted and has stopped growing; its length then."""
    events = feeds.wait_for(team, wanted, timeout=60)
    while True:
        time.sleep(2)
        again = feeds.read(team)
        if len(again) == len(events):
            return len(events)
        events = again


def _java(reader: Path, endpoint: SaslEndpoint, creds: Credentials, team: str, prefix: str,
          password_file: Path) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [
            "java", "-jar", str(reader),
            "--bootstrap", endpoint.bootstrap,
            "--team", team,
            "--user", creds.principal,
            "--password-file", str(password_file),
            "--contracts", str(ROOT / "contracts"),
            "--topic-prefix", prefix,
            "--group", f"{creds.group_prefix}java-{uuid.uuid4().hex[:6]}",
            *(["--ca-file", endpoint.ca_file] if endpoint.ca_file else []),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_the_java_consumer_counts_what_the_python_subscriber_counts(
    tmp_path: Path,
    feed_reader: Path,
    platform: Platform,
    issuer: Issuer,
    kafka_sasl: SaslEndpoint,
    feeds: Feeds,
    national_systems: Callable[[str], Credentials],
) -> None:
    """A feed with a lead submitted through the gateway (lead, entities, deconfliction
    registrations) and released lead events: the Java SDK parses every record in structured mode
    from its content-type header, each validates, and the count equals the Python subscriber's."""
    team = new_team("RO")
    creds = national_systems(team)
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    member = Member(platform.base_url, issuer, member="mara", team=team, jits=(jit,))
    created = member.post(f"/jits/{jit}/leads", lead_body(f"java-{uuid.uuid4()}"))
    assert created.status_code == 201, created.text
    lead_id = created.json()["lead_id"]
    feeds.publish([triaged(team) for _ in range(3)])
    count = _stable(
        feeds,
        team,
        lambda events: (
            sum(e["type"] == "interlock.lead.triaged" for e in events) == 3
            and any(e["subject"] == lead_id for e in events)
        ),
    )

    python = None
    deadline = time.monotonic() + 30
    while python is None:  # a fresh SCRAM credential reaches the broker through the metadata log
        try:
            python = subscribe(
                Options(
                    team=team,
                    bootstrap=kafka_sasl.bootstrap,
                    ca_file=kafka_sasl.ca_file or None,
                    user=creds.principal,
                    password=creds.password,
                    topic_prefix=feeds.settings.topic_prefix,
                    from_beginning=True,
                    idle_exit=3.0,
                ),
                Contract.from_dir(ROOT / "contracts"),
                io.StringIO(),
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    assert python.invalid == 0
    assert python.events == count

    password_file = tmp_path / "ns.secret"
    password_file.write_text(creds.password)
    java = _java(feed_reader, kafka_sasl, creds, team, feeds.settings.topic_prefix, password_file)
    assert java.returncode == 0, f"{java.stdout[-3000:]}\n{java.stderr[-3000:]}"
    summary = re.search(r"^events=(\d+) invalid=(\d+)$", java.stdout, re.MULTILINE)
    assert summary is not None, java.stdout
    assert int(summary.group(2)) == 0, java.stdout
    assert int(summary.group(1)) == python.events == count
