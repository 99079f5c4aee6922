"""Hybrid retrieval on the real index: BM25 and dense search fused by rank."""

import pytest

from bot.keywords import date_words
from bot.retrieval import Retriever, fuse
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


def test_keyword_search_reads_its_disk_index_without_scanning_the_store(make_settings, tmp_path):
    """The keyword index is a file beside the passages: a new process searches it as it is,
    reading nothing from the store but its write stamp."""
    from bot.ingest import ingest_paths
    from bot.store import Store

    settings = make_settings()
    (tmp_path / "zeppelin.md").write_text("A zeppelin landed in the square.")
    ingest_paths([tmp_path], settings, store=Store(settings))
    store = Store(settings)  # another process, later

    def no_scan(*args, **kwargs):
        raise AssertionError("the keyword search read the whole store")

    store.collection.get = no_scan
    assert [p.article_id for p in Retriever(store, settings).keyword_search("zeppelins", 5)] == [
        "zeppelin"
    ]  # the Porter stemmer: 'zeppelins' finds 'zeppelin'


def test_words_in_half_the_passages_are_searched_only_when_the_others_fall_short(
    make_settings, tmp_path, monkeypatch
):
    """BM25 gives a word in half the passages no weight, so leaving it out cannot change the
    order; it is searched only when the rarer words find fewer passages than asked for."""
    from bot import keywords
    from bot.ingest import ingest_paths
    from bot.store import Store

    settings = make_settings()
    for name in ["harbour", "market", "school"]:
        (tmp_path / f"{name}.md").write_text(f"The council met about the {name} on Monday.")
    (tmp_path / "zeppelin.md").write_text("The council saw a zeppelin land in the square.")
    store = Store(settings)
    ingest_paths([tmp_path], settings, store=store)
    searched, ranked = [], keywords._ranked
    monkeypatch.setattr(
        keywords,
        "_ranked",
        lambda db, terms, *rest: searched.append(terms) or ranked(db, terms, *rest),
    )
    retriever = Retriever(store, settings)

    assert [p.article_id for p in retriever.keyword_search("Councils and zeppelins", 1)] == [
        "zeppelin"
    ]
    assert searched == [["zeppelins"]]  # 'councils' is the common stem 'council'
    searched.clear()
    hits = retriever.keyword_search("Councils and zeppelins", 3)
    assert searched == [["zeppelins"], ["councils", "zeppelins"]]
    assert hits[0].article_id == "zeppelin" and len(hits) == 3


def test_the_keyword_index_catches_up_after_an_interrupted_write(
    make_settings, tmp_path, monkeypatch
):
    """Killed between writing the passages and indexing their words, or a lost index file:
    the next search takes over what the store holds and the index does not."""
    from bot.ingest import ingest_paths
    from bot.keywords import KeywordIndex
    from bot.store import Store

    settings = make_settings()
    (tmp_path / "zeppelin.md").write_text("A zeppelin landed in the square.")
    ingest_paths([tmp_path], settings, store=Store(settings))
    Store(settings).keywords.path.unlink()  # the index file lost
    (tmp_path / "market.md").write_text("The market opened late on Monday.")
    with monkeypatch.context() as patch:
        patch.setattr(KeywordIndex, "catch_up", lambda self, store: None)  # killed before it
        ingest_paths([tmp_path], settings, store=Store(settings))
    retriever = Retriever(Store(settings), settings)
    found = retriever.keyword_search("zeppelin market", 5)
    assert sorted(p.article_id for p in found) == ["market", "zeppelin"]


class Killed(BaseException):
    """The process dying at that point."""


