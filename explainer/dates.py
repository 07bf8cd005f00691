"""Dates with their precision (day, month or year), checked and formatted by CLDR through Babel."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date, format_skeleton


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date known to the day, the month or only the year."""

    year: int
    month: int = 0
    day: int = 0

    @property
    def precision(self) -> str:
        """Return 'day', 'month' or 'year'."""
        return "day" if self.day else "month" if self.month else "year"

    @property
    def iso(self) -> str:
        """Return the date as written in content and in <time datetime>: 2026-01-15, 2026-02 or 2008."""
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def first_day(self) -> datetime.date:
        """Return the first day this date may stand for."""
        return datetime.date(self.year, self.month or 1, self.day or 1)


def parse_date(text: str) -> PartialDate:
    """Parse 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'; raise ValueError for an impossible date."""
    parts = text.split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(f"expected a date like 2026-01-15, 2026-02 or 2008, not {text!r}")
    if any(len(p) != 2 for p in parts[1:]):
        raise ValueError(f"expected two-digit months and days, not {text!r}")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    year, month, day = numbers
    if len(parts) >= 2 and not 1 <= month <= 12:
        raise ValueError(f"{text} is not a date: there is no month {month}")
    if len(parts) == 3:
        try:
            datetime.date(year, month, day)
        except ValueError:
            raise ValueError(f"{text} is not a date: that month has no day {day}") from None
    return PartialDate(year, month, day)


# Unbounded: a site has a date per event at most, and Babel takes a fifth of a millisecond per call.
@functools.cache
def format_partial_date(value: PartialDate, locale: str) -> str:
    """Format at the date's precision: '15 de enero de 2026', 'February 2026', '2008'."""
    if value.day:
        return format_date(value.first_day(), format="long", locale=locale)
    if value.month:
        return format_skeleton("yMMMM", value.first_day(), locale=locale)
    return format_skeleton("y", value.first_day(), locale=locale)


@functools.lru_cache(maxsize=1024)
def format_month(year: int, month: int, locale: str, width: str = "MMMM") -> str:
    """Format a month of a year: 'enero de 2026', 'Jan 2026' (width MMM)."""
    return format_skeleton("y" + width, datetime.date(year, month, 1), locale=locale)


def load_locales(languages: Iterable[str]) -> None:
    """Load Babel's data for these languages now, once per process: processes forked after share it."""
    # Each process formatting dates otherwise loads it on the first date it formats (0.03 s for two
    # languages): each rendering worker of a first build, and the feeds' process of every large build.
    for language in languages:
        Locale.parse(language).date_formats  # noqa: B018 (loads the locale's data)
