"""IANA timezones as people pick them: one list for every zone picker, one check for every form.

Only real place zones (``Region/City``) and UTC are offered or accepted: ``Factory``, ``localtime``,
the ``posix/`` and ``right/`` copies and the old ``EST5EDT``-style names are not places anyone lives.
"""

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from . import ServiceError

_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
MESSAGE = "Choose a timezone from the list."


@functools.cache
def zone_names() -> frozenset[str]:
    """The zones a person may choose: ``Region/City`` names and UTC."""
    return frozenset(name for name in available_timezones() if name.split("/", 1)[0] in _REGIONS) | {"UTC"}


def zone_choices() -> list[str]:
    """Every choosable zone name, sorted, for a timezone select."""
    return sorted(zone_names())


def grouped_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Zones grouped by region for a select with ``<optgroup>``: ``[(region, [(value, label)])]``."""
    groups: dict[str, list[tuple[str, str]]] = {"UTC": [("UTC", "UTC")]}
    for name in zone_choices():
        if name != "UTC":
            region, _, place = name.partition("/")
            groups.setdefault(region, []).append((name, place.replace("_", " ").replace("/", " / ")))
    return list(groups.items())


def valid_zone(name: str | None, *, field: str = "timezone") -> ZoneInfo:
    """The chosen zone, or a refusal naming ``field``."""
    if not name or name not in zone_names():
        raise ServiceError(MESSAGE, field=field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(MESSAGE, field=field) from None


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The named zone, or UTC when the name is missing or unknown (for display, never for input)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