def test_a_replacement_killed_before_it_was_stamped_is_still_seen_by_the_others(
    make_settings, tmp_path, monkeypatch
):
    """A changed article of the same length replaced, and its writer killed before it could
    record the change: the passage count is as before, yet other processes must see it."""
    from bot.ingest import ingest_paths
    from bot.store import Store

    settings = make_settings()
    (tmp_path / "story.md").write_text("A zeppelin landed in the square.")
    ingest_paths([tmp_path], settings, store=Store(settings))
    reader = Retriever(Store(settings), settings)  # another process, already caught up
    assert [p.article_id for p in reader.keyword_search("zeppelin", 5)] == ["story"]

    (tmp_path / "story.md").write_text("A balloon landed in the square.")
    stamp = Store._touch

    def killed_once_written(store: Store) -> None:
        if store.collection.get(where_document={"$contains": "balloon"})["ids"]:
            raise Killed
        stamp(store)

    monkeypatch.setattr(Store, "_touch", killed_once_written)
    with pytest.raises(Killed):
        ingest_paths([tmp_path], settings, store=Store(settings))
    monkeypatch.undo()
    assert [p.article_id for p in reader.keyword_search("balloon", 5)] == ["story"]
    assert reader.keyword_search("zeppelin", 5) == []


def test_named_days_are_found_in_every_common_spelling():
    import datetime as dt

    from bot.dates import mentioned_dates

    text = "After the report on October 22, 2023 and the one on 2023-11-24, and October 1st"
    assert mentioned_dates(text, dt.date(2023, 12, 31)) == {
        dt.date(2023, 10, 22), dt.date(2023, 11, 24), dt.date(2023, 10, 1),
    }  # fmt: skip
    assert mentioned_dates("October 1st") == set()
    # news styles: abbreviated months, the day first
    on = dt.date(2023, 12, 31)
    assert mentioned_dates("on Nov. 8 and Sept. 5, 2022", on) == {
        dt.date(2023, 11, 8), dt.date(2022, 9, 5),
    }  # fmt: skip
    assert mentioned_dates("on 3 November 2022 and the 5th of October", on) == {
        dt.date(2022, 11, 3), dt.date(2023, 10, 5),
    }  # fmt: skip
    assert mentioned_dates("in May 2023, 15 Marches", on) == set()
    # a day without a year is the last one by the day asked: asked in January, last December
    assert mentioned_dates("on December 30", dt.date(2023, 1, 3)) == {dt.date(2022, 12, 30)}
    assert mentioned_dates("on January 2", dt.date(2023, 1, 3)) == {dt.date(2023, 1, 2)}
    assert mentioned_dates("on 2023-02-30") == set()


def test_a_named_day_brings_that_days_articles_forward(make_settings, tmp_path):
    from bot.ingest import ingest_paths
    from bot.store import Store

    analysts = ["Ames", "Bell", "Cole", "Diaz", "Egan", "Ford", "Gray"]  # same text is one story
    for day, analyst in enumerate(analysts, 1):
        (tmp_path / f"markets-{day}.md").write_text(
            f'---\ntitle: "Markets"\npublished: "2023-10-0{day}"\n---\n'
            f"Shares rose on the day, said {analyst}."
        )
    settings = make_settings(top_k=1)
    store = Store(settings)
    ingest_paths([tmp_path], settings, store=store)
    [hit] = Retriever(store, settings).retrieve("How did shares move on October 5th?")
    assert hit.article_id == "markets-5"


def test_the_weeks_story_is_found_though_other_weeks_look_more_alike(make_settings, tmp_path):
    """A rate decision every week: asked "this week", the week's story is searched for among
    the week's articles, not picked from the best matches overall, which other weeks fill."""
    import datetime as dt

    from bot.ingest import ingest_paths
    from bot.store import Store

    for week in range(1, 7):  # earlier weeks: the question's own words
        (tmp_path / f"rates-{week}.md").write_text(
            f'---\ntitle: "Central bank decides on rates"\npublished: "2022-06-0{week}"\n---\n'
            f"The central bank decided on interest rates, holding them, analyst {week} said."
        )
    (tmp_path / "this-week.md").write_text(
        '---\ntitle: "Borrowing costs climb"\npublished: "2022-07-12"\n---\n'
        "The central bank lifted rates by three quarters of a point on Tuesday."
    )
    settings = make_settings(candidates=3, top_k=3)
    store = Store(settings)
    ingest_paths([tmp_path], settings, store=store)
    retriever = Retriever(store, settings)
    asked = "What did the central bank decide on interest rates this week?"
    hits = retriever.retrieve(asked, as_of=dt.date(2022, 7, 13))
    assert "this-week" in [hit.article_id for hit in hits]
    plain = retriever.retrieve(asked.replace(" this week", ""), as_of=dt.date(2022, 7, 13))
    assert "this-week" not in [hit.article_id for hit in plain]  # the crowd is real


