"""Calendar arithmetic for rules: calendar months with end-of-month clamping, Easter, and
public holidays read from a calendar data file (rules/calendars/*.yaml)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from rules.errors import RuleDefinitionError

CALENDAR_DIR = Path(__file__).resolve().parent / "calendars"
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def add_months(start: date, months: int) -> date:
    """`start` plus whole calendar months; a day past the month's end clamps to its last day
    (31 January + 1 month = 28/29 February)."""
    total = start.year * 12 + (start.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (name from the published algorithm)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@dataclass(frozen=True)
class Holiday:
    """One holiday definition: a fixed month-day or an offset from Easter, optionally shifted
    when it falls on a Sunday, limited to a range of years or to every n-th year."""

    name: str
    month_day: tuple[int, int] | None = None
    easter_offset: int | None = None
    sunday_shift: int = 0
    from_year: int | None = None
    until_year: int | None = None
    every_years: int | None = None
    base_year: int | None = None

    def on(self, year: int) -> date | None:
        """The date of this holiday in `year`, or None if it is not held that year."""
        if self.from_year is not None and year < self.from_year:
            return None
        if self.until_year is not None and year > self.until_year:
            return None
        if self.every_years and (year - (self.base_year or 0)) % self.every_years:
            return None
        if self.easter_offset is not None:
            return easter_sunday(year) + timedelta(days=self.easter_offset)
        assert self.month_day is not None
        day = date(year, *self.month_day)
        if day.weekday() == 6 and self.sunday_shift:
            day += timedelta(days=self.sunday_shift)
        return day


@dataclass(frozen=True)
class HolidayCalendar:
    """A named set of holiday definitions with the source it rests on."""

    id: str
    title: str
    holidays: tuple[Holiday, ...]
    source: dict

    def holidays_in(self, year: int) -> dict[date, str]:
        """All holidays held in `year`, by date."""
        out: dict[date, str] = {}
        for holiday in self.holidays:
            day = holiday.on(year)
            if day is not None:
                out.setdefault(day, holiday.name)
        return out

    def non_working_reason(self, day: date) -> str | None:
        """'zaterdag', 'zondag' or the holiday's name when `day` is not a working day, else None."""
        name = self.holidays_in(day.year).get(day)
        if name:
            return f"{WEEKDAYS_NL[day.weekday()]}, {name}"
        if day.weekday() >= 5:
            return WEEKDAYS_NL[day.weekday()]
        return None

    def next_working_day(self, day: date) -> date:
        """The first day after `day` that is no Saturday, Sunday or holiday."""
        day += timedelta(days=1)
        while self.non_working_reason(day):
            day += timedelta(days=1)
        return day


HOLIDAY_KEYS = {"name", "date", "easter_offset", "if_sunday", "from_year", "until_year",
                "every_years", "base_year", "note"}


@lru_cache(maxsize=None)
def load_calendar(calendar_id: str, directory: Path = CALENDAR_DIR) -> HolidayCalendar:
    """Read `directory/<calendar_id>.yaml`; errors name the file and the allowed keys."""
    path = directory / f"{calendar_id}.yaml"
    if not path.is_file():
        allowed = sorted(p.stem for p in directory.glob("*.yaml"))
        raise RuleDefinitionError(path, f"unknown calendar '{calendar_id}'; allowed: {', '.join(allowed)}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    holidays = []
    for i, raw in enumerate(data.get("holidays", [])):
        where = f"holidays[{i}]"
        unknown = set(raw) - HOLIDAY_KEYS
        if unknown:
            raise RuleDefinitionError(path, f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(HOLIDAY_KEYS)}")
        if ("date" in raw) == ("easter_offset" in raw):
            raise RuleDefinitionError(path, f"{where} ({raw.get('name')}): give exactly one of 'date' (MM-DD) or 'easter_offset'")
        month_day = None
        if "date" in raw:
            month, day = (int(x) for x in str(raw["date"]).split("-"))
            month_day = (month, day)
        holidays.append(Holiday(
            name=raw["name"], month_day=month_day, easter_offset=raw.get("easter_offset"),
            sunday_shift=int(raw.get("if_sunday", 0)), from_year=raw.get("from_year"),
            until_year=raw.get("until_year"), every_years=raw.get("every_years"),
            base_year=raw.get("base_year"),
        ))
    return HolidayCalendar(id=calendar_id, title=data.get("title", calendar_id),
                           holidays=tuple(holidays), source=data.get("source", {}))
