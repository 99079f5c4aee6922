"""Dates in a question: days it names ("on October 22, 2023", "2023-11-24", "October 1st")
and spans it points at relative to the day it is asked ("this week", "on Tuesday", "recently")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november december"
        .split(), 1
    )
}  # fmt: skip
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WRITTEN = re.compile(
    r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?", re.IGNORECASE
)


def mentioned_dates(text: str, default_year: int | None = None) -> set[dt.date]:
    """Calendar days the text names; a day without a year takes default_year, else is skipped."""
    days = set()
    for year, month, day in _ISO.findall(text):
        days.add(_date(int(year), int(month), int(day)))
    for month, day, year in _WRITTEN.findall(text):
        year_number = int(year) if year else default_year
        if year_number:
            days.add(_date(year_number, MONTHS[month.lower()], int(day)))
    days.discard(None)
    return days


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
VAGUE = ("recently", "lately")
"""Phrases that say only that it was not long ago: they reach RECENT_DAYS back."""
RECENT_DAYS = 14
SPAN_SLACK_DAYS = 3
"""How long before a span an article may be published and still be about it (Window.may_hold)."""


@dataclass(frozen=True)
class Window:
    """A span of publication days a question points at, both ends included."""

    start: dt.date
    end: dt.date
    phrase: str

    def holds(self, published: str | None) -> bool:
        day = parse_day(published)
        return day is not None and self.start <= day <= self.end

    def may_hold(self, published: str | None) -> bool:
        """Whether an article published then may be about the span: a day in it or up to
        SPAN_SLACK_DAYS before it (a week's story may start the weekend before), or no date."""
        day = parse_day(published)
        return day is None or self.start - dt.timedelta(days=SPAN_SLACK_DAYS) <= day <= self.end

    @property
    def strict(self) -> bool:
        """A span named by a day or a count ("this week", "on Tuesday", "3 days ago"): not
        "recently" or "lately", which say only that it was not long ago."""
        return self.phrase.lower() not in VAGUE


_RELATIVE = re.compile(
    r"\b(today|tonight|yesterday|this week|last week|past week|this month|last month|"
    r"past month|this year|last year|recently|lately|(?:on |last |this )?(?:"
    + "|".join(WEEKDAYS)
    + r")|(?:in the )?(?:past|last) (\d+|few|two|three) (days|weeks)|(\d+) (days|weeks) ago)\b",
    re.IGNORECASE,
)
_COUNTS = {"few": 3, "two": 2, "three": 3}


def relative_window(text: str, as_of: dt.date) -> Window | None:
    """The days a relative phrase in the text points at, counted back from as_of.

    News questions are asked on a day: "this week", "on Tuesday", "yesterday", "recently" and
    "last month" mean days before that one. None when the text names no such span.
    """
    match = next((m for m in _RELATIVE.finditer(text) if not _names_a_day(text, m)), None)
    if not match:
        return None
    phrase = match.group(1).lower()
    start, end = _span(phrase, match, as_of)
    return Window(start, end, match.group(1))


def _names_a_day(text: str, match: re.Match) -> bool:
    """A bare weekday or "today" after a capitalised word inside a sentence is part of a name,
    not a day counted from today: "during Black Friday", "Cyber Monday deals", "Super Tuesday
    votes", "the article from Business Today", "USA Today reported"."""
    if match.group(1).lower() not in (*WEEKDAYS, "today"):
        return False
    words = text[: match.start()].split()
    return len(words) > 1 and words[-1][:1].isupper() and not words[-2].endswith((".", "?", "!"))


def _span(phrase: str, match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    day = dt.timedelta(days=1)
    week_start = as_of - as_of.weekday() * day
    month_start = as_of.replace(day=1)
    if phrase in ("today", "tonight"):
        return as_of - day, as_of  # a story of "today" is often dated the evening before
    if phrase == "yesterday":
        return as_of - 2 * day, as_of - day
    if phrase == "this week":
        return week_start - day, as_of
    if phrase in ("last week", "past week"):
        return as_of - 13 * day, as_of
    if phrase == "this month":
        return month_start, as_of
    if phrase == "last month":
        previous = (month_start - day).replace(day=1)
        return previous, as_of
    if phrase == "past month":
        return as_of - 31 * day, as_of
    if phrase == "this year":
        return as_of.replace(month=1, day=1), as_of
    if phrase == "last year":
        return as_of.replace(year=as_of.year - 1, month=1, day=1), as_of
    if phrase in VAGUE:
        return as_of - RECENT_DAYS * day, as_of
    named = phrase.split()[-1]
    if named in WEEKDAYS:
        back = (as_of.weekday() - WEEKDAYS.index(named)) % 7 or (7 if "last" in phrase else 0)
        target = as_of - back * day
        return target - day, target + day  # a day's events are reported that day or the next
    count_word = match.group(2) or match.group(4)
    unit = match.group(3) or match.group(5)
    count = int(count_word) if count_word.isdigit() else _COUNTS[count_word.lower()]
    days = count * (7 if unit.lower().startswith("week") else 1)
    if match.group(4):  # "3 days ago": that day, give or take one
        target = as_of - days * day
        return target - day, target + day
    return as_of - days * day, as_of


def spoken_day(day: dt.date) -> str:
    """A day as a reader writes it: "4 March 2024" (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"


def parse_day(value: str | None) -> dt.date | None:
    """The calendar day of an ISO date or datetime string; None when there is none."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