def span(text: str, as_of: str = "2022-07-13") -> tuple[str, str] | None:
    """The first and last day of the span the text names, asked on as_of (a Wednesday)."""
    import datetime as dt

    from bot.dates import relative_window

    window = relative_window(text, dt.date.fromisoformat(as_of))
    return (window.start.isoformat(), window.end.isoformat()) if window else None


def test_relative_spans_are_counted_back_from_the_day_asked():
    assert span("What did the Fed say this week?") == ("2022-07-07", "2022-07-13")  # 7 days
    assert span("Who won on Tuesday?") == ("2022-07-11", "2022-07-13")
    assert span("Who won last Wednesday?") == ("2022-07-05", "2022-07-07")
    assert span("Who won last Tuesday?") == ("2022-07-04", "2022-07-13")  # or the week before
    assert span("What happened yesterday?") == ("2022-07-11", "2022-07-13")  # today's paper too
    assert span("Which star retired recently?") == ("2022-06-29", "2022-07-13")
    assert span("What rose last month?") == ("2022-06-01", "2022-07-13")
    assert span("What fell 3 days ago?") == ("2022-07-09", "2022-07-11")
    assert span("Who spoke in the past two weeks?") == ("2022-06-29", "2022-07-13")
    assert span("Who won the award?") is None
    assert span("Did prices fall during Black Friday before the holidays?") is None  # a name
    assert span("Were Cyber Monday sales up on Tuesday?") == ("2022-07-11", "2022-07-13")
    assert span("Did Apple say Friday that it would?") == ("2022-07-07", "2022-07-09")
    assert span("Does the article from Business Today discuss Italy?") is None  # a name


def test_an_article_dated_the_day_after_may_still_hold_the_span():
    import datetime as dt

    from bot.dates import relative_window

    # retrieval admits an article dated a day after the day asked (time zones): so does the
    # span, or the bot would say none of the articles found is from this week
    window = relative_window("What did the Fed say this week?", dt.date(2022, 7, 13))
    assert window.may_hold("2022-07-14T02:00:00+00:00")
    assert not window.may_hold("2022-07-15")
    assert window.may_hold("2022-07-04") and not window.may_hold("2022-07-03")  # 3 days early


def test_news_phrasings_of_a_span_are_read_too():
    import datetime as dt

    from bot.dates import relative_window

    monday, saturday = "2022-07-11", "2022-07-16"
    # asked on a Monday, "this week" is still the last seven days
    assert span("What did the Fed say this week?", monday) == ("2022-07-05", "2022-07-11")
    assert span("What happened last night?") == ("2022-07-12", "2022-07-13")
    assert span("Who scored this morning?") == ("2022-07-12", "2022-07-13")
    assert span("What did he say the day before yesterday?") == ("2022-07-10", "2022-07-12")
    # the weekend before, from the Friday to the Monday its stories are dated
    assert span("What happened over the weekend?") == ("2022-07-08", "2022-07-11")
    assert span("Who won this weekend?", saturday) == ("2022-07-15", "2022-07-18")
    assert span("Who won last weekend?", saturday) == ("2022-07-08", "2022-07-11")
    assert span("Who resigned a week ago?") == ("2022-07-05", "2022-07-07")
    assert span("Who resigned two weeks ago?") == ("2022-06-28", "2022-06-30")
    assert span("What changed in the past 24 hours?") == ("2022-07-12", "2022-07-13")
    assert span("Who spoke in the last few days?") == ("2022-07-10", "2022-07-13")
    assert span("What rose in the past three months?") == ("2022-04-14", "2022-07-13")
    assert span("What happened in the past week?") == ("2022-06-30", "2022-07-13")
    assert span("Who won during the weekend?") == ("2022-07-08", "2022-07-11")
    recent_weeks = relative_window("What rose in recent weeks?", dt.date(2022, 7, 13))
    assert recent_weeks.start.isoformat() == "2022-06-01" and not recent_weeks.strict
    # words that only look like one: a newspaper's name, how long something lasted
    assert span("Does The Sydney Morning Herald say rates will fall?") is None
    assert span("How long did the fighting for Homs last?") is None
    assert span("Did the article describe his past experiences?") is None


