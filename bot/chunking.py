"""Split an article into sentence-aligned passages that keep their character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) before
# whitespace, or at a line break. Good enough for news prose, and it keeps exact offsets.
_SENTENCE_END = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+|\n+""")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sentence_spans(text: str) -> list[Span]:
    """Character spans of the sentences in text, without surrounding whitespace."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        _append_trimmed(spans, text, start, match.start() + len(match.group().rstrip()))
        start = match.end()
    _append_trimmed(spans, text, start, len(text))
    return spans


def prose_sentence_spans(text: str) -> list[Span]:
    """Like sentence_spans, but a full stop that ends an abbreviation ("vs.", "U.S.", "Jan. 5",
    "Mr.") ends no sentence (pysbd's rules). For answers, whose every sentence is checked and
    cited on its own; about 3 ms a kilobyte, so ingest keeps the faster sentence_spans (a
    passage boundary after "vs." still leaves whole words on both sides)."""
    spans = []
    for line in _LINE.finditer(text):
        for sentence in _segmenter().segment(line.group()):
            _append_trimmed(spans, text, line.start() + sentence.start, line.start() + sentence.end)
    return spans


_LINE = re.compile(r"[^\n]+")


@cache
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _append_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append(Span(start + lead, start + lead + len(stripped)))


def passage_spans(text: str, max_chars: int = 400) -> list[Span]:
    """Greedily pack whole sentences into passages of at most max_chars.

    A sentence longer than max_chars becomes a passage of its own rather than being cut
    mid-sentence, so every passage reads as prose and can be quoted as it stands.
    """
    passages: list[Span] = []
    current: Span | None = None
    for sentence in sentence_spans(text):
        if current and sentence.end - current.start <= max_chars:
            current = Span(current.start, sentence.end)
            continue
        if current:
            passages.append(current)
        current = sentence
    if current:
        passages.append(current)
    return passages
