"""Independent clients read a feed with the settings docs/national-systems.md gives: kcat, and
the sample subscriber (contract validation, replay from an offset or a time)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from events.schemas import all_contracts
from services.release.credentials import Credentials
from services.release.subscriber import Contract, Options, subscribe
from tests.integration.release.conftest import Feeds, new_team, of_subject, triaged
from tests.support.infra import SaslEndpoint
from tests.support.platform import ROOT, Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

Issue = Callable[[str], Credentials]


SCRAM_FIXED_IN = (2, 6, 1)
"""librdkafka before 2.6.1 sends a SCRAM proof with the nonce doubled, which Kafka 4 rejects
(confluentinc/librdkafka#4895); Debian 12's kcat links librdkafka 2.0.2."""


def _kcat_env(tmp: Path) -> dict[str, str]:
    """kcat's environment: Debian's kcat, on a librdkafka that can log in to Kafka 4 with SCRAM."""
    version = subprocess.run(["kcat", "-V"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", version)
    env = dict(os.environ)
    if found and tuple(int(x) for x in found.groups()) >= SCRAM_FIXED_IN:
        return env
    import confluent_kafka

    bundled = sorted(
        Path(confluent_kafka.__file__).parent.parent.glob("confluent_kafka.libs/librdkafka*.so*")
    )
    if not bundled:
        pytest.fail(f"kcat links an old librdkafka ({version.strip()!r}) and none newer is at hand")
    (tmp / "librdkafka.so.1").symlink_to(bundled[0])
    env["LD_LIBRARY_PATH"] = f"{tmp}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    return env


def _kcat(
    endpoint: SaslEndpoint, creds: Credentials, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """kcat exactly as the documentation tells a national system to run it: its settings (and
    password) in a file, ``-F``, never on the command line; SASL_SSL with the deployment's CA."""
    config = Path(tempfile.mkdtemp()) / f"{creds.principal}.properties"
    tls = ["security.protocol=SASL_PLAINTEXT"]
    if endpoint.ca_file:
        tls = ["security.protocol=SASL_SSL", f"ssl.ca.location={endpoint.ca_file}"]
    config.write_text(
        "\n".join(
            [
                *tls,
                "sasl.mechanisms=SCRAM-SHA-512",
                f"sasl.username={creds.principal}",
                f"sasl.password={creds.password}",
                "",
            ]
        )
    )
    config.chmod(0o600)
    return subprocess.run(
        ["kcat", "-b", endpoint.bootstrap, "-F", str(config), *args],
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
        env=env,
    )


def _feed_with_events(feeds: Feeds, issue: Issue, count: int) -> tuple[str, Credentials, list[str]]:
    team = new_team("RO")
    creds = issue(team)
    events = [triaged(team) for _ in range(count)]
    feeds.publish(events)
    for event in events:
        feeds.wait_for(team, of_subject(event.subject))
    return team, creds, [e.id for e in events]


def _until_logged_in(
    run: Callable[[], subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    """A fresh SCRAM credential reaches the broker through the metadata log: retry briefly."""
    deadline = time.monotonic() + 20
    while True:
        done = run()
        if done.returncode == 0 or time.monotonic() > deadline:
            return done
        time.sleep(1)


def test_kcat_reads_a_feed_with_the_documented_settings(
    tmp_path: Path, kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """kcat with SCRAM-SHA-512 reads every event of the feed and lists only the team's topics."""
    if shutil.which("kcat") is None:
        message = "kcat is not installed (apt-get install kcat)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    env = _kcat_env(tmp_path)
    _, creds, ids = _feed_with_events(feeds, national_systems, 3)
    group = f"{creds.group_prefix}kcat-{uuid.uuid4().hex[:6]}"
    done = _until_logged_in(
        lambda: _kcat(
            kafka_sasl, creds, env, "-C", "-t", creds.feed_topic, "-o", "beginning", "-e", "-q"
        )
    )
    assert done.returncode == 0, done.stderr
    read = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert sorted(e["id"] for e in read) == sorted(ids)
    assert all(e["specversion"] == "1.0" for e in read)

    in_group = _kcat(
        kafka_sasl, creds, env, "-X", "auto.offset.reset=earliest", "-G", group, "-e", "-q",
        creds.feed_topic,
    )  # fmt: skip
    assert in_group.returncode == 0, in_group.stderr
    assert sorted(
        json.loads(line)["id"] for line in in_group.stdout.splitlines() if line
    ) == sorted(ids)

    listed = _kcat(kafka_sasl, creds, env, "-L", "-J")
    assert listed.returncode == 0, listed.stderr
    topics = {t["topic"] for t in json.loads(listed.stdout)["topics"]}
    assert topics == {creds.feed_topic, *creds.command_topics}


def _contract(tmp_path: Path) -> Path:
    for name, doc in all_contracts().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(json.dumps(doc))
    return tmp_path


def _options(
    team: str, creds: Credentials, endpoint: SaslEndpoint, feeds: Feeds, **kw: object
) -> Options:
    return Options(
        team=team,
        bootstrap=endpoint.bootstrap,
        user=creds.principal,
        password=creds.password,
        ca_file=endpoint.ca_file or None,
        topic_prefix=feeds.settings.topic_prefix,
        idle_exit=3.0,
        **kw,  # type: ignore[arg-type]
    )


def test_the_sample_subscriber_validates_and_replays(
    tmp_path: Path, kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """Every event validates; a replay from an offset or a time gives exactly the later events."""
    team, creds, ids = _feed_with_events(feeds, national_systems, 4)
    contract = Contract.from_dir(_contract(tmp_path))
    out = io.StringIO()
    deadline = time.monotonic() + 20
    while True:  # wait until the broker knows the new credential
        try:
            everything = subscribe(
                _options(team, creds, kafka_sasl, feeds, from_beginning=True), contract, out
            )
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    assert everything.invalid == 0, out.getvalue()
    assert sorted(everything.ids) == sorted(ids)

    by_offset = subscribe(
        _options(team, creds, kafka_sasl, feeds, from_offsets=["1"]), contract, io.StringIO()
    )
    lines = [line for line in out.getvalue().splitlines() if line]
    firsts = [line for line in lines if line.split()[0].endswith(":0")]
    assert by_offset.events == len(ids) - len(firsts)

    future = subscribe(
        _options(team, creds, kafka_sasl, feeds, from_time=datetime.now(UTC) + timedelta(hours=1)),
        contract,
        io.StringIO(),
    )
    assert future.events == 0
    past = subscribe(
        _options(team, creds, kafka_sasl, feeds, from_time=datetime.now(UTC) - timedelta(hours=1)),
        contract,
        io.StringIO(),
    )
    assert sorted(past.ids) == sorted(ids)


def test_the_subscriber_cli_resumes_with_its_group(
    tmp_path: Path,
    platform: Platform,
    kafka_sasl: SaslEndpoint,
    feeds: Feeds,
    national_systems: Issue,
) -> None:
    """``interlock feed subscribe`` prints every event once; run again, it resumes after them."""
    team, creds, ids = _feed_with_events(feeds, national_systems, 2)
    secret = tmp_path / "secret"
    secret.write_text(creds.password)
    contracts = _contract(tmp_path / "contracts")
    command = [
        sys.executable, "-m", "services.cli", "feed", "subscribe",
        "--team", team, "--bootstrap", kafka_sasl.bootstrap, "--user", creds.principal,
        "--password-file", str(secret), "--topic-prefix", feeds.settings.topic_prefix,
        "--group", f"{creds.group_prefix}sample-{uuid.uuid4().hex[:6]}",
        "--contracts", str(contracts), "--output", "json", "--idle-exit", "3",
        *(["--ca-file", kafka_sasl.ca_file] if kafka_sasl.ca_file else []),
    ]  # fmt: skip
    env = {**platform.env, "PYTHONPATH": str(ROOT), "INTERLOCK_LOG_LEVEL": "warning"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=40, check=False
        )

    first = _until_logged_in(run)
    assert first.returncode == 0, first.stderr
    printed = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    assert sorted(e["id"] for e in printed) == sorted(ids)

    more = triaged(team)
    feeds.publish([more])
    feeds.wait_for(team, of_subject(more.subject))
    second = run()
    assert second.returncode == 0, second.stderr
    again = [json.loads(line) for line in second.stdout.splitlines() if line.startswith("{")]
    assert [e["id"] for e in again] == [more.id]
