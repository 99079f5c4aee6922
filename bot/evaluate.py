"""Run a question set, score every answer, write results.jsonl, summary.json and report.md.

Metrics (also in the README):
- accuracy: on answerable questions, right when every `must_include` term appears in the
  normalised answer, or (without must_include) any accepted answer does. When the accepted answer
  is yes or no, the answer's first "yes" or "no" decides. An abstention is wrong.
- abstention_rate: share of unanswerable questions the bot abstained on (higher is better).
- false_abstention_rate: share of answerable questions it abstained on (lower is better).
- accuracy is scored as a reader would: a yes/no answer counts only when one of its citations
  supports it (a lone "No [1]" citing an unrelated passage is not an answer), and an accepted
  answer that the question itself contains counts only when a citation supports it (restating
  the question is no credit). A citation supports the answer when its passage comes from one of
  the question's gold articles (`source_ids`) and, unless the accepted answer is yes/no, holds a
  content word of an accepted answer or must_include term.
- citation_precision: per answered answerable question, the share of its cited articles that
  are gold articles, averaged over those questions (the same for both pipelines).
- source_recall: share of a question's `source_ids` that its citations cover (answerable only).
- recall_at_k: share of a question's `source_ids` found among all retrieved passages (the k the
  model saw), and mrr: mean of 1/rank of the first retrieved passage from a gold article.
- latency: p50 and p95 of first_token_s and total_s over all questions.
With hide_gold (`--hide-gold`), each answerable question with `source_ids` is asked with those
articles hidden from retrieval and scored as unanswerable (kind "gold hidden"): what is left are
look-alike passages, and abstention_rate is how often the bot then says "the articles don't say"
rather than answering from them. Another article may still hold the answer, so the rate is a
floor of the bot's honesty under look-alikes: compare pipelines and settings on it, not with 1.
Briefing items (`"kind": "briefing"`) are run as briefings and scored by bot.briefing_eval
(coverage, citation precision, length), under "briefings" in summary.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from bot.answer import Briefer
from bot.config import SAMPLE_CORPUS, Settings
from bot.dates import parse_day
from bot.errors import BriefingError
from bot.ingest import ingest_paths
from bot.llm import load_chat_model, model_name
from bot.retrieval import Retriever
from bot.store import Store
from bot.words import content_words

GATED_METRICS = ("accuracy", "abstention_rate")


VERDICTS = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
"""A verdict as written -> the yes or no it means."""


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]
    source_ids: list[str]
    answerable: bool
    must_include: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    kind: str = ""
    asked_on: dt.date | None = None

    @property
    def split(self) -> str:
        return split_of(self.id)

    @property
    def yes_no(self) -> str | None:
        """The verdict the expected answer means ("True" means yes to a reader), else None."""
        return VERDICTS.get(normalise(self.answers[0])) if self.answers else None

    @property
    def category(self) -> str:
        """The question's kind for the report: its own `kind`, else one derived from it."""
        if self.kind:
            return self.kind
        if not self.answerable:
            return "unanswerable"
        if self.history:
            return "follow-up"
        return "yes/no" if self.yes_no else "fact"


def split_of(item_id: str) -> str:
    """dev or test, by a fixed rule on the id: tune on dev, report test."""
    digest = int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16)
    return "dev" if digest % 2 == 0 else "test"


