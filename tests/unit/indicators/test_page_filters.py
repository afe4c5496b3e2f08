"""The report's filters do not replace the desk's: one name, one meaning, in the one template
environment every page shares (the report's ``duration`` once turned the desk's "5 min" into
"300 s")."""

from __future__ import annotations

import services.web.evaluation  # noqa: F401  (installs the report's filters)
from services.web.pages import _duration, templates


def test_the_desk_keeps_its_duration_and_the_report_has_its_own() -> None:
    assert templates.env.filters["duration"] is _duration
    assert templates.env.filters["duration"](300) == "5 min"
    assert templates.env.filters["elapsed"](180) == "3.0 min"
