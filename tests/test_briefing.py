"""Briefings: periods in words, grouping, citations across articles, what's new, the source
text; the empty period with a real (tiny) model; and `briefing brief` with the default model."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import threading
from pathlib import Path

import pytest

from bot.answer import Briefer
from bot.briefing import (
    Briefing,
    BriefingWriter,
    BriefRequest,
    Memory,
    Point,
    group,
    render_point,
    repeats,
    with_all_supporting,
    without_preamble,
)
from bot.citations import CheckedSentence
from bot.config import SAMPLE_CORPUS
from bot.errors import QuestionError
from bot.ingest import ingest_paths
from bot.periods import Period, parse_when
from bot.store import Passage, Store
from tests.conftest import BOT, sample_cli_env

BRIEFING_DATA = Path(__file__).parent / "data" / "briefing"
SUNDAY = dt.date(2024, 12, 8)
STATEMENT = (
    "Qatar, Saudi Arabia, Jordan, Egypt, Iraq, Iran, Turkey and Russia issued a joint statement"
)


def passage(article_id: str, text: str, start: int = 0, published: str = "2024-12-07") -> Passage:
    return Passage(article_id, f"{article_id} title", "Wire", published, None, text, start,
                   start + len(text), 0.5)  # fmt: skip


# --- Periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end", "day"),
    [
        ("Friday", False, "2024-12-06"),
        ("since Friday", False, "2024-12-06"),
        ("Sunday", False, "2024-12-08"),  # asked on a Sunday: today
        ("last Sunday", False, "2024-12-01"),
        ("2024-12-01", False, "2024-12-01"),
        ("December 6", False, "2024-12-06"),
        ("yesterday", False, "2024-12-07"),
        ("3 days ago", False, "2024-12-05"),
        ("this week", False, "2024-12-02"),  # bot.dates: the last seven days
        ("this week", True, "2024-12-08"),
        ("last week", False, "2024-11-25"),
    ],
)
def test_dates_in_words_count_back_from_the_as_of_day(text, end, day):
    assert parse_when(text, SUNDAY, end=end) == dt.date.fromisoformat(day)


def test_a_period_that_is_no_date_or_runs_backwards_is_one_clear_error():
    with pytest.raises(QuestionError, match="'next blue moon' is not a date"):
        Period.of("next blue moon", None, SUNDAY)
    with pytest.raises(QuestionError, match="starts \\(2024-12-08\\) after it ends"):
        Period.of("2024-12-08", "Friday", SUNDAY)


def test_a_period_holds_its_ends_and_undated_articles_only_when_open():
    period = Period.of("Friday", "Saturday", SUNDAY)
    assert [period.holds(d) for d in ("2024-12-05", "2024-12-06", "2024-12-07T10:00", None)] == [
        False, True, True, False,
    ]  # fmt: skip
    assert Period().holds(None)


# --- Points -----------------------------------------------------------------------------------


def test_a_development_several_articles_report_cites_them_all_and_nothing_else():
    passages = [
        passage("post", f"{STATEMENT} calling for a political solution."),
        passage("wire", f"{STATEMENT} saying the crisis was dangerous.", published="2024-12-08"),
        passage("ferry", "Northport council voted to keep the night ferry running."),
    ]
    evidence = [f"{p.title}\n{p.text}" for p in passages]
    checked = CheckedSentence(f"{STATEMENT} calling for a political solution.", (0,))
    widened = with_all_supporting(checked, passages, evidence, "Syria")
    assert widened.passages == (0, 1)
    numbers: dict = {}
    point = render_point([widened], passages, numbers)
    assert point.text.endswith("political solution [1][2].")
    assert [c.article_id for c in point.citations] == ["post", "wire"]
    assert point.date == "2024-12-08"  # the newest supporting article's day
    # Numbers run across the briefing: a later point citing "wire" again reuses [2].
    again = render_point([CheckedSentence("Eight nations issued it.", (1, 2))], passages, numbers)
    assert again.text == "Eight nations issued it [2][3]."


def test_a_point_repeating_an_earlier_one_is_dropped():
    first = Point("Rebels captured Homs on Saturday [1].", "2024-12-07")
    assert repeats(Point("Rebels captured Homs [2].", "2024-12-07"), [first])
    assert not repeats(Point(f"{STATEMENT} [3].", "2024-12-07"), [first])


def test_the_draft_states_the_news_not_that_passages_report_it():
    draft = "The New York Post article states that rebels won. The passages also note that x"
    assert without_preamble(draft) == "Rebels won. X"
    assert without_preamble("The articles discuss Homs.") == "The articles discuss Homs."


def test_passages_about_different_developments_make_different_points():
    passages = [
        passage("wire", "Syrian rebels captured the city of Homs after a day of fighting."),
        passage("wire", f"{STATEMENT} calling for a political solution.", start=70),
        passage("post", "Rebels seized Homs, Syria's third city, after government troops fled."),
        passage("ferry", "Northport council voted to keep the night ferry running."),
    ]
    groups = group(passages, max_points=5)
    texts = [[p.text[:20] for p in g] for g in groups]
    assert len(groups) == 3, texts
    homs = next(g for g in groups if g[0].start == 0 and g[0].article_id == "wire")
    assert {p.article_id for p in homs} == {"wire", "post"}  # one development, two articles
    assert len(group(passages, max_points=2)) == 2


# --- The index: what's new, the whole article ---------------------------------------------------


@pytest.fixture
def briefing_store(make_settings):
    settings = make_settings()
    store = Store(settings)
    ingest_paths([SAMPLE_CORPUS], settings, store=store)
    return settings, store


def test_new_means_indexed_or_changed_since_the_last_briefing_on_the_topic(
    briefing_store, tmp_path
):
    settings, store = briefing_store
    memory = Memory(settings.home)
    assert memory.new_articles("Syria", store) == {"homs-falls"}  # no briefing yet: all new
    memory.remember("Syria", store)
    assert memory.new_articles(" syria ", store) == set()
    assert memory.new_articles("Homs", store) == {"homs-falls"}  # another topic
    ingest_paths([BRIEFING_DATA / "homs-wire.md"], settings, store=store)
    assert memory.new_articles("Syria", store) == {"homs-wire"}
    changed = tmp_path / "homs-falls.md"
    changed.write_text((SAMPLE_CORPUS / "homs-falls.md").read_text() + "\nAn update.\n")
    ingest_paths([changed], settings, store=store)
    assert memory.new_articles("Syria", store) == {"homs-wire", "homs-falls"}
    assert json.loads((settings.home / "briefings.json").read_text())["syria"]["articles"]


def test_the_whole_article_is_rebuilt_with_every_passage_at_its_offsets(briefing_store):
    _, store = briefing_store
    meta, text = store.article_text("homs-falls")
    assert meta["title"] == "Syrian rebels capture Homs" and meta["published"] == "2024-12-07"
    for p in store.all_passages():
        assert text[p.start : p.end] == p.text
    original = (SAMPLE_CORPUS / "homs-falls.md").read_text().split("---", 2)[2]
    assert text.split() == original.split()
    assert store.article_text("no-such-article") is None


# --- With a real model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_writer(tiny_settings, tiny_model):
    store = Store(tiny_settings, collection="briefing-tests")
    ingest_paths([SAMPLE_CORPUS, BRIEFING_DATA], tiny_settings, store=store)
    return BriefingWriter(Briefer(tiny_settings, store=store, chat_model=tiny_model))


def test_an_empty_period_says_so_in_one_line(tiny_writer):
    events = list(tiny_writer.stream(BriefRequest("Syria", since="2024-12-09", as_of=SUNDAY)))
    [briefing] = events
    assert briefing.empty and briefing.points == []
    assert briefing.message == "No articles about Syria since 2024-12-09."
    assert briefing.to_dict()["empty"] is True and briefing.since == "2024-12-09"


def test_only_articles_in_the_period_are_gathered(tiny_writer):
    friday = Period.of("Friday", "Saturday", SUNDAY)
    assert {p.article_id for p in tiny_writer.gather("Syria", friday, SUNDAY)} == {"homs-falls"}
    sunday = Period.of("Sunday", None, SUNDAY)
    assert {p.article_id for p in tiny_writer.gather("Syria", sunday, SUNDAY)} == {"homs-wire"}
    ferry = tiny_writer.gather("night ferry", Period(), SUNDAY)
    assert ferry and {p.article_id for p in ferry} == {"ferry-vote"}


def test_a_briefing_waits_for_the_model_gate_and_streams_cited_points(tiny_writer):
    events: list = []
    request = BriefRequest("Syria", max_points=2, as_of=SUNDAY)
    worker = threading.Thread(target=lambda: events.extend(tiny_writer.stream(request)))
    with tiny_writer.briefer.gate:  # an answer is using the model
        worker.start()
        worker.join(timeout=3)
        assert worker.is_alive() and events == []  # the briefing waits its turn
    worker.join(timeout=300)
    *points, briefing = events
    assert isinstance(briefing, Briefing) and briefing.points == points
    assert len(points) <= 2 and briefing.order == "newest-first"
    for point in points:  # whatever the weak model wrote, what stands is cited and dated
        assert re.search(r"\[\d+\]", point.text) and point.citations
        assert point.date == max(c.published for c in point.citations)


def test_a_bad_topic_or_point_count_fails_before_the_model(tiny_writer):
    with pytest.raises(QuestionError, match="the topic is empty"):
        list(tiny_writer.stream(BriefRequest("   ")))
    with pytest.raises(QuestionError, match="at least 1"):
        list(tiny_writer.stream(BriefRequest("Syria", max_points=0)))


# --- `briefing brief` with the default model, as a user runs it ------------------------------


@pytest.fixture(scope="module")
def brief_cli(tmp_path_factory, default_model_file):
    env = sample_cli_env(tmp_path_factory.mktemp("brief-home"))

    def brief(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*BOT, "brief", *args], env=env, capture_output=True, text=True, timeout=900
        )

    return brief


@pytest.mark.slow
def test_a_syria_briefing_is_cited_dated_and_names_homs_and_the_joint_statement(brief_cli):
    result = brief_cli("Syria", "--json", "--as-of", "2024-12-08")
    assert result.returncode == 0, result.stderr
    briefing = json.loads(result.stdout)
    assert not briefing["empty"] and briefing["order"] == "newest-first"
    text = " ".join(p["text"] for p in briefing["points"])
    for fact in ("Homs", "joint statement", "Qatar", "Saudi Arabia", "Turkey", "Russia"):
        assert fact in text, text
    article = (SAMPLE_CORPUS / "homs-falls.md").read_text().split("---", 2)[2].lstrip("\n")
    for point in briefing["points"]:
        assert point["date"] == "2024-12-07"
        marks = {int(n) for n in re.findall(r"\[(\d+)\]", point["text"])}
        assert marks == {c["n"] for c in point["citations"]}
        for c in point["citations"]:
            assert article[c["start"] : c["end"]] == c["passage"]
    assert briefing["timings"]["first_point_s"] < briefing["timings"]["total_s"]


@pytest.mark.slow
def test_a_briefing_over_an_empty_period_and_what_is_new_say_so_in_one_line(brief_cli):
    empty = brief_cli("Syria", "--since", "2024-12-09", "--as-of", "2024-12-10")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "No articles about Syria since 2024-12-09."
    brief_cli("Syria", "--as-of", "2024-12-08", "--max-points", "1")  # remembered
    nothing_new = brief_cli("Syria", "--new", "--as-of", "2024-12-08")
    assert nothing_new.stdout.strip() == "No new articles about Syria in the index."


# --- The eval's briefing items ----------------------------------------------------------------


def test_briefing_items_are_read_beside_questions_and_scored(tmp_path):
    from bot.briefing_eval import load_briefing_items, score_briefing
    from bot.evaluate import load_questions

    items = load_briefing_items(Path("evals/briefings-seed.jsonl"))
    assert [i.topic for i in items][:2] == ["Syria", "Homs"] and items[1].since == "Friday"
    assert items[0].asked_on == SUNDAY
    mixed = tmp_path / "mixed.jsonl"
    question = {"id": "q1", "question": "Who?", "answers": ["x"]}
    mixed.write_text(json.dumps(question) + "\n" + Path("evals/briefings-seed.jsonl").read_text())
    assert [q.id for q in load_questions(mixed)] == ["q1"]
    assert len(load_briefing_items(mixed)) == len(items)

    statement = f"{STATEMENT} calling for a political solution"
    briefing = {
        "empty": False,
        "points": [
            {"text": f"{statement} [1].", "citations": [
                {"n": 1, "article_id": "homs-falls", "passage": statement}]},
            {"text": "Rebels took Homs [2][3].", "citations": [
                {"n": 2, "article_id": "homs-falls", "passage": "Syrian rebels took Homs."},
                {"n": 3, "article_id": "other", "passage": "Rebels took Homs on Saturday."},
            ]},
            {"text": "The weather was mild [1].", "citations": [
                {"n": 1, "article_id": "homs-falls", "passage": statement}]},
        ],
    }  # fmt: skip
    scored = score_briefing(items[0], briefing)
    assert scored["coverage"] == 1.0 and scored["missing"] == []
    assert score_briefing(items[3], briefing)["missing"] == ["Assad", "Damascus"]
    # [1] supports its sentence; [2] does; [3] is not a gold article; the last [1] supports
    # nothing of "the weather was mild".
    assert scored["citation_precision"] == 2 / 4
    assert scored["points"] == 3 and scored["words"] > 10


def test_a_bad_briefing_item_is_named_by_line(tmp_path):
    from bot.briefing_eval import load_briefing_items
    from bot.errors import BriefingError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "b1", "kind": "briefing"}\n')
    with pytest.raises(BriefingError, match="bad.jsonl:1: not a valid briefing item"):
        load_briefing_items(bad)


def test_a_topic_is_cleaned_and_limited_as_a_question_is(default_settings):
    from bot.briefing import clean_topic

    assert clean_topic("  Syria\x00 and\n\x1b[31mHoms ", default_settings) == "Syria and [31mHoms"
    with pytest.raises(QuestionError, match="the topic is 2,001 characters long; the limit is"):
        clean_topic("x" * 2_001, default_settings)
