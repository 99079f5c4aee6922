"""The page's briefing pieces without a browser: typed requests, clickable markers, and the
source viewer, which shows hostile article text as text."""

from __future__ import annotations

import html

import pytest

from bot.ingest import ingest_paths
from bot.store import Store
from bot.ui import brief_request_in, render_answer, render_briefing, render_source
from tests.test_hostile import HOSTILE_ARTICLES, write_hostile_corpus


@pytest.mark.parametrize(
    ("message", "request_"),
    [
        ("brief me on Syria", ("Syria", None, None)),
        ("Brief me about the Homs offensive since Friday.", ("the Homs offensive", "Friday", None)),
        ("brief me on Syria last week", ("Syria", "last week", None)),
        (
            "brief me on Syria from 2024-12-01 until 2024-12-07",
            ("Syria", "2024-12-01", "2024-12-07"),
        ),
        ("brief me on aid from Qatar", ("aid from Qatar", None, None)),
        ("Who issued the joint statement?", None),
        ("Can you brief me on Syria?", None),  # a question about briefing, answered as one
    ],
)
def test_brief_me_typed_in_the_chat_is_a_briefing_request(message, request_):
    assert brief_request_in(message) == request_


CITATION = {
    "n": 1, "article_id": 'x"><img src=x onerror=alert(1)>', "title": "T", "source": "S",
    "published": "2024-12-07", "url": None, "passage": "Rebels took Homs.", "start": 5, "end": 22,
    "score": 0.5,
}  # fmt: skip


def test_markers_in_answers_and_briefings_carry_the_cited_span_and_nothing_else():
    answer = {"answer": "Rebels took Homs [1]. Not a citation [7].", "citations": [CITATION]}
    shown = render_answer(answer)
    key = "x%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E:5:22"
    assert f'<span class="cite" title="Open the source: {key}">[1]</span>' in shown
    assert "<img" not in shown and r"\[7\]" in shown
    briefing = {
        "topic": "Syria <b>", "since": "2024-12-06", "until": None, "new_only": False,
        "empty": False, "message": "",
        "points": [
            {"text": "Rebels took Homs [1].", "date": "2024-12-07", "citations": [CITATION]}
        ],
    }  # fmt: skip
    shown = render_briefing(briefing)
    assert shown.startswith(r"**Briefing: Syria &lt;b&gt;** (since 2024\-12\-06; newest first)")
    assert (
        "**2024\\-12\\-07** Rebels took Homs" in shown
        and f'title="Open the source: {key}"' in shown
    )
    empty = briefing | {"empty": True, "points": [], "message": "No articles about Syria."}
    assert render_briefing(empty).endswith("No articles about Syria\\.")


def test_the_source_viewer_shows_hostile_articles_as_text_with_the_span_marked(
    make_settings, tmp_path
):
    settings = make_settings()
    store = Store(settings)
    ingest_paths([write_hostile_corpus(tmp_path / "hostile")], settings, store=store)
    for article_id, (title, source, url, _) in HOSTILE_ARTICLES.items():
        [passage] = [p for p in store.all_passages() if p.article_id == article_id][:1]
        shown = render_source(store, f"{article_id}:{passage.start}:{passage.end}")
        assert "<script" not in shown and "<img" not in shown and "<iframe" not in shown
        assert 'href="javascript' not in shown
        if url.startswith("https://"):  # its own link, every special character %-encoded
            assert 'href="https://news.example/' in shown
        assert html.escape(title) in shown and html.escape(source) in shown
        marked = shown.split('<mark id="cited-span">')[1].split("</mark>")[0]
        assert html.unescape(marked) == passage.text
    assert "no longer in the index" in render_source(store, "gone:0:5")
    assert "Click a numbered citation" in render_source(store, "not a key")


def test_the_article_list_filters_by_source_and_date(make_settings):
    from bot.config import SAMPLE_CORPUS
    from bot.ui import filtered_articles
    from tests.test_briefing import BRIEFING_DATA

    settings = make_settings()
    store = Store(settings)
    ingest_paths([SAMPLE_CORPUS, BRIEFING_DATA], settings, store=store)

    def ids(source, since):
        return [row[3] for row in filtered_articles(store, source, since)]

    assert ids("", "") == ["ferry-vote", "homs-falls", "homs-wire"]  # oldest first, dated
    assert ids("Harbour Wire", "") == ["homs-wire"]
    assert ids("", "2024-12-07") == ["homs-falls", "homs-wire"]
    assert ids("New York Post", "2024-12-08") == []
