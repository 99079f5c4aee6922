"""Find the passages a question needs: dense (MiniLM) and keyword (BM25) search, fused by rank."""

from __future__ import annotations

import datetime as dt

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr
from rank_bm25 import BM25Plus

from bot.config import Settings
from bot.dates import mentioned_dates, parse_day, relative_window
from bot.store import Passage, Store
from bot.words import tokens

RRF_K = 60
"""Reciprocal rank fusion constant: the usual 60 keeps one list's top hit from dominating."""


class Retriever:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self._keyword_index: tuple | None = None

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
        keyword = self._keyword_ranking(question)
        rankings = [dense, keyword[:n], self._dated(question, keyword)[:n]]
        window = relative_window(question, as_of) if as_of else None
        if window:  # the span's passages, by meaning and by words
            rankings += [[p for p in ranking if window.holds(p.published)] for ranking in rankings]
        return _not_after(fuse(rankings), as_of)[:k]

    def keyword_search(self, question: str, n: int) -> list[Passage]:
        """BM25 over each passage with its article's title, source and date."""
        return self._keyword_ranking(question)[:n]

    def _keyword_ranking(self, question: str) -> list[Passage]:
        bm25, passages, words = self._index()
        query = tokens(question)
        if not passages or not query:
            return []
        # BM25+ keeps rare-in-a-tiny-index terms positive; it scores every passage, so only
        # passages sharing a word with the question count as found.
        scores = bm25.get_scores(query)
        found = [i for i in range(len(passages)) if words[i].intersection(query)]
        return [passages[i] for i in sorted(found, key=lambda i: -scores[i])]

    def _dated(self, question: str, ranking: list[Passage]) -> list[Passage]:
        """Passages published on a day the question names, in keyword order.

        A day written without a year ("October 1st") takes the year of the newest article.
        """
        newest = max((p.published or "" for p in ranking), default="")
        year = int(newest[:4]) if newest[:4].isdigit() else None
        days = {day.isoformat() for day in mentioned_dates(question, default_year=year)}
        return [p for p in ranking if p.published and p.published[:10] in days]

    def _index(self) -> tuple[BM25Plus | None, list[Passage], list[set[str]]]:
        # Rebuilt only when the index changed: BM25 over a few thousand passages takes a moment.
        version = self.store.version()
        if self._keyword_index is None or self._keyword_index[0] != version:
            passages = self.store.all_passages()
            docs = [tokens(searchable_text(p)) for p in passages]
            bm25 = BM25Plus(docs) if docs else None
            self._keyword_index = (version, bm25, passages, [set(d) for d in docs])
        return self._keyword_index[1:]


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


def searchable_text(passage: Passage) -> str:
    """Passage text plus its headline, source and date, the date also in words."""
    return " ".join([passage.title, passage.source, date_words(passage.published), passage.text])


def date_words(published: str | None) -> str:
    """'2023-11-24' -> '2023-11-24 November 24 2023', so either way of writing it matches."""
    if not published:
        return ""
    try:
        day = dt.date.fromisoformat(published[:10])
    except ValueError:
        return published
    return f"{published} {day.strftime('%B')} {day.day} {day.year}"


def _not_after(passages: list[Passage], as_of: dt.date | None) -> list[Passage]:
    """Passages of articles published by the as-of day (a day late for time zones)."""
    if as_of is None:
        return passages
    last = as_of + dt.timedelta(days=1)
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
