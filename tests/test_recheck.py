"""evals/recheck.py: a past run's drafts replayed through the checks, with rules switched off."""

from __future__ import annotations

import json

import bot.answer
from bot import citations
from bot.answer import ABSTAIN_ANSWER
from bot.config import SAMPLE_CORPUS
from bot.passage import Passage
from evals.recheck import RULES, recheck, rules_off
from tests.test_answer import SEQUEL_CAST


def saved_run(tmp_path, draft: str, asked: str = "Who captured the city of Homs?"):
    question = {
        "id": "q1",
        "question": asked,
        "answers": ["rebels"],
        "source_ids": ["homs-falls"],
        "answerable": True,
    }
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps(question))
    timings = {"first_token_s": 1.0, "total_s": 2.0}
    answer = {"question": question["question"], "answer": ABSTAIN_ANSWER, "abstained": True,
              "citations": [], "timings": timings, "model": "m"}  # fmt: skip
    expected = {"answers": ["rebels"], "must_include": [], "source_ids": ["homs-falls"],
                "answerable": True}  # fmt: skip
    row = {"id": "q1", "kind": "fact", "expected": expected, "answer": answer, "draft": draft,
           "retrieved": [], "standalone_question": None, "verdict_p_yes": None}  # fmt: skip
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(row))
    return results, questions


def test_a_rule_switched_off_changes_the_replayed_answer_and_comes_back_on(
    tmp_path, make_settings, monkeypatch
):
    monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / "home"))
    # "Israel" is in no passage: the foreign-name rule drops the sentence, so the bot abstains.
    results, questions = saved_run(tmp_path, "Israel said Syrian rebels captured Homs [1].")

    checked = recheck(results, questions, SAMPLE_CORPUS, "all", [])
    assert checked["accuracy"] == 0.0 and checked["false_abstention_rate"] == 1.0

    replayed = tmp_path / "replayed.jsonl"
    without = recheck(results, questions, SAMPLE_CORPUS, "all", ["foreign_names"], replayed)
    assert without["accuracy"] == 1.0 and without["false_abstention_rate"] == 0.0
    [row] = [json.loads(line) for line in replayed.read_text().splitlines()]
    assert row["answer"]["answer"].startswith("Israel said Syrian rebels captured Homs")
    assert row["score"]["correct"]
    assert citations.foreign_names("Israel said so.", ["Homs fell."]) == {"israel"}


HOMS = ["Homs fell on Saturday."]
DENIED = ["The nations have not agreed on any steps."]
STUDY = [Passage("a", "Study", "Revyuh Media", "2023-11-24", None, "A study appeared.", 0, 17)]


def _texts(sentences) -> list[str]:
    return [s.text for s in sentences]


SWITCHED = {
    "foreign_names": (
        lambda: citations.foreign_names("Israel said Homs fell.", HOMS),
        {"israel"},
        set(),
    ),
    "opener_recognised": (
        lambda: citations.foreign_names("Israel said Homs fell.", HOMS),
        {"israel"},
        set(),
    ),
    "same_stem": (
        lambda: citations.foreign_names("The rebels are Syrian.", ["Rebels of Syria."]),
        set(),
        {"syrian"},
    ),
    "spelled_numbers": (
        lambda: citations.foreign_names("In all 40 boats sailed.", ["Forty boats sailed."]),
        set(),
        {"40"},
    ),
    "denied_flip": (
        lambda: _texts(
            citations.check_answer(
                "Yes, the nations have agreed on steps [1].",
                DENIED,
                "Have the nations agreed on steps?",
                lambda: 0.5,
            )
        ),
        ["No"],
        ["Yes"],
    ),
    "denies": (
        lambda: _texts(citations.check_sentences("The nations have agreed on steps [1].", DENIED)),
        [],
        ["The nations have agreed on steps."],
    ),
    "verdict_judge": (
        lambda: _texts(
            citations.check_answer("No, it did not fall [1].", HOMS, "Did Homs fall?", lambda: 0.95)
        ),
        [],
        ["No"],
    ),
    "restated": (
        lambda: _texts(
            citations.check_answer("Homs fell [1].", HOMS, "When was it that Homs fell?")
        ),
        [],
        ["Homs fell."],
    ),
    "outlets": (lambda: bot.answer.outlets_unnamed(STUDY), ["Revyuh Media"], []),
}
"""Each rule recheck can switch off: a case it decides, its result on, and its result off."""


def test_every_rule_recheck_switches_off_changes_what_it_decides_and_comes_back_on():
    """A switch that missed its rule (a renamed attribute, a name imported elsewhere) would
    make every replay without it look like the rule earns nothing."""
    assert set(SWITCHED) == set(RULES)
    for rule, (case, on, off) in SWITCHED.items():
        assert case() == on, rule
        with rules_off([rule]):
            assert case() == off, rule
        assert case() == on, rule


def test_with_a_judge_the_per_passage_questions_are_asked_not_answered_from_the_run(
    tmp_path, default_judge, monkeypatch
):
    """A name only the question gave stands when the judge says a passage answers it. The saved
    judge answers 0.5, which lets it stand; the model, asked, says no passage tells what Israel
    said about the casting (as in tests/test_answer.py), so the sentence is dropped as it is
    in the live answer."""
    monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / "home"))
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "cast.md").write_text(SEQUEL_CAST)
    draft = "Israel said Beetz would be back [1]."
    results, questions = saved_run(tmp_path, draft, "What did Israel say about the casting?")
    saved = recheck(results, questions, corpus, "all", [])
    assert saved["false_abstention_rate"] == 0.0
    asked = recheck(results, questions, corpus, "all", [], judge=default_judge)
    assert asked["false_abstention_rate"] == 1.0


def test_a_second_look_is_replayed_against_the_first_article_alone(tmp_path, monkeypatch):
    """A draft written again from the first article alone (Briefer.to_redraft_from) cites its
    passages only: replayed against every passage shown, a sentence from another article would
    stand where the live check dropped it."""
    from tests.test_answer import VELO_NUMBERS, wire_story

    monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BRIEFING_RELATIVE_RELEVANCE", "0")  # the rival story is shown too
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "velo.md").write_text(wire_story("Velo posts profit", "2023-11-07", VELO_NUMBERS))
    rival = "Brisk reported a net loss of $12 million for the quarter that ended in September."
    (corpus / "rival.md").write_text(wire_story("Brisk reports a loss", "2023-11-08", rival))
    draft = "Brisk reported a net loss of $12 million [1]."
    results, questions = saved_run(tmp_path, draft, "What net income did Velo post?")
    replays = []
    for second_look in (False, True):
        row = json.loads(results.read_text()) | {"second_look": second_look}
        results.write_text(json.dumps(row))
        replayed = tmp_path / f"replayed-{second_look}.jsonl"
        recheck(results, questions, corpus, "all", [], out=replayed)
        replays.append(json.loads(replayed.read_text())["answer"]["abstained"])
    assert replays == [False, True]


def test_a_doubted_answer_is_replayed_with_the_runs_confirmation(tmp_path, monkeypatch):
    """A draft written though the judge doubted the passages hold the answer stands only when
    the judge confirmed it (Briefer.confirm): the replay reads that from the run too."""
    monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / "home"))
    results, questions = saved_run(tmp_path, "Syrian rebels captured Homs [1].")
    replays = []
    for p_true in (0.9, 0.1):
        row = json.loads(results.read_text()) | {"p_answerable": 0.3, "p_true": p_true}
        results.write_text(json.dumps(row))
        replays.append(recheck(results, questions, SAMPLE_CORPUS, "all", [])["accuracy"])
    assert replays == [1.0, 0.0]
