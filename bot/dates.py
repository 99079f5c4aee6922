"""Dates in a question: days it names ("on October 22, 2023", "2023-11-24", "October 1st")
and spans it points at relative to the day it is asked ("this week", "on Tuesday", "recently")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

MONTHS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november december"
        .split(), 1
    )
}  # fmt: skip
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = r"(" + "|".join(dict.fromkeys([*MONTHS, "sept", *(m[:3] for m in MONTHS)])) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_WRITTEN = re.compile(rf"\b{_MONTH}\s+{_DAY}\b{_YEAR}", re.IGNORECASE)
"""A month, then the day: "October 22, 2023", "Nov. 8", "Dec 1st"."""
_DAY_FIRST = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w){_YEAR}", re.IGNORECASE)
"""The day, then the month: "3 November 2023", "the 5th of October"."""


def mentioned_dates(text: str, reference: dt.date | None = None) -> set[dt.date]:
    """Calendar days the text names. A day without a year is the last such day on or before
    reference ("December 30" asked on 3 January is last year's); without one it is skipped."""
    days = {_date(int(year), int(month), int(day)) for year, month, day in _ISO.findall(text)}
    written = [*_WRITTEN.findall(text), *((m, d, y) for d, m, y in _DAY_FIRST.findall(text))]
    for month_name, day, year in written:
        month = MONTHS[_full_month(month_name)]
        if year:
            days.add(_date(int(year), month, int(day)))
        elif reference:
            days.add(_last_before(reference, month, int(day)))
    days.discard(None)
    return days


def _full_month(name: str) -> str:
    return next(m for m in MONTHS if m.startswith(name.lower()[:3]))


def _last_before(reference: dt.date, month: int, day: int) -> dt.date | None:
    this_year = _date(reference.year, month, day)
    if this_year and this_year <= reference:
        return this_year
    return _date(reference.year - 1, month, day)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
VAGUE = ("recently", "lately", "in recent days", "in recent weeks")
"""Phrases that say only that it was not long ago: they name no span (Window.strict)."""
RECENT_DAYS = 14
"""How far back "recently" reaches ("in recent weeks": three times as far)."""
SPAN_SLACK_DAYS = 3
"""How long before a span an article may be published and still be about it (Window.may_hold)."""
DAY = dt.timedelta(days=1)
LATE_DAYS = 1
"""How long after a day an article may be dated and still be of it: time zones (retrieval
admits articles dated up to this after the day asked; a span holds them too)."""


@dataclass(frozen=True)
class Window:
    """A span of publication days a question points at, both ends included."""

    start: dt.date
    end: dt.date
    phrase: str
    asked: dt.date
    """The day the question was asked (relative_window's as_of)."""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, published: str | None) -> bool:
        day = parse_day(published)
        return day is not None and self.start <= day <= self.end

    def may_hold(self, published: str | None) -> bool:
        """Whether an article published then may be about the span: a day in it, up to
        SPAN_SLACK_DAYS before it (a week's story may start the weekend before), any day after
        it up to the day asked (Sunday's standings report Thursday night's game), LATE_DAYS
        more (time zones), or no date."""
        day = parse_day(published)
        early = self.start - SPAN_SLACK_DAYS * DAY
        late = max(self.end, self.asked) + LATE_DAYS * DAY  # a weekend's span ends after it
        return day is None or early <= day <= late

    @property
    def strict(self) -> bool:
        """A span named by a day or a count ("this week", "on Tuesday", "3 days ago"): not
        "recently" or "lately", which say only that it was not long ago."""
        return self.phrase.lower() not in VAGUE


Span = Callable[[re.Match, dt.date], tuple[dt.date, dt.date]]
_COUNTS = {num2words(n): n for n in range(1, 32)} | {
    "a": 1, "an": 1, "few": 3, "a few": 3, "several": 5,
    "couple": 2, "a couple": 2, "couple of": 2, "a couple of": 2,
}  # fmt: skip
_COUNT = rf"(?P<count>\d+|{'|'.join(sorted(_COUNTS, key=len, reverse=True))})"
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30}


