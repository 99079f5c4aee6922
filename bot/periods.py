"""The period a briefing covers: dates as the user writes them ("Friday", "last week",
"2024-12-06", "December 6"), read relative to the as-of day."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.dates import WEEKDAYS, parse_day, relative_window
from bot.errors import QuestionError

_LEAD = re.compile(r"^\s*(?:since|from|after|until|till|to|before|by|on)\s+", re.IGNORECASE)
_WEEKDAY = re.compile(rf"^(last\s+)?({'|'.join(WEEKDAYS)})$", re.IGNORECASE)
_SINGLE_DAYS = ("today", "tonight", "yesterday", *WEEKDAYS)
"""Phrases that name one day: dateparser gives that day; relative_window widens them by a day
either side for retrieval, which is wrong for a period's edge."""


def parse_when(text: str, as_of: dt.date, end: bool = False) -> dt.date:
    """The day a date in words means, counted back from as_of. A span ("this week", "last
    week", "recently") gives its first day, or its last with end=True. QuestionError names
    the text when it is no date."""
    phrase = _LEAD.sub("", text.strip()).strip()
    if day := parse_day(phrase):
        return day
    if weekday := _WEEKDAY.match(
        phrase
    ):  # as the ask path reads it: on a Sunday, "Sunday" is today
        back = (as_of.weekday() - WEEKDAYS.index(weekday.group(2).lower())) % 7
        return as_of - dt.timedelta(days=back or (7 if weekday.group(1) else 0))
    window = relative_window(phrase, as_of)
    if window and not any(w in window.phrase.lower() for w in _SINGLE_DAYS) and "ago" not in phrase:
        return window.end if end else window.start
    import dateparser  # slow to import: only when a date is written in words

    base = dt.datetime.combine(as_of, dt.time())
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings) if phrase else None
    if parsed is None:
        raise QuestionError(f"{text!r} is not a date (try 2024-12-06, 'Friday' or 'last week')")
    return parsed.date()


@dataclass(frozen=True)
class Period:
    """Publication days a briefing covers, both ends included; an open end is unbounded."""

    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def of(cls, since: str | None, until: str | None, as_of: dt.date) -> Period:
        start = parse_when(since, as_of) if since else None
        stop = parse_when(until, as_of, end=True) if until else None
        if start and stop and start > stop:
            raise QuestionError(f"the period starts ({start}) after it ends ({stop})")
        return cls(start, stop)

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def holds(self, published: str | None) -> bool:
        """Is an article of this date inside? An undated one only in an unbounded period."""
        day = parse_day(published)
        if day is None:
            return not self.bounded
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def describe(self) -> str:
        if self.since and self.until:
            return f"between {self.since} and {self.until}"
        if self.since:
            return f"since {self.since}"
        if self.until:
            return f"until {self.until}"
        return "in the index"
