"""Dates named in a question ("on October 22, 2023", "2023-11-24", "October 1st")."""

from __future__ import annotations

import datetime as dt
import re

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
