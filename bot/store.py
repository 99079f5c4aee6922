"""The passage index: Chroma (embedded or server) holding embedded, sentence-aligned passages."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import uuid4

from bot.articles import Article
from bot.chunking import passage_spans
from bot.config import Settings
from bot.embeddings import embed
from bot.errors import SQLITE_WRITE_FAILURES, StoreError, write_failure
from bot.keywords import KeywordIndex
from bot.passage import Passage, passage_from_record

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)
    """Article id -> id of the indexed article with the same URL or text (kept instead)."""
    passages: int = 0

    def summary(self) -> str:
        dupes = f", {len(self.duplicates)} duplicates skipped" if self.duplicates else ""
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged{dupes}; {self.passages} passages written"
        )

    def indexed_id(self, article_id: str) -> str:
        """The id the article is indexed under: its own, or the duplicate it matched."""
        return self.duplicates.get(article_id, article_id)


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
        self.settings = settings
        self.splitter = splitter or (lambda a: split_article(a, settings.passage_chars))
        self.name = collection or settings.collection
        self._write_failed = False
        """A write to the embedded index failed (disk full, read-only): see _mend()."""
        self.client: Any = None
        self._open()
        self.collection: Any = _Guarded(self._open_passages, self._failures)
        """The Chroma collection of passages; every call to it goes through _failures()."""
        self._generation: Any = _Guarded(self._open_generation, self._failures)
        self.keywords = KeywordIndex(keyword_index_path(settings, self.name))
        """Keyword search over the same passages; caught up after each write here and before
        each search (for writes by other processes)."""
        self.hidden: frozenset[str] = frozenset()
        """Articles every search leaves out, until changed: `briefing eval --hide-gold` asks
        each question with the articles that answer it hidden, so that only look-alikes are
        found and the right reply is "the articles don't say"."""

    def _open(self) -> None:
        """Connect to the server or open the embedded index, and its two collections."""
        import chromadb

        settings = self.settings
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if settings.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(settings.chroma_url)
            try:
                client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or 8000,
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            except Exception as err:  # chromadb raises ValueError, httpx errors, ...
                raise StoreError(unreachable(settings.chroma_url, err)) from err
        else:
            with self._failures(doing="open the index"):  # read-only or full fails here already
                settings.home.mkdir(parents=True, exist_ok=True)
                client = open_local_chroma(settings.chroma_path, chroma_settings)
        try:
            with self._failures():
                passages = client.get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
                # One record whose value changes on every write: see version().
                generation = client.get_or_create_collection(
                    f"{self.name}-generation", embedding_function=None
                )
        except Exception:
            client.close()  # half open is not open: the next call starts afresh
            raise
        self.client, self._passages, self._generation_record = client, passages, generation

    def _mend(self) -> None:
        """Before writing again after a failed write to the embedded index (every write starts
        in _changing, which calls this), a fresh client.

        The failed client can keep a lock that stalls its next write for good once another
        process failed a write there too (a page and `briefing ingest` on a full disk). Reads
        keep the old client meanwhile: the page answers while the disk is full. If the index
        cannot be opened again yet, this is the one-line error, and the next call retries."""
        if self._write_failed and self.client is not None:
            self.client.close()
            self.client = None
        self._ensure_open()

    def _ensure_open(self) -> None:
        """Open the client again if _mend closed it."""
        if self.client is None:
            self._open()
            self._write_failed = False

    def _open_passages(self) -> Any:
        self._ensure_open()
        return self._passages

    def _open_generation(self) -> Any:
        self._ensure_open()
        return self._generation_record

    @contextmanager
    def _failures(self, doing: str | None = None) -> Iterator[None]:
        """Chroma's failures that are the place's fault, as one StoreError line naming it: a
        server that is gone (killed mid-question, say), a data directory that is read-only or
        full. Chroma writes in transactions, so the index is as it was before the failed call.
        Anything else passes through unchanged, unless `doing` names what failed (a path that
        is a file cannot be opened as the index folder, say)."""
        try:
            yield
        except Exception as err:
            line = self._failure_line(err)
            if line is not None and not self.settings.chroma_url:
                self._write_failed = True  # a local write failed: see _mend()
            if line is None and doing:
                line = f"{self.settings.chroma_path}: cannot {doing}: {err} (BRIEFING_HOME)"
            if line is None:
                raise
            raise StoreError(line) from err

    def _failure_line(self, err: Exception) -> str | None:
        import httpx
        from chromadb.errors import ChromaError

        url = self.settings.chroma_url
        if url and isinstance(err, httpx.TransportError):  # refused, reset, timed out
            return unreachable(url, err)
        # Chroma's Rust core reports SQLite's result code in the message only.
        code = re.search(r"\(code: (\d+)\)", str(err)) if isinstance(err, ChromaError) else None
        reason = write_failure(err) or (SQLITE_WRITE_FAILURES.get(int(code[1])) if code else None)
        if reason is None:
            return None
        if url:
            return f"{url}: the Chroma server cannot write its index: {reason}"
        place = getattr(err, "filename", None) or self.settings.chroma_path
        return f"{place}: cannot write the index: {reason} (BRIEFING_HOME); nothing half-written"

    def version(self) -> str:
        """Changes on every write to the index, by this process or any other sharing it (a
        `sync --watch` beside the page, bot processes on one Chroma server), even when the
        passage count stays the same: what the keyword index catches up on. One record read,
        where a count of the passages would cost 15 ms a question at 100k passages."""
        found = self._generation.get(ids=[GENERATION_ID], include=["documents"])["documents"]
        return found[0] if found else ""

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Around every write: a new generation before it, so a write cut short (the process
        killed) is still seen by the others, and after it, so one that caught up halfway
        catches up again."""
        self._mend()
        self._touch()
        yield
        self._touch()

    def _touch(self) -> None:
        self._generation.upsert(ids=[GENERATION_ID], documents=[uuid4().hex], embeddings=[[0.0]])

    def count(self) -> int:
        """Number of passages in the index."""
        return self.collection.count()

    def ingest(
        self, articles: Iterable[Article], on_article: Callable[[Article], None] | None = None
    ) -> IngestReport:
        """Add new articles, replace changed ones, skip unchanged ones and duplicates.

        All-or-nothing per article: whole articles are written together in one Chroma call
        (one transaction), under ids made from the content hash, and an old version's passages
        are deleted only afterwards. So an interrupted ingest leaves every article whole (at
        worst an old and a new version side by side), and re-running it finishes the job.
        Several articles share a call because embedding in batches is several times faster.
        """
        report = IngestReport()
        batch: list[_Write] = []
        remaining = iter(articles)
        while chunk := list(islice(remaining, PLAN_CHUNK)):
            stories = [text_hash(article.text) for article in chunk]
            known = self._known(chunk, stories)  # one read for many articles, not several each
            for article, story in zip(chunk, stories, strict=True):
                if any(write.overlaps(article, story) for write in batch):
                    self._flush(batch, on_article, known)  # decide as if one by one
                write = self._plan(article, story, report, known)
                if write:
                    batch.append(write)
                elif on_article:
                    on_article(article)
                if sum(len(w.ids) for w in batch) >= WRITE_BATCH:
                    self._flush(batch, on_article, known)
        self._flush(batch, on_article, None)
        self.keywords.catch_up(self)
        return report

    def _known(self, articles: list[Article], stories: list[str]) -> _Known:
        """What the index holds that bears on these articles: their own passages, and
        articles with the same text or URL."""
        checks: list[dict] = [
            {"article_id": {"$in": sorted({a.id for a in articles})}},
            {"text_hash": {"$in": sorted(set(stories))}},
        ]
        if urls := sorted({a.url for a in articles if a.url}):
            checks.append({"url": {"$in": urls}})
        found = self.collection.get(where={"$or": checks}, include=["metadatas"])
        known = _Known()
        for pid, meta in zip(found["ids"], found["metadatas"] or [], strict=True):
            known.add(pid, str(meta["article_id"]), str(meta.get("text_hash", "")), meta.get("url"))
        return known

    def _plan(
        self, article: Article, story: str, report: IngestReport, known: _Known
    ) -> _Write | None:
        """What writing this article takes, or None when it is unchanged or a duplicate."""
        passages = self.splitter(article)
        digest = article.content_hash
        wanted = [f"{article.id}:{digest[:16]}:{n}" for n in range(len(passages))]
        present = known.present.get(article.id, set())
        stale = sorted(present - set(wanted))
        if not present:
            duplicate = known.same_story(story, article.url)
            if duplicate and duplicate[1] == story:
                report.duplicates[article.id] = duplicate[0]
                return None
            if duplicate:  # same URL, new text: an update that arrived under another id
                stale = sorted(known.present.get(duplicate[0], set()))
        missing = [n for n, pid in enumerate(wanted) if pid not in present]
        if not missing and not stale:
            report.unchanged.append(article.id)
            return None
        (report.replaced if present or stale else report.added).append(article.id)
        report.passages += len(missing)
        chosen = [passages[n] for n in missing]
        return _Write(article, chosen, [wanted[n] for n in missing], stale, digest, story)

    def _flush(
        self,
        batch: list[_Write],
        on_article: Callable[[Article], None] | None,
        known: _Known | None,
    ) -> None:
        """Write the batch's passages, then delete what they replace; empties the batch and
        keeps `known` up to date with what was written."""
        with self._failures():
            limit = self.client.get_max_batch_size()  # only a book-length article needs two calls
        passages = [p for write in batch for p in write.passages]
        vectors = embed([embedding_text(p) for p in passages]) if passages else []
        ids = [pid for write in batch for pid in write.ids]
        metadatas = [_metadata(p, w.digest, w.story) for w in batch for p in w.passages]
        stale = [pid for write in batch for pid in write.stale]
        with self._changing() if ids or stale else contextlib.nullcontext():
            for at in range(0, len(ids), limit):
                self.collection.add(
                    ids=ids[at : at + limit],
                    documents=[p.text for p in passages[at : at + limit]],
                    embeddings=vectors[at : at + limit],
                    metadatas=metadatas[at : at + limit],
                )
            if stale:
                self.collection.delete(ids=stale)
        for write in batch:
            if known:
                known.written(write)
            if on_article:
                on_article(write.article)
        batch.clear()

    def remove(self, article_id: str) -> int:
        """Delete an article's passages; returns how many there were."""
        ids = self.collection.get(where={"article_id": article_id}, include=[])["ids"]
        if ids:
            with self._changing():
                self.collection.delete(ids=ids)
            self.keywords.catch_up(self)
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

    def article_text(self, article_id: str) -> tuple[dict, str] | None:
        """An article's metadata and its text rebuilt from its passages at their offsets (the
        gaps between passages are the whitespace the splitter dropped); None when not indexed.
        """
        data = self.collection.get(
            where={"article_id": article_id}, include=["documents", "metadatas"]
        )
        if not data["ids"]:
            return None
        pieces = sorted(
            zip(data["metadatas"], data["documents"], strict=True), key=lambda p: int(p[0]["start"])
        )
        text = ""
        for meta, document in pieces:
            text = text[: int(meta["start"])].ljust(int(meta["start"])) + document
        first = pieces[0][0]
        fields = {k: first.get(k) or None for k in ("title", "source", "published", "url")}
        return {"article_id": article_id} | fields, text

    def search(self, query: str, k: int, among: Iterable[str] | None = None) -> list[Passage]:
        """The k passages nearest the query, best first (hidden articles left out); with
        `among`, only passages of those articles."""
        # Chroma returns what it has when k is more (a count would cost 15 ms at 100k passages).
        where = {}
        if among is not None:
            wanted = sorted(set(among) - self.hidden)
            if not wanted:
                return []
            where = {"where": {"article_id": {"$in": wanted}}}
        elif self.hidden:
            where = {"where": {"article_id": {"$nin": sorted(self.hidden)}}}
        result = self.collection.query(
            query_embeddings=embed([query]),
            n_results=k,
            include=["documents", "metadatas", "distances"],
            **where,
        )
        return [
            passage_from_record(doc, meta, 1.0 - dist)
            for doc, meta, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def keyword_search(
        self, question: str, n: int, days: Iterable[dt.date] | None = None
    ) -> list[Passage]:
        """BM25 search over the passages (bot.keywords), caught up with every write first;
        hidden articles left out."""
        self.keywords.catch_up(self)
        return self.keywords.search(question, n, days, exclude=self.hidden)

    def all_passages(self) -> list[Passage]:
        data = self.collection.get(include=["documents", "metadatas"])
        pairs = zip(data["documents"], data["metadatas"], strict=True)
        return [passage_from_record(document, meta, 0.0) for document, meta in pairs]


def open_local_chroma(path: Path, chroma_settings: Any) -> Any:
    """A PersistentClient on the folder, or no trace of it when it fails to open."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception:
        # chromadb caches the client's System for the path before starting it (1.5.9:
        # SharedSystemClient._create_system_if_not_exists), and Client.__init__'s own cleanup
        # never runs when that start fails: every later PersistentClient there would get the
        # half-started one (and fail with AttributeError). Forget it.
        cached = SharedSystemClient._identifier_to_system
        for identifier, system in list(cached.items()):
            if system.settings.persist_directory == str(path):
                del cached[identifier]
        raise


def unreachable(url: str, err: Exception) -> str:
    reason = " ".join(str(err).split())[:200] or type(err).__name__
    return f"{url}: cannot reach the Chroma server (BRIEFING_CHROMA_URL): {reason}"


class _Guarded:
    """A Chroma collection (as its store has it open now) whose every call runs inside
    `failures` (see Store._failures)."""

    def __init__(self, collection: Callable[[], Any], failures: Callable[[], Any]):
        self._collection = collection
        self._failures = failures

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection(), name)
        if not callable(value):
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            with self._failures():
                return value(*args, **kwargs)

        return guarded


def keyword_index_path(settings: Settings, collection: str) -> Path:
    """Where the collection's keyword index lives: in the data directory, beside the embedded
    index, or (with a Chroma server) as this machine's copy, one per server."""
    folder = settings.home / "keywords"
    if settings.chroma_url:
        folder = folder / re.sub(r"[^\w.-]+", "_", settings.chroma_url.split("://")[-1])
    return folder / f"{collection}.sqlite3"


GENERATION_ID = "generation"
WRITE_BATCH = 64
"""Passages embedded and written per Chroma call; whole articles only, so it can run over."""
PLAN_CHUNK = 256
"""Incoming articles whose counterparts in the index are read in one call."""


@dataclass
class _Write:
    """One article's pending write: new passages and the ids of the version they replace."""

    article: Article
    passages: list[Passage]
    ids: list[str]
    stale: list[str]
    digest: str
    story: str
    """text_hash of the article's text."""

    def overlaps(self, other: Article, other_story: str) -> bool:
        """Could `other` be this article or the same story? Then decide it after this write."""
        same_url = bool(other.url) and other.url == self.article.url
        return other.id == self.article.id or same_url or other_story == self.story


@dataclass
class _Known:
    """What the index holds for a chunk of incoming articles, read in one call and kept up
    to date with this ingest's own writes."""

    present: dict[str, set[str]] = field(default_factory=dict)
    """article id -> the ids of its passages in the index"""
    stories: dict[str, tuple[str, str]] = field(default_factory=dict)
    """"text:<text hash>" or "url:<url>" -> (article id, text hash)"""

    def add(self, pid: str, article_id: str, story: str, url: str | None) -> None:
        self.present.setdefault(article_id, set()).add(pid)
        self.stories[f"text:{story}"] = (article_id, story)
        if url:
            self.stories[f"url:{url}"] = (article_id, story)

    def same_story(self, story: str, url: str | None) -> tuple[str, str] | None:
        """(id, text hash) of an indexed article with this text or URL, if any."""
        return self.stories.get(f"text:{story}") or (
            self.stories.get(f"url:{url}") if url else None
        )

    def written(self, write: _Write) -> None:
        owners = {pid.rsplit(":", 2)[0] for pid in write.stale}  # "<article id>:<digest>:<n>"
        for pid in write.stale:
            self.present.get(pid.rsplit(":", 2)[0], set()).discard(pid)
        # Only an article this write deleted from can have left the index.
        gone = {owner for owner in owners if not self.present.get(owner)}
        if gone:
            self.stories = {key: at for key, at in self.stories.items() if at[0] not in gone}
        for pid in write.ids:
            self.add(pid, write.article.id, write.story, write.article.url)


def text_hash(text: str) -> str:
    """The same story told in the same words, whatever the spacing: duplicate detection."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:32]


def _metadata(passage: Passage, digest: str, article_text_hash: str) -> dict:
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
        "text_hash": article_text_hash,
    }
