"""A worker's table changelogs exist, compacted and led, before it joins its group.

Without that, a consumer group assigned while faust's own just-created changelog was not yet in
the broker's metadata gave the table no partitions, and every write of it failed with
``PartitionsMismatch`` until the process restarted (seen on a cold broker in CI).
"""

from __future__ import annotations

import uuid

from confluent_kafka.admin import ConfigResource

from services.kit.kafka import admin_client, faust_app
from services.kit.streams import declare_changelogs
from tests.support import infra


def test_changelogs_are_declared_compacted_and_led(kafka_bootstrap: str) -> None:
    prefix = f"it-changelog-{uuid.uuid4().hex[:8]}."
    settings = infra.kafka_settings().model_copy(update={"topic_prefix": prefix, "partitions": 3})
    app = faust_app(
        settings,
        f"{prefix}interlock-probe",
        topic_partitions=3,
        topic_replication_factor=1,
    )
    app.Table("lead_to_state", partitions=3, key_type=bytes)
    app.Table("hit_to_state", partitions=3, key_type=bytes)
    admin = admin_client(infra.kafka_settings())
    wanted = sorted(
        f"{prefix}interlock-probe-{table}-changelog" for table in ("lead_to_state", "hit_to_state")
    )
    try:
        assert sorted(declare_changelogs(app, settings)) == wanted

        metadata = admin.list_topics(timeout=10).topics
        for name in wanted:
            partitions = metadata[name].partitions
            assert len(partitions) == 3
            assert all(p.leader >= 0 for p in partitions.values())
            config = admin.describe_configs([ConfigResource("topic", name)])
            entries = next(iter(config.values())).result(10)
            assert entries["cleanup.policy"].value == "compact"

        assert declare_changelogs(app, settings) == [], "a second declaration creates nothing"
    finally:
        for future in admin.delete_topics(wanted).values():
            future.result(30)
