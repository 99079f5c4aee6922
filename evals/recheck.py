"""Replay a past eval run's drafts through today's answer checks, optionally without some rules.

Each check in bot/citations.py must earn its keep on two sets (the seed set and MultiHop-RAG's
dev half). Asking the model again for every variant would take an hour a set; the drafts do not
change when only the checks do. So this re-retrieves each question's passages (deterministic),
feeds the saved draft and the saved verdict probability through `Briefer._attach`, and scores
the result with the eval's own metrics.

    python evals/recheck.py RUN/results.jsonl QUESTIONS.jsonl [--corpus DIR] [--split dev]
        [--without foreign_names --without bare_name ...] [--out REPLAYED.jsonl] [--judge]

A draft written again from the first article alone (second_look) is checked against that
article's passages, as it was.

A run saves the judge's verdict on yes/no questions but not the per-passage verdicts that let
a name the question gave stand (citations.names_known); with --judge the default model is
loaded and asked them again (one forward pass a passage, only for such sentences).

Uses the BRIEFING_* settings of the run (the same BRIEFING_HOME reuses its index).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

import bot.answer
from bot import citations
from bot.answer import (
    ABSTAIN_ANSWER,
    Answer,
    Briefer,
    by_article,
    window_first,
    without_span,
)
from bot.config import SAMPLE_CORPUS, Settings
from bot.dates import relative_window
from bot.evaluate import build_pipeline, load_questions, load_results, score, summarise
from bot.judge import Judge, judge_for
from bot.llm import load_chat_model
from bot.prompts import CONFIRM_LEAD

RULES = {
    "foreign_names": (citations, "foreign_names", lambda *a, **k: set()),
    "denied_flip": (citations, "_reason_says_no", lambda *a, **k: False),
    "denies": (citations, "denies", lambda *a, **k: False),
    "verdict_judge": (citations, "CONTRADICTED", 1.01),
    "restated": (citations, "says_more_than_asked", lambda *a, **k: True),
    "opener_recognised": (citations, "_opens_with_a_name", lambda *a, **k: False),
    "same_stem": (citations, "_same_stem", lambda *a, **k: False),
    "spelled_numbers": (citations, "spelled_in", lambda *a, **k: set()),
    "outlets": (bot.answer, "outlets_unnamed", lambda *a, **k: []),
}
"""Rule name -> (module, its attribute, the value that switches the rule off)."""


class SavedJudge:
    """Answers with the verdict probability the run saved (0.5, no opinion, when none was), and
    a doubted answer's confirmation (Briefer.confirm) with the run's p_true (0.5 when none).

    A run saves no per-passage verdicts, so without --judge the questions asked of each
    passage alone get the same answer: outside yes/no questions 0.5, at which the default bar
    lets every name the question gave stand (citations.names_known) where the real judge may
    not: such replays overstate the name check."""

    def __init__(self) -> None:
        self.value: float | None = None
        self.p_true: float | None = None

    def p_yes(self, messages) -> float:
        value = self.p_true if CONFIRM_LEAD in messages[-1][1] else self.value
        return 0.5 if value is None else value


@contextlib.contextmanager
def rules_off(names: list[str]) -> Iterator[None]:
    """Switch the named rules off, and back on afterwards."""
    saved = [
        (module, attribute, getattr(module, attribute))
        for module, attribute, _ in (RULES[n] for n in names)
    ]
    try:
        for n in names:
            setattr(*RULES[n])
        yield
    finally:
        for module, attribute, value in saved:
            setattr(module, attribute, value)


def recheck(
    results: Path,
    questions_path: Path,
    corpus: Path,
    split: str,
    without: list[str],
    out: Path | None = None,
    judge: Judge | None = None,
) -> dict:
    """The replayed run's summary; with out, its rows are written there as results.jsonl is
    (for `briefing compare`). judge answers the per-passage questions (SavedJudge otherwise)."""
    with rules_off(without):
        rows = _recheck(results, questions_path, corpus, split, judge)
    if out:
        out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return summarise(rows)


def _recheck(
    results: Path, questions_path: Path, corpus: Path, split: str, per_passage: Judge | None
) -> list[dict]:
    questions = {q.id: q for q in load_questions(questions_path) if split in ("all", q.split)}
    saved = load_results(results)
    settings = Settings()
    retriever = build_pipeline("ours", corpus, settings, load_model=False)
    judge = SavedJudge()
    briefer = Briefer(settings, retriever.store, FakeListChatModel(responses=[""]), judge)
    rows = []
    for row in saved:
        question = questions.get(row["id"])
        if question is None:
            continue
        answer_dict = row["answer"]
        if row.get("draft") is not None:
            asked = row.get("standalone_question") or question.question
            as_of = question.asked_on or dt.date.today()
            passages = by_article(briefer.relevant_passages(asked, as_of))
            judge.value, judge.p_true = row.get("verdict_p_yes"), row.get("p_true")
            timings = answer_dict["timings"]
            answer = Answer(question.question, ABSTAIN_ANSWER, True, [], timings, "")
            answer.draft, answer.p_answerable = row["draft"], row.get("p_answerable")
            window = relative_window(asked, as_of)
            if row.get("second_look"):  # written again from the first article alone
                first = window_first(passages, window)[0].article_id
                passages = [p for p in passages if p.article_id == first]
            on_topic = briefer.judged_alone(without_span(asked, window), passages, per_passage)
            briefer.check_draft(answer, passages, asked, window, context="", on_topic=on_topic)
            answer_dict = answer.to_dict()
        rows.append(
            row | {"answer": answer_dict, "score": score(question, answer_dict, row["retrieved"])}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path, default=SAMPLE_CORPUS)
    parser.add_argument("--split", default="all", choices=["all", "dev", "test"])
    parser.add_argument("--without", action="append", default=[], choices=sorted(RULES))
    parser.add_argument("--out", type=Path, help="write the replayed rows here (JSONL)")
    parser.add_argument(
        "--judge", action="store_true", help="ask the default model the per-passage questions"
    )
    args = parser.parse_args()
    judge = judge_for(load_chat_model(Settings())) if args.judge else None
    summary = recheck(
        args.results, args.questions, args.corpus, args.split, args.without, args.out, judge
    )
    keys = ("accuracy", "abstention_rate", "false_abstention_rate", "citation_precision")
    print(json.dumps({"without": args.without} | {k: summary.get(k) for k in keys}))


if __name__ == "__main__":
    main()