def test_a_span_may_hold_the_days_just_before_it_and_undated_articles():
    import datetime as dt

    from bot.dates import relative_window

    week = relative_window("What did the Fed say this week?", dt.date(2022, 7, 13))
    assert week.strict and week.holds("2022-07-07") and not week.holds("2022-07-06")
    assert week.may_hold("2022-07-04") and week.may_hold(None)  # days just before; no date
    assert not week.may_hold("2022-07-03") and not week.may_hold("2022-06-12")
    assert not relative_window("Who retired recently?", dt.date(2022, 7, 13)).strict


def test_a_day_may_be_reported_on_any_day_after_it_up_to_the_day_asked():
    """d56: asked on Sunday who the Cowboys beat on Thursday night, the bot said none of the
    articles found was from Thursday: the one that answers, Sunday's standings, came out three
    days after the game."""
    import datetime as dt

    from bot.dates import relative_window

    sunday = dt.date(2023, 12, 3)
    thursday = relative_window("Who did the Cowboys beat on Thursday night?", sunday)
    assert not thursday.holds("2023-12-03")  # the heading does not call it Thursday's
    assert thursday.may_hold("2023-12-03") and thursday.may_hold("2023-12-04")  # time zones
    assert not thursday.may_hold("2023-12-05") and not thursday.may_hold("2023-11-25")


def test_the_day_asked_brings_that_weeks_story_forward_and_hides_later_ones(
    make_settings, tmp_path
):
    import datetime as dt

    from bot.ingest import ingest_paths
    from bot.store import Store

    stories = {
        "awards-2021": ("2021-07-12", "Ames"),
        "awards-2022": ("2022-07-12", "Bell"),
        "awards-2023": ("2023-07-12", "Cole"),
    }
    for name, (day, winner) in stories.items():
        (tmp_path / f"{name}.md").write_text(
            f'---\ntitle: "Awards night"\npublished: "{day}"\n---\n'
            f"The jury gave the annual prize for reporting to {winner} at the gala dinner."
        )
    settings = make_settings(top_k=1)
    store = Store(settings)
    ingest_paths([tmp_path], settings, store=store)
    retriever = Retriever(store, settings)
    question = "Who got the reporting prize at the gala this week?"
    [hit] = retriever.retrieve(question, as_of=dt.date(2022, 7, 14))
    assert hit.article_id == "awards-2022"
    hits = retriever.retrieve("Who got the reporting prize?", k=5, as_of=dt.date(2021, 8, 1))
    assert [h.article_id for h in hits] == ["awards-2021"]  # the later ones did not exist yet


def test_hidden_articles_are_left_out_of_both_searches_until_shown_again(make_settings, tmp_path):
    from bot.ingest import ingest_paths
    from bot.store import Store

    settings = make_settings()
    store = Store(settings)
    (tmp_path / "zeppelin.md").write_text("A zeppelin landed in the square on Monday.")
    (tmp_path / "airship.md").write_text("An airship landed in the harbour on Tuesday.")
    ingest_paths([tmp_path], settings, store=store)
    retriever = Retriever(store, settings)
    question = "Where did the zeppelin land?"

    def found() -> list[str]:
        hits = retriever.retrieve(question) + retriever.keyword_search("zeppelin landed", 5)
        return [p.article_id for p in hits]

    assert "zeppelin" in found()
    store.hidden = frozenset({"zeppelin"})
    assert found() and "zeppelin" not in found()
    store.hidden = frozenset()
    assert "zeppelin" in found()
