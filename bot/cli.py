"""The `briefing` command: ingest, sync, remove, list, ask, brief, chat, eval, compare, bench.

Thin: the work is in bot.*
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import SAMPLE_CORPUS, Settings
from bot.errors import BriefingError

if TYPE_CHECKING:
    from bot.sources import Loaded

FETCH_PAGES_HELP = "for feed entries without full text, fetch and read the linked page"
AS_OF_HELP = "the day the question is asked, YYYY-MM-DD ('this week' counts back from it; today)"


def as_of_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings()
        if getattr(args, "as_of", None):
            settings.as_of = args.as_of
        return args.handler(args, settings)
    except BriefingError as err:
        print(f"briefing: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("briefing: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefing",
        description="Ask questions about news articles; every answer cites its passages.",
        epilog="Settings come from BRIEFING_* environment variables (see README). "
        "Data lives in BRIEFING_HOME (default ~/.briefing).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    inputs_help = (
        "article files (.md .txt .json .jsonl .html), RSS/Atom feeds (.xml .rss .atom), "
        "folders of them, or http(s) URLs of feeds and pages"
    )
    ingest = commands.add_parser("ingest", help="add articles, feeds, pages or URLs to the index")
    ingest.add_argument("paths", nargs="+", metavar="INPUT", help=inputs_help)
    ingest.add_argument("--fetch-pages", action="store_true", help=FETCH_PAGES_HELP)
    ingest.set_defaults(handler=cmd_ingest)

    sync = commands.add_parser(
        "sync",
        help="keep the index in step with feeds, folders and URLs",
        description="Add new articles, replace changed ones and (with --prune) remove ones gone "
        "from the source. With no SOURCE, re-syncs every source synced before.",
    )
    sync.add_argument("sources", nargs="*", metavar="SOURCE", help=inputs_help)
    sync.add_argument(
        "--prune", action="store_true", help="remove articles that vanished from their source"
    )
    sync.add_argument(
        "--watch", type=float, metavar="SECONDS", help="sync again every SECONDS until Ctrl-C"
    )
    sync.add_argument("--fetch-pages", action="store_true", help=FETCH_PAGES_HELP)
    sync.set_defaults(handler=cmd_sync)

    sources = commands.add_parser("sources", help="list synced sources and their last sync")
    sources.set_defaults(handler=cmd_sources)

    remove = commands.add_parser("remove", help="delete one article from the index")
    remove.add_argument("article_id", metavar="ID", help="the article's id (its file name stem)")
    remove.set_defaults(handler=cmd_remove)

    listing = commands.add_parser("list", help="list the indexed articles")
    listing.set_defaults(handler=cmd_list)

    ask = commands.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the answer JSON only")
    ask.add_argument("--as-of", type=as_of_date, metavar="DATE", help=AS_OF_HELP)
    ask.set_defaults(handler=cmd_ask)

    brief = commands.add_parser(
        "brief",
        help="a dated, cited digest of what the articles say about a topic",
        description="Group what the articles published in the period say about TOPIC into a "
        "handful of points, newest first, each cited and dated by its newest article. Dates "
        "may be words, counted back from the as-of day: 'Friday', 'last week', '3 days ago'.",
    )
    brief.add_argument("topic", metavar="TOPIC", help="what to brief on, e.g. Syria")
    brief.add_argument("--since", metavar="DATE", help="first publication day (e.g. Friday)")
    brief.add_argument("--until", metavar="DATE", help="last publication day")
    brief.add_argument(
        "--max-points", type=int, default=5, metavar="N", help="at most N points (5)"
    )
    brief.add_argument(
        "--new", action="store_true",
        help="only articles indexed (or changed) since your previous briefing on this topic",
    )  # fmt: skip
    brief.add_argument("--json", action="store_true", help="print the briefing JSON only")
    brief.add_argument("--as-of", type=as_of_date, metavar="DATE", help=AS_OF_HELP)
    brief.set_defaults(handler=cmd_brief)

    chat = commands.add_parser("chat", help="serve the chat page in the browser")
    chat.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    chat.add_argument("--port", type=int, default=7860, help="port to listen on (7860)")
    chat.add_argument(
        "--insecure", action="store_true",
        help="serve beyond loopback without BRIEFING_AUTH logins (anyone reaching it can use it)",
    )  # fmt: skip
    chat.add_argument("--as-of", type=as_of_date, metavar="DATE", help=AS_OF_HELP)
    chat.set_defaults(handler=cmd_chat)

    evaluate = commands.add_parser("eval", help="run a question set and write a scored report")
    evaluate.add_argument("questions", type=Path, metavar="QUESTIONS.jsonl")
    evaluate.add_argument(
        "--corpus", type=Path, default=SAMPLE_CORPUS, help="article folder (the sample corpus)"
    )
    evaluate.add_argument("--out", type=Path, default=Path("evals/out"), help="output folder")
    evaluate.add_argument(
        "--pipeline", choices=["ours", "stock"], default="ours", help="ours, or the stock recipe"
    )
    evaluate.add_argument("--limit", type=int, help="only the first N questions")
    evaluate.add_argument(
        "--split", choices=["all", "dev", "test"], default="all",
        help="half of the set by a fixed hash of each id: tune on dev, report test (all)",
    )  # fmt: skip
    evaluate.add_argument(
        "--as-of", type=as_of_date, metavar="DATE",
        help=AS_OF_HELP + "; a question's own asked_on wins",
    )  # fmt: skip
    evaluate.add_argument(
        "--retrieval-only", action="store_true", help="score retrieval only (no LLM, fast)"
    )
    evaluate.add_argument(
        "--hide-gold", action="store_true",
        help="ask each answerable question with the articles that answer it hidden, and score "
        "abstaining as right: does the bot answer from look-alike passages?",
    )  # fmt: skip
    evaluate.add_argument(
        "--rescore", type=Path, metavar="RESULTS.jsonl",
        help="score a past run's saved answers with today's metrics instead of asking anew",
    )  # fmt: skip
    evaluate.add_argument("--baseline", type=Path, help="summary.json to gate against")
    evaluate.add_argument(
        "--margin", type=float, default=0.1, help="allowed drop below the baseline (0.1)"
    )
    evaluate.set_defaults(handler=cmd_eval)

    compare_runs = commands.add_parser(
        "compare",
        help="two eval runs question by question: gained, lost, and whether it is chance",
        description="Compare two runs of one question set (each an eval --out folder's "
        "results.jsonl): the questions right in one and wrong in the other, and the exact sign "
        "test on them. A run is right on an answerable question it answered right and on an "
        "unanswerable one it abstained on.",
    )
    compare_runs.add_argument("before", type=Path, metavar="BEFORE/results.jsonl")
    compare_runs.add_argument("after", type=Path, metavar="AFTER/results.jsonl")
    compare_runs.set_defaults(handler=cmd_compare)

    bench = commands.add_parser(
        "bench",
        help="measure ingest, retrieval, answers and the page against the stock recipe",
        description="Time ingest (against bare encoding), retrieval at growing index sizes, "
        "answers (ours, the stock recipe, raw llama.cpp) and the chat page, one after another; "
        "write bench.json, bench.md and plots. Run it on an otherwise idle machine.",
    )
    bench.add_argument("--out", type=Path, default=Path("bench-out"), help="output folder")
    bench.add_argument(
        "--quick", action="store_true", help="smaller corpus and fewer questions (minutes)"
    )
    bench.set_defaults(handler=cmd_bench)
    return parser


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ingest import ingest_inputs

    result = ingest_inputs(args.paths, settings, fetch_pages=args.fetch_pages)
    print(result.report.summary())
    return report_problems(result.loaded)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sync import SyncOutcome, sync, watch

    def show(outcomes: list[SyncOutcome]) -> int:
        for outcome in outcomes:
            print(outcome.summary(), flush=True)
        return report_problems([outcome.loaded for outcome in outcomes])

    if args.watch is None:
        return show(sync(args.sources, settings, prune=args.prune, fetch_pages=args.fetch_pages))
    if args.watch <= 0:
        raise BriefingError(f"--watch {args.watch:g}: give a number of seconds above 0")
    print(f"Syncing every {args.watch:g} s; Ctrl-C stops.", flush=True)
    try:
        watch(args.sources, settings, args.watch, show, args.prune, args.fetch_pages)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C: stop without finishing the article
    print("stopped", flush=True)
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sync import SyncRecord

    record = SyncRecord.load(settings)
    for key, state in record.sources.items():
        print(f"{state.last_sync}  {len(state.articles):>5} articles  {key}")
    print(f"{len(record.sources)} sources")
    return 0


def report_problems(loaded: list[Loaded]) -> int:
    """Print each problem on its own line; exit status 1 when some input was not fully read."""
    for item in loaded:
        for line in item.warnings:
            print(f"briefing: warning: {line}", file=sys.stderr)
        for line in item.failures:
            print(f"briefing: error: {line}", file=sys.stderr)
    failed = sum(1 for item in loaded if item.failures)
    if failed and len(loaded) > 1:
        print(f"briefing: {failed} of {len(loaded)} inputs had errors", file=sys.stderr)
    return 1 if failed else 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import Store

    removed = Store(settings).remove(args.article_id)
    if not removed:
        raise BriefingError(f"{args.article_id}: no such article in the index")
    print(f"removed {args.article_id} ({removed} passages)")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import Store

    rows = Store(settings).articles()
    for row in rows:
        date = row["published"] or "----------"
        print(f"{date}  {row['article_id']}  {row['title']} ({row['source'] or 'unknown source'})")
    print(f"{len(rows)} articles")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answer import Briefer
    from bot.limits import clean_question

    question = clean_question(args.question, settings)  # before the model loads
    answer = Briefer(settings).as_runnable().invoke({"question": question})
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    print(answer["answer"])
    for c in answer["citations"]:
        meta = ", ".join(x for x in (c["source"], c["published"]) if x)
        print(f"\n[{c['n']}] {c['title']}" + (f" ({meta})" if meta else ""))
        print(f'    "{c["passage"]}"')
    return 0


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answer import Briefer
    from bot.briefing import Briefing, BriefingWriter, BriefRequest, clean_topic
    from bot.periods import Period

    as_of = settings.as_of or dt.date.today()
    clean_topic(args.topic, settings)  # before the model loads
    Period.of(args.since, args.until, as_of)
    request = BriefRequest(args.topic, args.since, args.until, args.max_points, args.new, as_of)
    writer = BriefingWriter(Briefer(settings))
    for event in writer.stream(request):
        if isinstance(event, Briefing):
            briefing = event
        elif not args.json:
            print(f"- {event.date or 'undated'}: {event.text}", flush=True)
    writer.remember(args.topic)
    if args.json:
        print(json.dumps(briefing.to_dict(), ensure_ascii=False, indent=2))
    elif briefing.empty:
        print(briefing.message)
    else:
        print_sources(briefing)
    return 0


def print_sources(briefing) -> None:
    """The numbered sources under the points, and how they are ordered."""
    seen = {c.n: c for point in briefing.points for c in point.citations}
    print(f"\n(points newest first, dated by their newest article; as of {briefing.as_of})")
    for n in sorted(seen):
        c = seen[n]
        meta = ", ".join(x for x in (c.source, c.published) if x)
        print(f"\n[{n}] {c.title}" + (f" ({meta})" if meta else ""))
        print(f'    "{c.passage}"')


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.access import check_bind, parse_logins
    from bot.ingest import ingest_paths
    from bot.store import Store
    from bot.ui import serve

    check_bind(args.host, parse_logins(settings.auth), args.insecure)  # before any work
    store = Store(settings)
    if store.count() == 0:
        print(f"The index is empty: ingesting the sample corpus from {SAMPLE_CORPUS}")
        print(ingest_paths([SAMPLE_CORPUS], settings, store=store).summary())
    serve(settings, host=args.host, port=args.port, store=store, insecure=args.insecure)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluate import gate_failures, rescore, run_eval

    if args.rescore:
        print(json.dumps(rescore(args.rescore, args.questions, args.split), indent=2))
        return 0
    summary = run_eval(
        args.questions, settings, args.corpus, args.out, args.pipeline, args.limit,
        retrieval_only=args.retrieval_only, split=args.split, hide_gold=args.hide_gold,
    )  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.retrieval_only:
        return 0
    written = ["results.jsonl", "summary.json"] + (["report.md"] if summary["questions"] else [])
    written += ["briefings.jsonl"] if "briefings" in summary else []
    print(f"wrote {args.out}/{', '.join(written)}")
    if args.baseline:
        failures = gate_failures(summary, json.loads(args.baseline.read_text()), args.margin)
        for failure in failures:
            print(f"briefing: gate failed: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from bot.compare import compare

    print(compare(args.before, args.after).report())
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench import Plan, run_bench

    run_bench(args.out, settings, Plan.of(args.quick))
    print((args.out / "bench.md").read_text())
    print(f"wrote {args.out}/bench.json, bench.md, answers.png, retrieval.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
