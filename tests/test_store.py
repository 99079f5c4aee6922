"""The index on real Chroma with the real MiniLM embeddings."""

import pytest

from bot.articles import Article
from bot.config import SAMPLE_CORPUS
from bot.errors import ArticleError
from bot.ingest import ingest_inputs, ingest_paths
from bot.sources import load_paths
from bot.store import Store


def article_file(folder, name, body, title="Test story"):
    path = folder / f"{name}.md"
    path.write_text(f'---\ntitle: "{title}"\nsource: "Wire"\npublished: "2024-01-02"\n---\n{body}')
    return path


def test_reingesting_unchanged_articles_adds_nothing(make_settings):
    settings = make_settings()
    first = ingest_paths([SAMPLE_CORPUS], settings)
    store = Store(settings)
    count = store.count()
    assert first.added == ["homs-falls"] and count == first.passages > 0
    again = ingest_paths([SAMPLE_CORPUS], settings)
    assert again.unchanged == ["homs-falls"] and again.passages == 0
    assert store.count() == count


def test_a_changed_article_replaces_its_passages(make_settings, tmp_path):
    settings = make_settings()
    path = article_file(tmp_path, "story", "The mayor opened the bridge. Crowds cheered.")
    ingest_paths([path], settings)
    article_file(tmp_path, "story", "The mayor closed the bridge for repairs.")
    report = ingest_paths([path], settings)
    assert report.replaced == ["story"]
    store = Store(settings)
    texts = [p.text for p in store.all_passages()]
    assert texts == ["The mayor closed the bridge for repairs."]


def test_passages_carry_article_metadata_and_offsets(make_settings):
    settings = make_settings()
    ingest_paths([SAMPLE_CORPUS], settings)
    article = load_paths([SAMPLE_CORPUS])[0]
    for passage in Store(settings).all_passages():
        assert article.text[passage.start : passage.end] == passage.text
        assert (passage.article_id, passage.source, passage.published) == (
            "homs-falls",
            "New York Post",
            "2024-12-07",
        )


def test_remove_deletes_one_article(make_settings, tmp_path):
    settings = make_settings()
    ingest_paths([SAMPLE_CORPUS, article_file(tmp_path, "other", "A dog won a prize.")], settings)
    store = Store(settings)
    assert store.remove("other") == 1
    assert [row["article_id"] for row in store.articles()] == ["homs-falls"]
    assert store.remove("other") == 0


def test_a_bad_input_in_a_batch_changes_nothing(make_settings, tmp_path):
    settings = make_settings()
    good = article_file(tmp_path, "good", "Fine text.")
    with pytest.raises(ArticleError, match="missing.md"):
        ingest_paths([good, tmp_path / "missing.md"], settings)
    assert Store(settings).count() == 0


def test_search_finds_the_joint_statement_with_cosine_scores(sample_store):
    hits = sample_store.search("Who issued the joint statement?", 4)
    assert any("joint statement" in hit.text for hit in hits)
    assert all(-1.0 <= hit.score <= 1.0 for hit in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_a_bad_input_in_a_batch_is_named_and_the_rest_go_in(make_settings, tmp_path):
    settings = make_settings()
    ingest_paths([SAMPLE_CORPUS], settings)
    good = article_file(tmp_path, "good", "Fine text about the harbour.")
    result = ingest_inputs([good, tmp_path / "missing.md"], settings)
    assert result.failures == [f"{tmp_path / 'missing.md'}: no such file or folder"]
    assert result.report.added == ["good"]
    assert [r["article_id"] for r in Store(settings).articles()] == ["good", "homs-falls"]


def test_the_same_story_under_two_ids_is_stored_once(make_settings):
    settings = make_settings()
    store = Store(settings)
    story = Article(
        "wire-1", "Port reopens", "Wire", "2024-01-02", None, "The port reopened today."
    )
    copy = Article("feed-9", "Port reopens!", "Feed", None, None, "The port  reopened today.\n")
    report = store.ingest([story, copy])
    assert report.added == ["wire-1"] and report.duplicates == {"feed-9": "wire-1"}
    assert [r["article_id"] for r in store.articles()] == ["wire-1"]


def test_a_new_text_at_a_known_url_replaces_the_old_article(make_settings):
    settings = make_settings()
    store = Store(settings)
    url = "https://news.example/port"
    store.ingest([Article("page", "Port", "Wire", None, url, "The port may reopen.")])
    report = store.ingest([Article("entry", "Port", "Wire", None, url, "The port reopened.")])
    assert report.replaced == ["entry"]
    assert [p.text for p in store.all_passages()] == ["The port reopened."]


def test_an_interrupted_replace_is_finished_by_running_again(make_settings):
    """Both versions side by side (killed between writing the new and deleting the old)."""
    settings = make_settings()
    store = Store(settings)
    old = Article("story", "Bridge", "Wire", None, None, "The bridge is open.")
    new = Article("story", "Bridge", "Wire", None, None, "The bridge is closed. Repairs start.")
    store.ingest([old])
    Store(settings, collection="scratch").ingest([new])  # the same passages, written elsewhere
    scratch = Store(settings, collection="scratch").collection.get(
        include=["documents", "metadatas", "embeddings"]
    )
    store.collection.add(**{k: scratch[k] for k in ("ids", "documents", "metadatas", "embeddings")})
    assert store.count() == 2

    report = store.ingest([new])
    assert report.replaced == ["story"] and report.passages == 0  # nothing re-embedded
    assert [p.text for p in store.all_passages()] == ["The bridge is closed. Repairs start."]


def test_one_article_twice_in_one_input_ends_as_its_last_version(make_settings):
    """The second version is decided against the index holding the first."""
    store = Store(make_settings())
    old = Article("story", "Bridge", "Wire", None, None, "The bridge is open.")
    new = Article("story", "Bridge", "Wire", None, None, "The bridge is closed.")
    report = store.ingest([old, new])
    assert report.added == ["story"] and report.replaced == ["story"]
    assert [p.text for p in store.all_passages()] == ["The bridge is closed."]


def test_an_unchanged_reingest_reads_the_index_once_per_many_articles(make_settings, monkeypatch):
    store = Store(make_settings())
    articles = [
        Article(f"a{n}", f"Story {n}", "Wire", None, None, f"Item {n} happened.") for n in range(40)
    ]
    store.ingest(articles)
    reads = []
    real_get = store.collection.get
    monkeypatch.setattr(
        store.collection, "get", lambda *a, **k: reads.append(k) or real_get(*a, **k)
    )
    report = store.ingest(articles)
    assert len(report.unchanged) == 40 and len(reads) == 1