def jsonl_records(path: Path, kind: str = "question") -> list[tuple[str, dict]]:
    """Each non-blank line of a JSON-lines file (a question set, a run's results) as (where:
    "path:line", its JSON object); an unreadable file or a line that is not JSON raises an
    error naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BriefingError(f"{path}: cannot read ({err})") from err
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append((f"{path}:{number}", json.loads(line)))
        except json.JSONDecodeError as err:
            raise BriefingError(f"{path}:{number}: not a valid {kind} ({err})") from err
    return records


def load_questions(path: Path, allow_empty: bool = False) -> list[Question]:
    """Read a question set (GUIDE format); a bad line raises an error naming it. Briefing
    items are skipped (bot.briefing_eval reads them)."""
    questions = []
    for where, data in jsonl_records(path):
        if isinstance(data, dict) and data.get("kind") == "briefing":
            continue
        try:  # a line that is no object fails at data["id"]
            questions.append(
                Question(
                    id=str(data["id"]),
                    question=data["question"],
                    answers=list(data.get("answers") or []),
                    source_ids=list(data.get("source_ids") or []),
                    answerable=bool(data.get("answerable", True)),
                    must_include=list(data.get("must_include") or []),
                    history=list(data.get("history") or []),
                    kind=str(data.get("kind") or ""),
                    asked_on=_day(data.get("asked_on"), where),
                )
            )
        except (KeyError, TypeError) as err:
            raise BriefingError(f"{where}: not a valid question ({err})") from err
    if not questions and not allow_empty:
        raise BriefingError(f"{path}: no questions")
    return questions


def _day(value: str | None, where: str) -> dt.date | None:
    if not value:
        return None
    day = parse_day(str(value))
    if day is None:
        raise BriefingError(f"{where}: asked_on {value!r} is not a date (YYYY-MM-DD)")
    return day


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces, ordinals as their number: so '24-year'
    matches '24 year', and 'November 16th' 'November 16' (a reader takes either)."""
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text.lower())
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def is_correct(question: Question, answer: dict) -> bool:
    if not question.answerable or answer["abstained"]:
        return False
    said = normalise(answer["answer"])
    supported = any(citation_supports(question, c) for c in answer["citations"])
    if question.yes_no:
        first = re.search(rf"\b({'|'.join(VERDICTS)})\b", said)
        return bool(first) and VERDICTS[first.group(1)] == question.yes_no and supported
    expected = question.must_include or question.answers
    found = [t for t in expected if f" {normalise(t)} " in f" {said} "]
    if question.must_include and len(found) < len(expected) or not found:
        return False
    asked = f" {normalise(question.question)} "
    restated = all(f" {normalise(t)} " in asked for t in found)
    return supported or not restated


def citation_supports(question: Question, citation: dict) -> bool:
    if not question.answerable or citation["article_id"] not in question.source_ids:
        return False
    if question.yes_no:
        return True
    expected = content_words(" ".join(question.answers + question.must_include))
    return bool(expected & content_words(citation["passage"]))


def score(question: Question, answer: dict, retrieved: list[str]) -> dict:
    """Per-question verdicts; retrieved is the retrieved passages' article ids, best first."""
    cited = {c["article_id"] for c in answer["citations"]}
    gold = set(question.source_ids)
    precision = len(cited & gold) / len(cited) if cited and question.answerable else None
    first_gold = next((rank for rank, a in enumerate(retrieved, 1) if a in gold), None)
    return {
        "correct": is_correct(question, answer),
        "supporting_citations": sum(citation_supports(question, c) for c in answer["citations"]),
        "citation_precision": precision,
        "source_recall": len(cited & gold) / len(gold) if gold else None,
        "recall_at_k": len(set(retrieved) & gold) / len(gold) if gold else None,
        "reciprocal_rank": 1 / first_gold if first_gold else 0.0,
    }


def is_right(row: dict) -> bool:
    """A reader's verdict on one result row: an answerable question answered right, an
    unanswerable one abstained on."""
    if row["expected"]["answerable"]:
        return bool(row["score"]["correct"])
    return bool(row["answer"]["abstained"])


def summarise(rows: list[dict]) -> dict:
    """The metrics of the module docstring, from scored result rows."""
    answerable = [r for r in rows if r["expected"]["answerable"]]
    unanswerable = [r for r in rows if not r["expected"]["answerable"]]
    answered = [r for r in answerable if not r["answer"]["abstained"]]
    with_gold = [r for r in answerable if r["expected"]["source_ids"]]
    first = [r["answer"]["timings"]["first_token_s"] for r in rows]
    total = [r["answer"]["timings"]["total_s"] for r in rows]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(is_right(r))
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": _mean([r["score"]["correct"] for r in answerable]),
        "abstention_rate": _mean([r["answer"]["abstained"] for r in unanswerable]),
        "false_abstention_rate": _mean([r["answer"]["abstained"] for r in answerable]),
        "citation_precision": _mean(
            [p for r in answered if (p := r["score"].get("citation_precision")) is not None]
        ),
        "source_recall": _mean([r["score"]["source_recall"] for r in with_gold]),
        "recall_at_k": _mean([r["score"]["recall_at_k"] for r in with_gold]),
        "mrr": _mean([r["score"]["reciprocal_rank"] for r in with_gold]),
        "first_token_p50_s": _percentile(first, 50),
        "first_token_p95_s": _percentile(first, 95),
        "total_p50_s": _percentile(total, 50),
        "total_p95_s": _percentile(total, 95),
        "right_by_kind": {kind: _mean(oks) for kind, oks in sorted(by_kind.items())},
    }


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 3)


