"""Words as the keyword search and the citation check compare them."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it
    its this that these those there their they them he she his her him who whom whose which what
    when where why how do does did has have had not no yes so than then also about into over after
    before said says say will would can could may might should one any all some such i we you our
    according article articles passage passages""".split()
)


_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")  # "1st" matches the "1" of a date


def tokens(text: str) -> list[str]:
    """Lower-cased content words cut to six letters: a cheap stemmer ('countries' ~ 'country')."""
    words = [_ORDINAL.sub(r"\1", w) for w in re.findall(r"\w+", text.lower())]
    return [w[:6] for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def content_words(text: str) -> set[str]:
    return set(tokens(text))
