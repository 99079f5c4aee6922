"""Eval metrics on hand-made answers, and the eval command on the real path with SmolLM2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answer import ABSTAIN_ANSWER
from bot.config import SAMPLE_CORPUS
from bot.errors import BriefingError
from bot.evaluate import (
    Question,
    citation_supports,
    gate_failures,
    gold_hidden,
    is_correct,
    is_right,
    jsonl_records,
    load_questions,
    score,
    summarise,
)

SEED = Path(__file__).resolve().parent.parent / "evals" / "seed.jsonl"
JOINT = Question(
    id="q1",
    question="Who issued the joint statement?",
    answers=["Qatar, Saudi Arabia, Jordan, Egypt, Iraq, Iran, Turkey and Russia"],
    source_ids=["homs-falls"],
    answerable=True,
    must_include=["Qatar", "Russia"],
)
YES_NO = Question("q2", "Did soldiers join?", ["Yes"], ["homs-falls"], True)
NONE = Question("q3", "How many died?", [], [], False)
GOOD_PASSAGE = "Qatar, Saudi Arabia ... Turkey and Russia issued a joint statement."


def answer(text, abstained=False, citations=(), first=1.0, total=2.0):
    return {
        "question": "?",
        "answer": text,
        "abstained": abstained,
        "citations": list(citations),
        "timings": {"retrieve_s": 0.1, "first_token_s": first, "total_s": total},
    }


def citation(article_id="homs-falls", passage=GOOD_PASSAGE, n=1):
    return {"n": n, "article_id": article_id, "passage": passage}


def test_a_right_answer_needs_every_must_include_term():
    assert is_correct(JOINT, answer("Qatar, Egypt and Russia issued it [1]."))
    assert not is_correct(JOINT, answer("Qatar issued it [1]."))


def test_an_ordinal_day_matches_the_plain_day_as_a_reader_would():
    sale = Question("q4", "When does it go on sale?", ["November 16"], ["deck"], True)
    cited = [citation("deck", "It goes on sale November 16 at 1pm ET.")]
    assert is_correct(sale, answer("On November 16th at 1pm ET [1].", citations=cited))
    assert not is_correct(sale, answer("On November 1st [1].", citations=cited))


def test_yes_no_is_judged_by_the_first_yes_or_no():
    cited = [citation()]
    assert is_correct(
        YES_NO, answer("Yes, some soldiers joined [1]. No one stopped them.", citations=cited)
    )
    assert not is_correct(YES_NO, answer("No, yes was not said [1].", citations=cited))


def test_true_or_false_expected_is_a_verdict_a_yes_or_no_answers():
    """MultiHop-RAG expects "True" to "Does A suggest X, while B indicates Y?": a reader takes
    "Yes" for it, though the passages never say "true"."""
    claim = Question(
        "q5", "Does the article suggest X, while the other says Y?", ["True"], ["a"], True
    )
    cited = [citation("a", "X happened.")]
    assert claim.yes_no == "yes" and claim.category == "yes/no"
    assert is_correct(claim, answer("Yes. The article suggests X [1].", citations=cited))
    assert not is_correct(claim, answer("No. The article does not suggest X [1].", citations=cited))
    assert Question("q6", "?", ["False"], ["a"], True).yes_no == "no"


def test_a_lone_verdict_counts_only_when_its_citation_supports_it():
    assert is_correct(YES_NO, answer("Yes [1].", citations=[citation()]))
    assert not is_correct(YES_NO, answer("Yes [1].", citations=[citation("another-story")]))
    assert not is_correct(YES_NO, answer("Yes."))


def test_restating_the_question_is_no_credit():
    asked = Question("q4", "Did Google or Apple win the Google case?", ["Google"], ["g"], True)
    restated = "The Google case was about search [1]."
    assert not is_correct(asked, answer(restated, citations=[citation("other", "Search.")]))
    assert is_correct(asked, answer("Google won [1].", citations=[citation("g", "Google won.")]))
    assert is_correct(JOINT, answer("Qatar and Russia [1].", citations=[citation("other")]))


def test_the_split_is_fixed_by_id_and_halves_a_set():
    questions = [Question(f"q{n}", "?", [], [], True) for n in range(200)]
    dev = [q.id for q in questions if q.split == "dev"]
    assert 80 <= len(dev) <= 120
    assert dev == [q.id for q in questions if q.split == "dev"]


def test_asked_on_is_read_and_a_bad_one_is_named(tmp_path):
    import datetime as dt

    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "question": "Q?", "asked_on": "2024-12-08"}\n')
    assert load_questions(path)[0].asked_on == dt.date(2024, 12, 8)
    path.write_text('{"id": "a", "question": "Q?", "asked_on": "last Tuesday"}\n')
    with pytest.raises(BriefingError, match="set.jsonl:1: asked_on 'last Tuesday'"):
        load_questions(path)


def test_an_abstention_is_wrong_on_an_answerable_question():
    assert not is_correct(JOINT, answer("The articles don't say.", abstained=True))


def test_a_bad_citation_does_not_support_the_answer():
    assert citation_supports(JOINT, citation())
    assert not citation_supports(JOINT, citation(article_id="other-story"))
    assert not citation_supports(JOINT, citation(passage="Assad remained in Damascus."))
    assert not citation_supports(NONE, citation())


def test_summary_counts_each_metric_from_hand_made_rows():
    def row(question, ans, retrieved):
        return {
            "kind": question.category,
            "expected": {"answerable": question.answerable, "source_ids": question.source_ids},
            "answer": ans,
            "score": score(question, ans, retrieved),
        }

    rows = [
        row(JOINT, answer("Qatar and Russia [1][2].", citations=[citation(), citation("x", n=2)],
                          first=1, total=2), ["x", "homs-falls"]),
        row(YES_NO, answer("The articles don't say.", abstained=True, first=3, total=3),
            ["homs-falls"]),
        row(NONE, answer("About 100 [1].", citations=[citation()], first=2, total=4), []),
    ]  # fmt: skip
    summary = summarise(rows)
    assert summary["accuracy"] == 0.5
    assert summary["false_abstention_rate"] == 0.5
    assert summary["abstention_rate"] == 0.0
    assert summary["citation_precision"] == 0.5  # one of the two cited articles is gold
    assert summary["source_recall"] == 0.5
    assert summary["recall_at_k"] == 1.0
    assert summary["mrr"] == 0.75
    assert summary["total_p50_s"] == 3.0
    assert summary["right_by_kind"] == {"fact": 1.0, "unanswerable": 0.0, "yes/no": 0.0}


def test_gold_hidden_questions_expect_an_abstention_and_keep_their_gold_ids():
    hidden = gold_hidden([JOINT, YES_NO, NONE])
    assert [q.id for q in hidden] == ["q1", "q2"]  # a null query has no gold to hide
    assert all(not q.answerable and q.category == "gold hidden" for q in hidden)
    assert hidden[0].source_ids == ["homs-falls"] and hidden[0].answers == []
    replies = [(hidden[0], ABSTAIN_ANSWER, True), (hidden[1], "Yes [1].", False)]
    rows = [  # scored as unanswerable: right only when abstained on
        {"expected": {"answerable": q.answerable}, "answer": answer(text, abstained)}
        for q, text, abstained in replies
    ]
    assert [is_right(r) for r in rows] == [True, False]


def test_retrieval_with_the_gold_hidden_never_finds_it(make_settings, tmp_path):
    from bot.evaluate import run_eval

    settings = make_settings()
    shown = run_eval(SEED, settings, retrieval_only=True, out=tmp_path)
    hidden = run_eval(SEED, settings, retrieval_only=True, out=tmp_path, hide_gold=True)
    assert shown["recall_at_k"] > 0.9
    assert hidden["questions_with_sources"] == shown["questions_with_sources"]
    assert hidden["recall_at_k"] == 0.0


def test_the_gate_fails_only_beyond_the_margin():
    baseline = {"accuracy": 0.9, "abstention_rate": 1.0}
    assert gate_failures({"accuracy": 0.86, "abstention_rate": 0.96}, baseline, 0.05) == []
    [failure] = gate_failures({"accuracy": 0.8, "abstention_rate": 1.0}, baseline, 0.05)
    assert failure.startswith("accuracy 0.800 is below 0.850")


def test_a_bad_question_line_is_named(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "question": "Q?"}\n{"id": "b"}\n')
    with pytest.raises(BriefingError, match="set.jsonl:2: not a valid question"):
        load_questions(path)


def test_the_seed_set_is_large_and_checked_against_the_corpus():
    questions = load_questions(SEED)
    assert len(questions) >= 30
    assert sum(not q.answerable for q in questions) >= 8
    assert sum(bool(q.history) for q in questions) >= 3
    text = (SAMPLE_CORPUS / "homs-falls.md").read_text()
    for q in questions:
        for term in q.must_include:
            assert term in text, (q.id, term)


@pytest.mark.parametrize("pipeline", ["ours", "stock"])
def test_eval_command_writes_the_three_outputs(tmp_path, models_dir, pipeline):
    from bot.llm import tiny_model_path

    env = os.environ | {
        "BRIEFING_HOME": str(tmp_path / "home"),
        "BRIEFING_LLM_MODEL": str(tiny_model_path()),
    }
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(SEED), "--limit", "3",
         "--out", str(out), "--pipeline", pipeline],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["seed01", "seed02", "seed03"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 3 and summary["pipeline"] == pipeline
    assert summary["recall_at_k"] is not None
    report = (out / "report.md").read_text()
    assert "| answer accuracy (answerable) |" in report and "seed01" in report
    assert (out / "accuracy_by_kind.png").stat().st_size > 0
    assert (out / "latency.png").stat().st_size > 0


def test_the_stock_recipe_writes_a_token_at_a_time_and_ours_looks_ahead(tiny_settings):
    """Prompt lookup is ours: the stock recipe runs the model as LangChain's ChatLlamaCpp
    does, so that its latency is the recipe's."""
    from bot.evaluate import build_pipeline

    stock = build_pipeline("stock", SAMPLE_CORPUS, tiny_settings)
    ours = build_pipeline("ours", SAMPLE_CORPUS, tiny_settings)
    assert stock.chain.steps[1].client.draft_model is None
    assert ours.chat_model.client.lookup_tokens == tiny_settings.lookup_tokens > 0