def retrieval_summary(questions: list[Question], bot, hide_gold: bool = False) -> dict:
    """recall@k and MRR alone, without generating: for comparing retrieval settings quickly.
    With BRIEFING_RERANK the model is loaded and judges the candidates (no answer is drafted)."""
    retrieve = bot.relevant_passages if isinstance(bot, Briefer) else bot.retrieve
    scores = []
    for question in tqdm(questions, desc="Retrieving", unit="question"):
        if not question.source_ids:
            continue
        if hide_gold:
            bot.store.hidden = frozenset(question.source_ids)
        retrieved = [p.article_id for p in retrieve(question.question, as_of=question.asked_on)]
        placeholder = {"abstained": True, "answer": "", "citations": []}
        scores.append(score(question, placeholder, retrieved))
    return {
        "questions_with_sources": len(scores),
        "recall_at_k": _mean([s["recall_at_k"] for s in scores]),
        "mrr": _mean([s["reciprocal_rank"] for s in scores]),
    }


def gold_hidden(questions: list[Question]) -> list[Question]:
    """The answerable questions that name their gold articles, each to be asked with those
    articles hidden and so expected to be abstained on."""
    return [
        dataclasses.replace(q, answers=[], must_include=[], answerable=False, kind="gold hidden")
        for q in questions
        if q.answerable and q.source_ids
    ]


def eval_collection(corpus: Path, pipeline: str, settings: Settings) -> str:
    """A collection per corpus folder, pipeline and passage size, so re-runs reuse the index."""
    key = f"{corpus.resolve()}|{pipeline}|{settings.passage_chars}"
    return f"eval-{pipeline}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def stock_model_settings(settings: Settings) -> Settings:
    """The stock recipe runs the model as LangChain's ChatLlamaCpp does, a token at a time:
    prompt lookup (settings.lookup_tokens) is ours."""
    return settings.model_copy(update={"lookup_tokens": 0})


def build_pipeline(pipeline: str, corpus: Path, settings: Settings, load_model: bool = True):
    """Index the corpus (unchanged articles are skipped); return an object with ask/retrieve."""
    from bot.stock import StockPipeline, stock_split

    collection = eval_collection(corpus, pipeline, settings)
    splitter = stock_split if pipeline == "stock" else None
    store = Store(settings, collection=collection, splitter=splitter)
    print(ingest_paths([corpus], settings, store=store).summary())
    model_settings = stock_model_settings(settings) if pipeline == "stock" else settings
    chat_model = load_chat_model(model_settings) if load_model else None
    if pipeline == "stock":
        return StockPipeline(settings, store, chat_model, model_name(settings))
    if not chat_model:
        return Retriever(store, settings)
    return Briefer(settings, store=store, chat_model=chat_model)


