"""Keyword search that lives on disk beside the passages: a SQLite FTS5 index, ranked by BM25.

Every process (the chat page, `sync --watch`, more bot processes) reads the same file, so no
process holds the corpus in memory and none goes stale: before a search the index compares the
store's write stamp (`Store.version()`) with the one it last caught up to, and when they differ
it takes over exactly the passages added and removed since, whoever wrote them. With a Chroma
server the file is this machine's cache of the server's passages, kept in step the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import StoreError, write_failure
from bot.passage import Passage, passage_from_record
from bot.words import STOPWORDS

if TYPE_CHECKING:
    from bot.store import Store

_TOKENIZER = "tokenize='porter unicode61 remove_diacritics 2'"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS passage (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL, title TEXT,
    source TEXT, published TEXT, url TEXT, start INTEGER, end INTEGER, text TEXT, heading TEXT);
CREATE INDEX IF NOT EXISTS passage_published ON passage (published);
-- The Porter stemmer makes 'countries' find 'country'; `words` is the passage's searchable text.
CREATE VIRTUAL TABLE IF NOT EXISTS passage_words USING fts5(
    heading, text, content='passage', content_rowid='rowid', {_TOKENIZER});
CREATE TRIGGER IF NOT EXISTS passage_added AFTER INSERT ON passage BEGIN
    INSERT INTO passage_words (rowid, heading, text) VALUES (new.rowid, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS passage_removed AFTER DELETE ON passage BEGIN
    INSERT INTO passage_words (passage_words, rowid, heading, text)
        VALUES ('delete', old.rowid, old.heading, old.text);
END;
CREATE TABLE IF NOT EXISTS stamp (key TEXT PRIMARY KEY, value TEXT);
-- Stemmed words in at least half the passages (see KeywordIndex.search), as of the stamp.
CREATE TABLE IF NOT EXISTS common_word (term TEXT PRIMARY KEY);
"""

_COLUMNS = "p.article_id, p.title, p.source, p.published, p.url, p.text, p.start, p.end"
_FETCH_BATCH = 1000
"""Passages read from Chroma per call while catching up."""


