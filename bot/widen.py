"""Show the model each found passage with the sentences around it ("small to big").

Search works best on short passages: one or two sentences, so a match is precise. An answer
needs more: the sentence before often names who or what the found sentence is about ("He
said ..."), and the one after finishes the thought. So each found passage is widened, in its
own article, by whole sentences on both sides up to a size, and passages that then touch or
overlap are merged. The widened passage is still a stretch of the article's text with exact
offsets, so a citation of it can be shown and checked as before.

Off by default (BRIEFING_CONTEXT_CHARS=0): against a wider passage the word-level support
check lets more invented answers through; the README's Evals section has the numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.chunking import Span, sentence_spans
from bot.passage import Passage

ArticleText = Callable[[str], str | None]
"""An article's whole text by its id (None when it is no longer indexed)."""


def widen(passages: list[Passage], article_text: ArticleText, chars: int) -> list[Passage]:
    """Each passage widened to about `chars` characters of its article, in the same order; a
    passage that overlaps one already widened from the same article merges into it (the
    merged passage stands where the better of the two stood)."""
    if chars <= 0:
        return passages
    texts: dict[str, str | None] = {}
    widened: list[Passage] = []
    for passage in passages:
        if passage.article_id not in texts:
            texts[passage.article_id] = article_text(passage.article_id)
        text = texts[passage.article_id]
        wide = _around(passage, text, chars) if text else passage
        _merge_into(widened, wide, text)
    return widened


def _around(passage: Passage, text: str, chars: int) -> Passage:
    """The passage with whole sentences added before and after, alternately, while it stays
    within `chars` (a passage already longer is kept as it is)."""
    if text[passage.start : passage.end] != passage.text:  # the article changed since search
        return passage
    sentences = sentence_spans(text)
    before = [s for s in sentences if s.end <= passage.start][::-1]
    after = [s for s in sentences if s.start >= passage.end]
    span = Span(passage.start, passage.end)
    while before or after:
        grown = False
        for side in (before, after):
            if side and _size(_joined(span, side[0])) <= chars:
                span = _joined(span, side.pop(0))
                grown = True
        if not grown:
            break
    return _stretch(passage, text, span)


def _merge_into(widened: list[Passage], wide: Passage, text: str | None) -> None:
    for i, kept in enumerate(widened):
        if text and kept.article_id == wide.article_id and _touch(kept, wide, text):
            span = Span(min(kept.start, wide.start), max(kept.end, wide.end))
            widened[i] = _stretch(kept, text, span, score=max(kept.score, wide.score))
            return
    widened.append(wide)


def _touch(a: Passage, b: Passage, text: str) -> bool:
    """Overlapping, or only whitespace apart."""
    first, second = sorted((a, b), key=lambda p: p.start)
    return not text[first.end : second.start].strip()


def _joined(span: Span, sentence: Span) -> Span:
    return Span(min(span.start, sentence.start), max(span.end, sentence.end))


def _size(span: Span) -> int:
    return span.end - span.start


def _stretch(passage: Passage, text: str, span: Span, score: float | None = None) -> Passage:
    return dataclasses.replace(
        passage,
        text=text[span.start : span.end],
        start=span.start,
        end=span.end,
        score=passage.score if score is None else score,
    )
