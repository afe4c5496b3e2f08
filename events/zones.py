"""Time zones of the people who read times: a member's own, else the one of their team's country.

The server stores and sends UTC; pages show a time in the viewer's zone (with UTC beside it where
a wrong hour matters: operations, deadlines) and forms take a time in an explicit zone. Pure.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

COUNTRY_ZONES: dict[str, str] = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn", "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris",
    "GB": "Europe/London", "GR": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest",
    "IE": "Europe/Dublin", "IT": "Europe/Rome", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga", "MD": "Europe/Chisinau", "MT": "Europe/Malta", "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo", "PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "RO": "Europe/Bucharest",
    "RS": "Europe/Belgrade", "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava", "TR": "Europe/Istanbul", "UA": "Europe/Kyiv",
}  # fmt: skip
"""The zone of each JIT country's capital (one zone per country in Europe, Portugal's and
Spain's islands aside): a member whose directory entry names no zone gets their team's."""

UTC_ZONE = "UTC"
CHOICES: tuple[str, ...] = (UTC_ZONE, *sorted(set(COUNTRY_ZONES.values())))
"""The zones offered in the UI's pickers."""


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this system knows."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_of_team(team: str, country: str | None = None) -> str:
    """The default zone of a team's members: its country's (the team code starts with it)."""
    code = (country or team[:2]).upper()
    return COUNTRY_ZONES.get(code, UTC_ZONE)


def member_zone(own: str | None, team: str, country: str | None = None) -> str:
    """A member's zone: their own when set and known, else their team's country's."""
    return own if own and is_zone(own) else zone_of_team(team, country)


def in_zone(when: datetime, zone: str) -> datetime:
    """``when`` (aware) as wall time in ``zone``."""
    return when.astimezone(ZoneInfo(zone if is_zone(zone) else UTC_ZONE))
