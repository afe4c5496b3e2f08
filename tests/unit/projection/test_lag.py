"""Projection lag from the topics' ends and the projection's checkpoints (pure)."""

from __future__ import annotations

from services.projection.views import lag_report


def test_a_projection_that_wrote_every_offset_has_no_lag() -> None:
    """Caught up: no records behind, zero seconds, whatever the clocks say."""
    report = lag_report({("t", 0): (10, 5_000)}, {("t", 0): (9, 4_000)})
    assert report["lag_seconds"] == 0
    assert report["behind_records"] == 0


def test_lag_is_the_worst_partitions_newest_minus_projected_record_time() -> None:
    """Per partition: newest record time minus newest projected record time; the max wins."""
    report = lag_report(
        {("t", 0): (10, 9_000), ("t", 1): (4, 6_500), ("u", 0): (0, None)},
        {("t", 0): (7, 7_500), ("t", 1): (1, 6_000)},
    )
    assert report["lag_seconds"] == 1.5
    assert report["behind_records"] == 2 + 2
    assert report["newest_event_ms"] == 9_000
    assert report["newest_projected_ms"] == 7_500
    assert [p["lag_seconds"] for p in report["partitions"]] == [1.5, 0.5, 0]


def test_records_on_a_partition_never_projected_make_the_lag_unknown() -> None:
    """Nothing projected yet from a partition with records: lag is None, records are counted."""
    report = lag_report({("t", 0): (3, 1_000)}, {})
    assert report["lag_seconds"] is None
    assert report["behind_records"] == 3