def test_eval_with_the_gold_hidden_answers_from_what_is_left(tmp_path, models_dir):
    """The sample corpus is one article: hidden, nothing is found and every answer abstains."""
    from bot.llm import tiny_model_path

    env = os.environ | {
        "BRIEFING_HOME": str(tmp_path / "home"),
        "BRIEFING_LLM_MODEL": str(tiny_model_path()),
    }
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(SEED), "--limit", "2", "--hide-gold",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["gold hidden", "gold hidden"]
    assert all(r["retrieved"] == [] and r["answer"]["abstained"] for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gold_hidden"] and summary["abstention_rate"] == 1.0


EVALS = SEED.parent
MULTIHOP_CORPUS = EVALS.parent.parent / "shared" / "benchmarks" / "multihop-rag" / "corpus"


@pytest.mark.parametrize("path", sorted(EVALS.glob("*.jsonl")), ids=lambda p: p.name)
def test_every_question_set_loads_and_names_articles_of_its_corpus(path: Path):
    """A typo in an article id makes a right answer score as unsupported, silently."""
    corpus = MULTIHOP_CORPUS if path.name.startswith(("multihop", "briefings-multihop")) else None
    if corpus and not corpus.is_dir():
        pytest.skip(f"{corpus} is not beside the repo")
    articles = {p.stem for p in (corpus or SAMPLE_CORPUS).glob("*.md")}
    records = [record for _, record in jsonl_records(path)]
    named = {a for r in records for a in r.get("source_ids", []) + r.get("lookalike_ids", [])}
    assert named <= articles, sorted(named - articles)
    assert len({r["id"] for r in records}) == len(records)
    questions = load_questions(path, allow_empty=True)
    assert all(q.answers or not q.answerable for q in questions)
