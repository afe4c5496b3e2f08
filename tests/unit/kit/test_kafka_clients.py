"""Every Kafka client is built by the kit's one helper (services/kit/kafka.py).

That helper puts the process's SCRAM principal (and, on SASL_SSL, the CA) on every producer,
consumer, admin client and faust app; a client built anywhere else would connect without them,
so this test fails on one, in the services, the tests and the benchmarks alike.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from services.kit.kafka import client_config, kafka_config
from services.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
HELPER = ROOT / "services" / "kit" / "kafka.py"
STANDALONE = {
    ROOT / "services" / "release" / "subscriber.py": "the sample national-system subscriber: "
    "by design it uses nothing of Interlock but the contract, and the settings "
    "docs/national-systems.md gives (tests/integration/release/test_clients.py runs it)",
}
"""Clients that stand for a party outside Interlock, with the reason."""
CLIENT_MODULES = ("confluent_kafka", "aiokafka", "faust", "services.kit.kafka")
CLIENTS = frozenset(
    {
        "Producer",
        "Consumer",
        "AdminClient",
        "SerializingProducer",
        "DeserializingConsumer",
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AIOKafkaClient",
        "App",
    }
)


def _from_client_module(module: str | None) -> bool:
    return module is not None and any(
        module == m or module.startswith(m + ".") for m in CLIENT_MODULES
    )


def client_constructions(source: str, where: str) -> list[str]:
    """``where:line`` of each call that builds a Kafka client class directly."""
    tree = ast.parse(source)
    local: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _from_client_module(node.module):
            local |= {a.asname or a.name for a in node.names if a.name in CLIENTS}
        elif isinstance(node, ast.Import):
            modules |= {
                a.asname or a.name.split(".")[0] for a in node.names if _from_client_module(a.name)
            }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in local:
            found.append(f"{where}:{node.lineno}")
        elif isinstance(func, ast.Attribute) and func.attr in CLIENTS:
            base = func.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append(f"{where}:{node.lineno}")
    return found


def test_no_kafka_client_is_built_outside_the_kit_helper() -> None:
    offenders = [
        where
        for folder in ("services", "tests", "bench", "deploy", "contracts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != HELPER and path not in STANDALONE and "node_modules" not in path.parts
        for where in client_constructions(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert offenders == []


def test_the_check_sees_each_way_of_building_a_client() -> None:
    """The scan is not vacuous: direct, aliased and module-qualified constructions are caught."""
    source = """
import faust
import confluent_kafka as ck
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient as Admin
from aiokafka import AIOKafkaProducer
Consumer({})
Admin({})
ck.Producer({})
faust.App("x")
AIOKafkaProducer()
class Fake: ...
Fake()
"""
    assert client_constructions(source, "m") == ["m:7", "m:8", "m:9", "m:10", "m:11"]


def test_every_client_config_authenticates() -> None:
    """On a SCRAM broker the helper's settings carry the principal; on SASL_SSL, the CA too."""
    settings = Settings.model_validate(
        {
            "INTERLOCK_KAFKA_BOOTSTRAP": "127.0.0.1:9092",
            "INTERLOCK_KAFKA_USERNAME": "svc-leads",
            "INTERLOCK_KAFKA_PASSWORD": "s3cret",
        }
    )
    config = client_config(settings, {"group.id": "g"})
    assert config["security.protocol"] == "SASL_PLAINTEXT"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert (config["sasl.username"], config["sasl.password"]) == ("svc-leads", "s3cret")
    assert config["group.id"] == "g"
    tls = kafka_config("h:1", protocol="SASL_SSL", username="u", password="p", ca_file="/ca.pem")
    assert tls["ssl.ca.location"] == "/ca.pem"
    assert tls["ssl.endpoint.identification.algorithm"] == "https"
    assert "sasl.username" not in kafka_config("h:1", protocol="PLAINTEXT")


def test_a_process_role_reads_its_own_password(tmp_path: Path) -> None:
    """``as_principal`` swaps the admin for ``svc-<role>`` with the password from its file."""
    (tmp_path / "svc-tasking.password").write_text("from-file\n")
    admin = Settings.model_validate(
        {
            "INTERLOCK_KAFKA_USERNAME": "admin",
            "INTERLOCK_KAFKA_PASSWORD": "admin-secret",
            "INTERLOCK_KAFKA_SECRETS_DIR": str(tmp_path),
        }
    )
    role = admin.as_principal("svc-tasking")
    config = client_config(role)
    assert (config["sasl.username"], config["sasl.password"]) == ("svc-tasking", "from-file")
    assert "admin-secret" not in repr(role)
    assert role.group_id("outcomes") == "interlock-tasking-outcomes"


def test_a_process_role_answers_load_settings_with_its_own_principal(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Code that reads the settings again (``load_settings()``, e.g. a router's fallback) gets
    the role's principal, not the environment's admin."""
    from services.kit.settings import load_settings, use_principal

    (tmp_path / "svc-gateway.password").write_text("gw\n")
    monkeypatch.setenv("KAFKA_ADMIN_USER", "admin")
    monkeypatch.setenv("INTERLOCK_KAFKA_SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("INTERLOCK_KAFKA_USERNAME", raising=False)
    monkeypatch.delenv("INTERLOCK_KAFKA_PASSWORD_FILE", raising=False)
    load_settings.cache_clear()
    try:
        use_principal("svc-gateway")
        config = client_config(load_settings())
        assert (config["sasl.username"], config["sasl.password"]) == ("svc-gateway", "gw")
    finally:
        load_settings.cache_clear()
