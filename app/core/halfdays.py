"""Half-days of the week as the clinic speaks of them: ``mon-am`` … ``sat-am``."""

from __future__ import annotations

from scheduling.rota.halfdays import FRENCH_DAYS, FRENCH_PERIODS, HALF_DAY_KEYS, WEEKDAYS

DAYS: tuple[str, ...] = WEEKDAYS
ALL_HALFDAYS: tuple[str, ...] = HALF_DAY_KEYS
WORKING_HALFDAYS: tuple[str, ...] = ALL_HALFDAYS[: ALL_HALFDAYS.index("sat-am") + 1]
"""Monday morning to Saturday morning: the half-days a site can open."""

DAY_LABELS_FR = dict(zip(WEEKDAYS, FRENCH_DAYS, strict=True))
PERIOD_LABELS_FR = FRENCH_PERIODS


def halfday_label(key: str) -> str:
    """``tue-pm`` -> ``mardi après-midi``."""
    day, period = key.split("-")
    return f"{DAY_LABELS_FR[day]} {PERIOD_LABELS_FR[period]}"


def sort_halfdays(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    return sorted(set(keys), key=ALL_HALFDAYS.index)


def invalid_halfdays(keys: list[str] | tuple[str, ...]) -> list[str]:
    return [k for k in keys if k not in ALL_HALFDAYS]
