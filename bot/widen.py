"""Show the model each found passage with the sentences around it ("small to big").

Search works best on short passages: one or two sentences, so a match is precise. An answer
needs more: the sentence before often names who or what the found sentence is about ("He
said ..."), and the one after finishes the thought. So each found passage is widened, in its
own article, by whole sentences on both sides up to a size, and passages that then touch or
overlap are merged. The widened passage is still a stretch of the article's text with exact
offsets, so a citation of it can be shown and checked as before.

Off by default (BRIEFING_CONTEXT_CHARS=0): against a wider passage the word-level support
check lets more invented answers through; evals/RESULTS.md has the numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.chunking import Span, sentence_spans
from bot.passage import Passage

ArticleText = Callable[[str], str | None]
"""An article's whole text by its id (None when it is no longer indexed)."""


def widen(passages: list[Passage], article_text: ArticleText, chars: int) -> list[Passage]:
    """Each passage widened to about `chars` characters of its article, in the same order;
    passages that overlap or meet once widened merge into one, standing where the best of
    them stood."""
    if chars <= 0:
        return passages
    articles: dict[str, tuple[str, list[Span]] | None] = {}
    widened: list[Passage] = []
    for passage in passages:
        if passage.article_id not in articles:  # one read and one split per article
            text = article_text(passage.article_id)
            articles[passage.article_id] = (text, sentence_spans(text)) if text else None
        article = articles[passage.article_id]
        if article is None or article[0][passage.start : passage.end] != passage.text:
            widened.append(passage)  # the article is gone or changed since the search
            continue
        text, sentences = article
        _merge_into(widened, _around(passage, text, sentences, chars), text)
    return widened


def _around(passage: Passage, text: str, sentences: list[Span], chars: int) -> Passage:
    """The passage with whole sentences added before and after, alternately, while it stays
    within `chars` (a passage already longer is kept as it is)."""
    before = [s for s in sentences if s.end <= passage.start][::-1]
    after = [s for s in sentences if s.start >= passage.end]
    span = Span(passage.start, passage.end)
    while before or after:
        for side in (before, after):
            wider = _joined(span, side[0]) if side else None
            if wider and wider.end - wider.start <= chars:
                span = wider
                side.pop(0)
            else:
                side.clear()  # nothing further on this side fits: the span only grows
    return _stretch(passage, text, span)


def _merge_into(widened: list[Passage], wide: Passage, text: str) -> None:
    """Add `wide`, merged with every passage of its article that it overlaps or meets (a
    passage bridging two others joins all three), at the place of the first of them."""
    at = len(widened)
    while (i := _first_touching(widened, wide, text)) is not None:
        kept = widened.pop(i)
        at = min(at, i)
        span = _joined(Span(kept.start, kept.end), Span(wide.start, wide.end))
        wide = _stretch(kept, text, span, score=max(kept.score, wide.score))
    widened.insert(at, wide)


def _first_touching(widened: list[Passage], wide: Passage, text: str) -> int | None:
    """The first passage of wide's article that overlaps it or is only whitespace apart."""
    for i, kept in enumerate(widened):
        first, second = sorted((kept, wide), key=lambda p: p.start)
        if kept.article_id == wide.article_id and not text[first.end : second.start].strip():
            return i
    return None


def _joined(a: Span, b: Span) -> Span:
    return Span(min(a.start, b.start), max(a.end, b.end))


def _stretch(passage: Passage, text: str, span: Span, score: float | None = None) -> Passage:
    return dataclasses.replace(
        passage,
        text=text[span.start : span.end],
        start=span.start,
        end=span.end,
        score=passage.score if score is None else score,
    )
