"""Configuration errors name the environment variable to fix."""

from __future__ import annotations

import pytest

from services.kit.settings import ConfigurationError, Settings, read_settings
from services.retention.settings import RetentionSettings
from services.tasking.settings import TaskingSettings


@pytest.mark.parametrize(
    ("model", "variable", "value"),
    [
        (Settings, "INTERLOCK_PARTITIONS", "0"),
        (Settings, "INTERLOCK_KAFKA_BOOTSTRAP", "no port"),
        (TaskingSettings, "INTERLOCK_TASKING_DEADLINE_CHECK_SECONDS", "-1"),
        (RetentionSettings, "INTERLOCK_RETENTION_CHECK_SECONDS", "soon"),
    ],
)
def test_a_bad_value_stops_with_the_variable_named_once(
    monkeypatch: pytest.MonkeyPatch, model: type, variable: str, value: str
) -> None:
    """The message names the exact variable (never INTERLOCK_INTERLOCK_…)."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as stopped:
        read_settings(model)
    message = str(stopped.value)
    assert f"{variable}: " in message
    assert "INTERLOCK_INTERLOCK" not in message