def run_eval(
    questions_path: Path,
    settings: Settings,
    corpus: Path = SAMPLE_CORPUS,
    out: Path = Path("evals/out"),
    pipeline: str = "ours",
    limit: int | None = None,
    retrieval_only: bool = False,
    split: str = "all",
    hide_gold: bool = False,
) -> dict:
    """Answer every question, score it, write the three outputs; returns the summary.

    With retrieval_only, no model is loaded and only recall@k and MRR are returned. With
    hide_gold, answerable questions are asked with their gold articles hidden (module docstring).
    """
    from bot.briefing_eval import load_briefing_items

    questions = [q for q in load_questions(questions_path, allow_empty=True)]
    questions = [q for q in questions if split in ("all", q.split)]
    questions = (gold_hidden(questions) if hide_gold else questions)[:limit]
    items = [i for i in load_briefing_items(questions_path) if split in ("all", split_of(i.id))]
    # The stock recipe writes no briefings; a briefing has no gold articles to hide.
    items = items[:limit] if pipeline == "ours" and not hide_gold else []
    if not questions and not items:
        raise BriefingError(f"{questions_path}: no questions")
    load_model = not retrieval_only or (settings.rerank and pipeline == "ours")
    bot = build_pipeline(pipeline, corpus, settings, load_model=load_model)
    if retrieval_only:
        return retrieval_summary(questions, bot, hide_gold) | {"pipeline": pipeline}
    rows = []
    for question in tqdm(questions, desc=f"Evaluating ({pipeline})", unit="question"):
        if hide_gold:
            bot.store.hidden = frozenset(question.source_ids)
        data = answer_json(bot, question)
        details = data.pop("details")
        retrieved = details["retrieved"]
        rows.append(
            {
                "id": question.id,
                "kind": question.category,
                "expected": {
                    "answers": question.answers,
                    "must_include": question.must_include,
                    "source_ids": question.source_ids,
                    "answerable": question.answerable,
                },
                "answer": data,
                "standalone_question": details["standalone_question"],
                "draft": details["draft"],
                "verdict_p_yes": details["verdict_p_yes"],
                "p_answerable": details.get("p_answerable"),
                "p_true": details.get("p_true"),
                "second_look": details.get("second_look", False),
                "retrieved": retrieved,
                "judged": details["judged"],
                "score": score(question, data, retrieved),
            }
        )
    summary = summarise(rows) | {
        "pipeline": pipeline,
        "questions_file": str(questions_path),
        "corpus": str(corpus),
        "model": model_name(settings),
        "split": split,
    }
    if hide_gold:
        summary["gold_hidden"] = True
    if items:
        summary["briefings"] = briefing_summary(items, bot, out)
    write_outputs(out, rows, summary)
    return summary


def briefing_summary(items: list, bot: Briefer, out: Path) -> dict:
    """Run the briefing items with the same loaded model, write briefings.jsonl."""
    from bot.briefing import BriefingWriter
    from bot.briefing_eval import run_briefings, summarise_briefings, write_briefing_rows

    rows = run_briefings(items, BriefingWriter(bot))
    write_briefing_rows(out, rows)
    return summarise_briefings(rows)


def answer_json(bot, question: Question) -> dict:
    """The answer JSON with its details: ours through the chain's Runnable, as users call it;
    the stock recipe through its ask()."""
    if isinstance(bot, Briefer):
        inputs = {"question": question.question, "history": question.history}
        inputs |= {"as_of": question.asked_on, "details": True}
        return bot.as_runnable().invoke(inputs)
    answer = bot.ask(question.question, question.history, as_of=question.asked_on)
    return answer.to_dict() | {"details": answer.details()}


def rescore(results: Path, questions_path: Path, split: str = "all") -> dict:
    """Score the answers a past run saved (its results.jsonl) with today's metrics, on one
    split: runs made before a metric changed stay comparable without asking the model again."""
    questions = {q.id: q for q in load_questions(questions_path) if split in ("all", q.split)}
    rows = []
    for row in load_results(results):
        if (question := questions.get(row["id"])) is not None:
            rows.append(row | {"score": score(question, row["answer"], row["retrieved"])})
    return summarise(rows) | {"results": str(results), "split": split}


RESULT_FIELDS = ("id", "expected", "answer")
"""What every row of results.jsonl holds (see run_eval); its score can be computed anew."""


def load_results(path: Path) -> list[dict]:
    """The rows of a past run's results.jsonl; an unreadable file, or a line that is not a
    result row, raises an error naming it."""
    rows = []
    for where, row in jsonl_records(path, kind="eval result"):
        if not isinstance(row, dict) or any(key not in row for key in RESULT_FIELDS):
            raise BriefingError(f"{where}: not an eval result (see bot/evaluate.py)")
        rows.append(row)
    return rows


def write_outputs(out: Path, rows: list[dict], summary: dict) -> None:
    from bot.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if rows:  # a set of briefing items only has no question report
        write_report(out, rows, summary)


def gate_failures(summary: dict, baseline: dict, margin: float) -> list[str]:
    """Each gated metric that fell more than `margin` below the baseline, as a sentence."""
    failures = []
    for metric in GATED_METRICS:
        floor = (baseline.get(metric) or 0.0) - margin
        value = summary.get(metric)
        if value is not None and value < floor:
            failures.append(f"{metric} {value:.3f} is below {floor:.3f} (baseline - {margin})")
    return failures
