"""Half-days of the week as the clinic speaks of them: ``mon-am`` … ``sat-am``."""

from __future__ import annotations

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS: tuple[str, ...] = ("am", "pm")
ALL_HALFDAYS: tuple[str, ...] = tuple(f"{d}-{p}" for d in DAYS for p in PERIODS)
WORKING_HALFDAYS: tuple[str, ...] = ALL_HALFDAYS[: ALL_HALFDAYS.index("sat-am") + 1]
"""Monday morning to Saturday morning: the half-days a site can open."""

DAY_LABELS_FR = {
    "mon": "lundi",
    "tue": "mardi",
    "wed": "mercredi",
    "thu": "jeudi",
    "fri": "vendredi",
    "sat": "samedi",
    "sun": "dimanche",
}
PERIOD_LABELS_FR = {"am": "matin", "pm": "après-midi"}


def halfday_label(key: str) -> str:
    """``tue-pm`` -> ``mardi après-midi``."""
    day, period = key.split("-")
    return f"{DAY_LABELS_FR[day]} {PERIOD_LABELS_FR[period]}"


def sort_halfdays(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    return sorted(set(keys), key=ALL_HALFDAYS.index)


def invalid_halfdays(keys: list[str] | tuple[str, ...]) -> list[str]:
    return [k for k in keys if k not in ALL_HALFDAYS]
