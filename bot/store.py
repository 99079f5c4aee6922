"""The passage index: Chroma (embedded or server) holding embedded, sentence-aligned passages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.articles import Article
from bot.chunking import passage_spans
from bot.config import Settings
from bot.embeddings import embed

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passages: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged; {self.passages} passages written"
        )


def passage_of(article: Article, start: int, end: int) -> Passage:
    """The stretch start:end of the article's text, with the article's metadata."""
    return Passage(
        article_id=article.id,
        title=article.title,
        source=article.source,
        published=article.published,
        url=article.url,
        text=article.text[start:end],
        start=start,
        end=end,
    )


def split_article(article: Article, max_chars: int) -> list[Passage]:
    return [passage_of(article, s.start, s.end) for s in passage_spans(article.text, max_chars)]


def embedding_text(passage: Passage) -> str:
    """What gets embedded: the headline travels with every passage so it is searchable too."""
    return f"{passage.title}\n{passage.text}"


class Store:
    """One Chroma collection of passages, using cosine distance.

    `splitter` cuts an article into passages; the default packs whole sentences into passages
    of at most settings.passage_chars. The eval's stock pipeline passes its own.
    """

    def __init__(
        self,
        settings: Settings,
        collection: str | None = None,
        splitter: Callable[[Article], list[Passage]] | None = None,
    ):
        import chromadb

        self.settings = settings
        self._writes = 0
        self.splitter = splitter or (lambda a: split_article(a, settings.passage_chars))
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if settings.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(settings.chroma_url)
            self.client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            settings.home.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(
                path=str(settings.chroma_path), settings=chroma_settings
            )
        self.collection = self.client.get_or_create_collection(
            collection or settings.collection,
            metadata={"hnsw:space": "cosine"},
            embedding_function=None,
        )

    def version(self) -> tuple[int, int]:
        """Changes when passages are written, here or (by count) in another process."""
        return (self.count(), self._writes)

    def count(self) -> int:
        """Number of passages in the index."""
        return self.collection.count()

    def ingest(
        self, articles: Iterable[Article], on_article: Callable[[Article], None] | None = None
    ) -> IngestReport:
        """Add new articles, replace changed ones, skip unchanged ones.

        New passages are written before the old version's are deleted, and each article's
        passages go in one call, so an interrupted ingest never leaves an article missing.
        """
        report = IngestReport()
        self._writes += 1
        for article in articles:
            self._ingest_one(article, report)
            if on_article:
                on_article(article)
        return report

    def _ingest_one(self, article: Article, report: IngestReport) -> None:
        digest = article.content_hash
        existing = self.collection.get(where={"article_id": article.id}, include=["metadatas"])
        old_ids = [
            pid
            for pid, meta in zip(existing["ids"], existing["metadatas"], strict=True)
            if meta.get("content_hash") != digest
        ]
        if existing["ids"] and not old_ids:
            report.unchanged.append(article.id)
            return
        passages = self.splitter(article)
        self.collection.add(
            ids=[f"{article.id}:{digest[:16]}:{n}" for n in range(len(passages))],
            documents=[p.text for p in passages],
            embeddings=embed([embedding_text(p) for p in passages]),
            metadatas=[_metadata(p, digest) for p in passages],
        )
        if old_ids:
            self.collection.delete(ids=old_ids)
            report.replaced.append(article.id)
        else:
            report.added.append(article.id)
        report.passages += len(passages)

    def remove(self, article_id: str) -> int:
        """Delete an article's passages; returns how many there were."""
        ids = self.collection.get(where={"article_id": article_id}, include=[])["ids"]
        if ids:
            self.collection.delete(ids=ids)
            self._writes += 1
        return len(ids)

    def articles(self) -> list[dict]:
        """One row per indexed article: id, title, source, published, passages."""
        rows: dict[str, dict] = {}
        for meta in self.collection.get(include=["metadatas"])["metadatas"]:
            row = rows.setdefault(
                meta["article_id"],
                {k: meta.get(k) or None for k in ("article_id", "title", "source", "published")}
                | {"passages": 0},
            )
            row["passages"] += 1
        return sorted(rows.values(), key=lambda r: (r["published"] or "", r["article_id"]))

    def search(self, query: str, k: int) -> list[Passage]:
        """The k passages nearest the query, best first."""
        available = self.count()
        if available == 0:
            return []
        result = self.collection.query(
            query_embeddings=embed([query]),
            n_results=min(k, available),
            include=["documents", "metadatas", "distances"],
        )
        return [
            _passage(doc, meta, 1.0 - dist)
            for doc, meta, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def all_passages(self) -> list[Passage]:
        data = self.collection.get(include=["documents", "metadatas"])
        pairs = zip(data["documents"], data["metadatas"], strict=True)
        return [_passage(document, meta, 0.0) for document, meta in pairs]


def _metadata(passage: Passage, digest: str) -> dict:
    # Chroma metadata values cannot be None, so absent fields are stored as "".
    return {
        "article_id": passage.article_id,
        "title": passage.title,
        "source": passage.source,
        "published": passage.published or "",
        "url": passage.url or "",
        "start": passage.start,
        "end": passage.end,
        "content_hash": digest,
    }


def _passage(document: str, meta: dict, score: float) -> Passage:
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
