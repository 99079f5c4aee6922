"""Hybrid retrieval on the real index: BM25 and dense search fused by rank."""

from bot.retrieval import Retriever, date_words, fuse
from bot.store import Passage


def passage(article_id: str, start: int, score: float = 0.0) -> Passage:
    return Passage(article_id, "t", "s", None, None, "text", start, start + 4, score)


def test_fusion_rewards_passages_both_lists_rank_high():
    a, b, c = passage("a", 0, 0.5), passage("b", 0, 0.4), passage("c", 0)
    fused = fuse([[a, b], [c, b]])
    assert [p.article_id for p in fused] == ["b", "a", "c"]
    assert fused[0].score == 0.4


def test_dates_are_searchable_in_words():
    assert date_words("2023-11-24") == "2023-11-24 November 24 2023"
    assert date_words(None) == ""
    assert date_words("last Tuesday") == "last Tuesday"


def test_keyword_search_finds_exact_terms_and_hybrid_keeps_them(default_settings, sample_store):
    retriever = Retriever(sample_store, default_settings)
    [top] = retriever.keyword_search("Reuters", 1)
    assert "Reuters" in top.text
    hits = retriever.retrieve("Which news agency did the US official speak to?")
    assert any("Reuters" in hit.text for hit in hits)
    assert len(hits) == default_settings.top_k


def test_keyword_index_follows_ingest(make_settings, tmp_path):
    from bot.ingest import ingest_paths
    from bot.store import Store

    settings = make_settings()
    store = Store(settings)
    retriever = Retriever(store, settings)
    assert retriever.keyword_search("zeppelin", 5) == []
    (tmp_path / "zeppelin.md").write_text("A zeppelin landed in the square.")
    (tmp_path / "market.md").write_text("The market opened late on Monday.")
    ingest_paths([tmp_path], settings, store=store)
    assert [p.article_id for p in retriever.keyword_search("zeppelin", 5)] == ["zeppelin"]
