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
_SHORT_AMOUNT = re.compile(r"([$£€]\s?\d+(?:[.,]\d+)?)\s?(bn|b|mn|m|k)\b", re.IGNORECASE)
_AMOUNT_WORDS = {"bn": "billion", "b": "billion", "mn": "million", "m": "million", "k": "thousand"}


def spelled_amounts(text: str) -> str:
    """Money as headlines shorten it, written out: "$4.3B" is "$4.3 billion" (a draft may
    write either). Only after a currency sign: "100m" alone may be a sprint."""
    return _SHORT_AMOUNT.sub(lambda m: f"{m[1]} {_AMOUNT_WORDS[m[2].lower()]}", text)


def tokens(text: str) -> list[str]:
    """Lower-cased content words cut to six letters: a cheap stemmer ('countries' ~ 'country')."""
    words = [_ORDINAL.sub(r"\1", w) for w in re.findall(r"\w+", spelled_amounts(text).lower())]
    return [w[:6] for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def content_words(text: str) -> set[str]:
    return set(tokens(text))


REFERRING_WORDS = frozenset(
    """it its they them their theirs he him his she her hers this that these those there then
    such same other another former latter also too else""".split()
)
"""English's closed class of words that point back at something said before (pronouns,
demonstratives, "the same", "also"): a question without one needs no conversation to read."""
_CONTINUES = re.compile(r"^\W*(?:and|but|or|so|what about|how about)\b", re.IGNORECASE)


def refers_back(question: str) -> bool:
    """Does a chat question lean on the turns before it ("and who leads them?", "Why?")?
    Only such a question is worth rewriting by the model, which costs seconds per question."""
    words = re.findall(r"\w+", question.lower())
    return (
        bool(_CONTINUES.match(question))
        or any(w in REFERRING_WORDS for w in words)
        or len(content_words(question)) < 2  # "Why?", "Who won?": elliptical
    )
