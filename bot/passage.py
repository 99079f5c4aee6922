"""A passage: a stretch of one article's text, as the index stores and search returns it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """A stretch of one article's text, with where it sits in that text."""

    article_id: str
    title: str
    source: str
    published: str | None
    url: str | None
    text: str
    start: int
    end: int
    score: float = 0.0
    """Cosine similarity to the query (1 is identical), set by search."""


def passage_from_record(document: str, meta: dict, score: float) -> Passage:
    """A passage from its Chroma record (document and metadata, "" standing for absent)."""
    return Passage(
        article_id=meta["article_id"],
        title=meta["title"],
        source=meta["source"],
        published=meta["published"] or None,
        url=meta["url"] or None,
        text=document,
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=round(score, 4),
    )