def _today(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    return as_of - DAY, as_of  # a story of "today" or "last night" is often dated the day before


def _around(day: dt.date) -> tuple[dt.date, dt.date]:
    """A day's events are reported that day or the next (a day before: time zones)."""
    return day - DAY, day + DAY


def _yesterday(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    back = 2 if match.group(0).lower().startswith("the day before") else 1
    return _around(as_of - back * DAY)  # yesterday's news is in today's paper too


def _weekday(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The last such day ("on Tuesday" asked on a Tuesday: today). "Last Tuesday" asked on a
    Wednesday may mean yesterday or the week before: both are held."""
    phrase = match.group(0).lower()
    named = WEEKDAYS.index(phrase.split()[-1])
    back = (as_of.weekday() - named) % 7 or (7 if phrase.startswith("last") else 0)
    start, end = _around(as_of - back * DAY)
    if phrase.startswith("last") and back < 7:
        start -= 7 * DAY
    return start, end


def _weekend(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The last Saturday and Sunday up to as_of ("last weekend" asked on one: the one before),
    from the Friday before to the Monday after, when its stories are reported."""
    saturday = as_of - ((as_of.weekday() - 5) % 7) * DAY
    if match.group(0).lower().startswith("last") and as_of.weekday() >= 5:
        saturday -= 7 * DAY
    return saturday - DAY, saturday + 2 * DAY


def _week_or_month(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    phrase = match.group(0).lower()
    month_start = as_of.replace(day=1)
    starts = {
        # the last seven days, which hold the calendar week: asked on a Monday, "this week"
        # (a news quiz's week) still holds last Wednesday's story
        "this week": as_of - 6 * DAY,
        "last week": as_of - 13 * DAY,
        "past week": as_of - 13 * DAY,
        "this month": month_start,
        "last month": (month_start - DAY).replace(day=1),
        "past month": as_of - 31 * DAY,
        "this year": as_of.replace(month=1, day=1),
        "last year": as_of.replace(year=as_of.year - 1, month=1, day=1),
    }
    return starts[" ".join(phrase.split()[-2:])], as_of  # "in the past week": "past week"


def _recent(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    weeks = match.group(0).lower().endswith("weeks")
    return as_of - RECENT_DAYS * (3 if weeks else 1) * DAY, as_of


def _counted(match: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """ "the past 3 days", "the last two weeks", "in the past 24 hours": back from as_of;
    "3 days ago", "a week ago": that day, give or take one."""
    count, unit = match.group("count").lower(), match.group("unit").lower().rstrip("s")
    number = int(count) if count.isdigit() else _COUNTS[count]
    days = max(1, round(number * _UNIT_DAYS[unit]))
    if match.group(0).lower().endswith("ago"):
        return _around(as_of - days * DAY)
    return as_of - days * DAY, as_of


_SPANS: list[tuple[re.Pattern, Span]] = [
    (re.compile(p, re.IGNORECASE), span)
    for p, span in [
        (r"\b(?:today|tonight|last night|this (?:morning|afternoon|evening))\b", _today),
        (r"\b(?:the day before )?yesterday\b", _yesterday),
        (rf"\b(?:(?:on|last|this) )?(?:{'|'.join(WEEKDAYS)})\b", _weekday),
        (r"\b(?:(?:this|last|this past) weekend|(?:over|during|at|on) the weekend)\b", _weekend),
        (
            r"\b(?:(?:in|over|during) )?(?:the )?(?:this|last|past) (?:week|month|year)\b",
            _week_or_month,
        ),
        (r"\b(?:recently|lately|in recent (?:days|weeks))\b", _recent),
        (
            rf"\b(?:in )?(?:the )?(?:past|last) {_COUNT} (?P<unit>hours?|days?|weeks?|months?)\b",
            _counted,
        ),
        (rf"\b{_COUNT} (?P<unit>days?|weeks?) ago\b", _counted),
    ]
]


def relative_window(text: str, as_of: dt.date) -> Window | None:
    """The days a relative phrase in the text points at, counted back from as_of.

    News questions are asked on a day: "this week", "on Tuesday", "yesterday", "recently",
    "last month" and "over the weekend" mean days before that one. The first phrase counts;
    None when the text names no such span.
    """
    found = [
        (match, span)
        for pattern, span in _SPANS
        for match in pattern.finditer(text)
        if not _names_a_day(text, match)
    ]
    if not found:
        return None
    match, span = min(found, key=lambda f: (f[0].start(), -len(f[0].group(0))))
    start, end = span(match, as_of)
    return Window(start, end, match.group(0), as_of)


def _names_a_day(text: str, match: re.Match) -> bool:
    """A bare weekday or "today" after a capitalised word inside a sentence is part of a name,
    not a day counted from today: "during Black Friday", "Cyber Monday deals", "Super Tuesday
    votes", "the article from Business Today", "USA Today reported"."""
    if match.group(0).lower() not in (*WEEKDAYS, "today"):
        return False
    words = text[: match.start()].split()
    return len(words) > 1 and words[-1][:1].isupper() and not words[-2].endswith((".", "?", "!"))


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
