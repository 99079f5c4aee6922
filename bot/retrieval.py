"""Find the passages a question needs: dense (MiniLM) and keyword (BM25, bot.keywords) search,
fused by rank."""

from __future__ import annotations

import datetime as dt

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr

from bot.config import Settings
from bot.dates import LATE_DAYS, Window, mentioned_dates, parse_day, relative_window
from bot.store import Passage, Store

RRF_K = 60
"""Reciprocal rank fusion constant: the usual 60 keeps one list's top hit from dominating."""


class Retriever:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings

    def retrieve(
        self, question: str, k: int | None = None, as_of: dt.date | None = None
    ) -> list[Passage]:
        """The best k passages for the question, best first.

        Each passage's score is its cosine similarity to the question (0 when only the keyword
        search found it). With an as-of date, articles published after it are left out (the
        question was asked before they existed), and a relative span the question names ("this
        week", "on Tuesday", "recently") brings that span's articles forward.
        """
        k = k or self.settings.top_k
        n = self.settings.candidates
        dense = self.store.search(question, n)
        if self.settings.retrieval == "dense":
            return _not_after(dense, as_of)[:k]
        rankings = [dense, self.keyword_search(question, n), self._dated(question, n, as_of)]
        window = relative_window(question, as_of) if as_of else None
        if window:  # the span's passages, by meaning and by words
            rankings += self._within(question, n, window, rankings)
        return _not_after(fuse(rankings), as_of)[:k]

    def _within(
        self, question: str, n: int, window: Window, overall: list[list[Passage]]
    ) -> list[list[Passage]]:
        """The span's passages among the n best overall, by meaning and by words. When none of
        the n best is from the span, other weeks' look-alikes (the same award show, the same
        rate rise) have crowded it out: then the span's own articles are searched."""
        inside = [[p for p in ranking if window.holds(p.published)] for ranking in overall]
        if any(inside):
            return inside
        articles = self.store.keywords.articles_published(window.start, window.end)
        days = [window.start + dt.timedelta(days=i) for i in range(window.days)]
        return [
            self.store.search(question, n, among=articles),
            self.store.keyword_search(question, n, days=days),
        ]

    def keyword_search(self, question: str, n: int) -> list[Passage]:
        """BM25 over each passage with its article's title, source and date (bot.keywords)."""
        return self.store.keyword_search(question, n)

    def _dated(self, question: str, n: int, as_of: dt.date | None) -> list[Passage]:
        """Passages published on a day the question names, in keyword order.

        A day written without a year ("October 1st") is the last such day by the day asked,
        or by the newest article's day when that is earlier (an archive asked about today).
        """
        newest = parse_day(self.store.keywords.newest_day())
        reference = min((d for d in (as_of, newest) if d), default=None)
        days = mentioned_dates(question, reference)
        return self.store.keyword_search(question, n, days=days) if days else []


class BriefingRetriever(BaseRetriever):
    """The same hybrid search as Retriever, as a LangChain retriever returning Documents.

    Each Document is one passage; its metadata says where it comes from (article_id, title,
    source, published, url), where it sits in the article's text (start, end) and its cosine
    score. `k` and `as_of` can also be given per call: `retriever.invoke(question, k=2)`.
    """

    store: Store
    settings: Settings
    k: int | None = None
    """How many passages; settings.top_k when unset."""
    as_of: dt.date | None = None
    """The day questions are asked: later articles are left out (see Retriever.retrieve)."""
    _search: Retriever = PrivateAttr()

    def model_post_init(self, context: object, /) -> None:
        super().model_post_init(context)
        self._search = Retriever(self.store, self.settings)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        as_of: dt.date | None = None,
    ) -> list[Document]:
        passages = self._search.retrieve(query, k or self.k, as_of or self.as_of)
        return [passage_document(p) for p in passages]


def passage_document(passage: Passage) -> Document:
    """A passage as a LangChain Document (the answer JSON's citation fields in metadata)."""
    metadata = {
        "article_id": passage.article_id,
        "title": passage.title,
        "source": passage.source,
        "published": passage.published,
        "url": passage.url,
        "start": passage.start,
        "end": passage.end,
        "score": passage.score,
    }
    return Document(passage.text, id=f"{passage.article_id}:{passage.start}", metadata=metadata)


def _not_after(passages: list[Passage], as_of: dt.date | None) -> list[Passage]:
    """Passages of articles published by the as-of day (LATE_DAYS late, for time zones)."""
    if as_of is None:
        return passages
    last = as_of + dt.timedelta(days=LATE_DAYS)
    return [p for p in passages if (day := parse_day(p.published)) is None or day <= last]


def fuse(rankings: list[list[Passage]]) -> list[Passage]:
    """Reciprocal rank fusion; a passage keeps the best cosine score any list gave it."""
    fused: dict[tuple[str, int], float] = {}
    best: dict[tuple[str, int], Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, 1):
            key = (passage.article_id, passage.start)
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            if key not in best or passage.score > best[key].score:
                best[key] = passage
    order = sorted(fused, key=lambda key: -fused[key])
    return [best[key] for key in order]