class KeywordIndex:
    """BM25 search over each passage's text with its article's title, source and date."""

    def __init__(self, path: Path):
        self.path = path
        with self._failures():
            path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # A connection per use: cheap, and safe from the page's worker threads.
        with self._failures(), closing(sqlite3.connect(self.path, timeout=60)) as db:
            with db:  # one transaction, committed on success, rolled back on failure
                yield db

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """A folder that is read-only or full, as one StoreError line naming it."""
        try:
            yield
        except (OSError, sqlite3.Error) as err:
            reason = write_failure(err)
            if reason is None:
                raise
            raise StoreError(
                f"{self.path.parent}: cannot write the keyword index: {reason} (BRIEFING_HOME)"
            ) from err

    def search(
        self,
        question: str,
        n: int,
        days: Iterable[dt.date] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Passage]:
        """The n passages sharing the most (rare) words with the question, best first;
        with `days`, only passages of articles published on one of those days; never those
        of the articles in `exclude`.

        Words in at least half the passages are left out of the search when the others find n
        passages: BM25 gives such a word an idf of log((N - df + .5) / (df + .5)) <= 0, which
        FTS5 clamps to 1e-6, so it cannot change the order, while scoring every passage that
        holds it is most of a search's time in a large index.
        """
        terms = query_terms(question)
        wanted = None if days is None else sorted({day.isoformat() for day in days})
        if not terms or n <= 0 or wanted == []:
            return []
        left_out = sorted(set(exclude))
        with self._connection() as db:
            common = _common_words(db, terms)
            rare = [term for term in terms if term not in common]
            rows = _ranked(db, rare, n, wanted, left_out) if rare and common else []
            if len(rows) < n:
                rows = _ranked(db, terms, n, wanted, left_out)
        return [_passage(row) for row in rows]

    def articles_published(self, start: dt.date, end: dt.date) -> list[str]:
        """The ids of the articles published from start to end, both days included."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT DISTINCT article_id FROM passage"
                " WHERE substr(published, 1, 10) BETWEEN ? AND ?",
                [start.isoformat(), end.isoformat()],
            ).fetchall()
        return [article_id for (article_id,) in rows]

    def newest_day(self) -> str | None:
        """Publication day of the newest indexed article ('2023-11-24'), if any has one."""
        with self._connection() as db:
            (newest,) = db.execute(
                "SELECT max(published) FROM passage WHERE published != ''"
            ).fetchone()
        return newest[:10] if newest else None

    def catch_up(self, store: Store) -> None:
        """Take over every write to the store since the last catch-up (by any process)."""
        stamp = json.dumps(store.version())
        with self._connection() as db:
            if _stamp(db) == stamp:
                return
            db.execute("BEGIN IMMEDIATE")  # one process catches up at a time; others wait
            if _stamp(db) == stamp:
                return
            present = set(store.collection.get(include=[])["ids"])
            indexed = {pid for (pid,) in db.execute("SELECT id FROM passage")}
            db.executemany("DELETE FROM passage WHERE id = ?", [(i,) for i in indexed - present])
            missing = sorted(present - indexed)
            for at in range(0, len(missing), _FETCH_BATCH):
                db.executemany(
                    "INSERT OR REPLACE INTO passage VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _rows(store, missing[at : at + _FETCH_BATCH]),
                )
            _note_common_words(db)
            db.execute("INSERT OR REPLACE INTO stamp VALUES ('caught_up', ?)", (stamp,))


def query_terms(question: str) -> list[str]:
    """The question's content words, lower-cased, each once; '1st' -> '1' to match dates."""
    words = re.findall(r"\w+", question.lower())
    terms = [re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", w) for w in words]
    kept = [t for t in terms if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]
    return list(dict.fromkeys(kept))


def heading_text(passage: Passage) -> str:
    """The passage's headline, source and date, the date also in words."""
    return " ".join([passage.title, passage.source, date_words(passage.published)])


def date_words(published: str | None) -> str:
    """'2023-11-24' -> '2023-11-24 November 24 2023', so either way of writing it matches."""
    if not published:
        return ""
    try:
        day = dt.date.fromisoformat(published[:10])
    except ValueError:
        return published
    return f"{published} {day.strftime('%B')} {day.day} {day.year}"


def _ranked(
    db: sqlite3.Connection, terms: list[str], n: int, days: list[str] | None, left_out: list[str]
) -> list:
    """Rows of the n passages best matching any of the terms by BM25 (on one of the days, of
    none of the articles left out)."""
    match = " OR ".join(f'"{term}"' for term in terms)
    if days is None and not left_out:  # rank on the full-text index alone, then read n rows
        sql = (
            f"SELECT {_COLUMNS} FROM (SELECT rowid, bm25(passage_words) AS score"
            " FROM passage_words WHERE passage_words MATCH ? ORDER BY score LIMIT ?) AS hit"
            " JOIN passage p ON p.rowid = hit.rowid ORDER BY hit.score"
        )
        return db.execute(sql, [match, n]).fetchall()
    where, values = "", []
    if days is not None:
        where += f" AND substr(p.published, 1, 10) IN ({','.join('?' * len(days))})"
        values += days
    if left_out:
        where += f" AND p.article_id NOT IN ({','.join('?' * len(left_out))})"
        values += left_out
    sql = (
        f"SELECT {_COLUMNS} FROM passage_words JOIN passage p ON p.rowid = passage_words.rowid"
        f" WHERE passage_words MATCH ?{where} ORDER BY bm25(passage_words) LIMIT ?"
    )
    return db.execute(sql, [match, *values, n]).fetchall()


def _note_common_words(db: sqlite3.Connection) -> None:
    """Record the stems in at least half the passages (a scan of FTS5's term list)."""
    db.execute("DELETE FROM common_word")
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.word_count"
        " USING fts5vocab(main, passage_words, row)"
    )
    db.execute(
        "INSERT INTO common_word SELECT term FROM temp.word_count"
        " WHERE doc * 2 >= (SELECT count(*) FROM passage)"
    )


def _common_words(db: sqlite3.Connection, terms: list[str]) -> set[str]:
    """The terms whose every stem (by the index's own tokenizer) is in half the passages."""
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.asked USING fts5(term, {_TOKENIZER})")
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.asked_stem USING fts5vocab(asked, instance)"
    )
    db.execute("DELETE FROM temp.asked")
    db.executemany("INSERT INTO temp.asked (rowid, term) VALUES (?, ?)", enumerate(terms))
    rows = db.execute(
        "SELECT doc, min(term IN (SELECT term FROM main.common_word)) FROM temp.asked_stem"
        " GROUP BY doc"
    ).fetchall()
    return {terms[doc] for doc, common in rows if common}


def _stamp(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM stamp WHERE key = 'caught_up'").fetchone()
    return row[0] if row else None


def _rows(store: Store, ids: list[str]) -> list[tuple]:
    data = store.collection.get(ids=ids, include=["documents", "metadatas"])
    rows = []
    for pid, document, meta in zip(data["ids"], data["documents"], data["metadatas"], strict=True):
        p = passage_from_record(document, meta, 0.0)
        fields = (p.article_id, p.title, p.source, p.published or "", p.url or "", p.start, p.end)
        rows.append((pid, *fields, p.text, heading_text(p)))
    return rows


def _passage(row: tuple) -> Passage:
    article_id, title, source, published, url, text, start, end = row
    return Passage(
        article_id=article_id,
        title=title,
        source=source,
        published=published or None,
        url=url or None,
        text=text,
        start=int(start),
        end=int(end),
    )
