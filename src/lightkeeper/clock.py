"""Time as a dependency: the app asks its clock, tests inject a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        self._now += delta
        return self._now


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"6h"``, ``"1d"``, ``"2w"`` (or ``"90s"``) as a timedelta.

    Raises:
        ValueError: not a positive whole number followed by one of s, m, h, d, w.
    """
    raw = text.strip().lower()
    number, unit = raw[:-1], raw[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) == 0:
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit, e.g. 30m, 6h, 1d, 2w"
        )
    return timedelta(seconds=int(number) * _UNITS[unit])
