"""The `briefing` command: ingest, remove, list, ask, chat, eval. Thin: the work lives in bot.*"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import SAMPLE_CORPUS, Settings
from bot.errors import BriefingError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args, Settings())
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

    ingest = commands.add_parser("ingest", help="add article files or folders to the index")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders")
    ingest.set_defaults(handler=cmd_ingest)

    remove = commands.add_parser("remove", help="delete one article from the index")
    remove.add_argument("article_id", metavar="ID", help="the article's id (its file name stem)")
    remove.set_defaults(handler=cmd_remove)

    listing = commands.add_parser("list", help="list the indexed articles")
    listing.set_defaults(handler=cmd_list)

    ask = commands.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the answer JSON only")
    ask.set_defaults(handler=cmd_ask)

    chat = commands.add_parser("chat", help="serve the chat page in the browser")
    chat.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    chat.add_argument("--port", type=int, default=7860, help="port to listen on (7860)")
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
        "--retrieval-only", action="store_true", help="score retrieval only (no LLM, fast)"
    )
    evaluate.add_argument("--baseline", type=Path, help="summary.json to gate against")
    evaluate.add_argument(
        "--margin", type=float, default=0.1, help="allowed drop below the baseline (0.1)"
    )
    evaluate.set_defaults(handler=cmd_eval)
    return parser


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ingest import ingest_paths

    report = ingest_paths(args.paths, settings)
    print(report.summary())
    return 0


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
    from bot.errors import QuestionError

    if not args.question.strip():
        raise QuestionError("the question is empty")
    answer = Briefer(settings).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.answer)
    for c in answer.citations:
        meta = ", ".join(x for x in (c.source, c.published) if x)
        print(f"\n[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
        print(f'    "{c.passage}"')
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ingest import ingest_paths
    from bot.store import Store
    from bot.ui import serve

    store = Store(settings)
    if store.count() == 0:
        print(f"The index is empty: ingesting the sample corpus from {SAMPLE_CORPUS}")
        print(ingest_paths([SAMPLE_CORPUS], settings, store=store).summary())
    serve(settings, host=args.host, port=args.port, store=store)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluate import gate_failures, run_eval

    summary = run_eval(
        args.questions, settings, args.corpus, args.out, args.pipeline, args.limit,
        retrieval_only=args.retrieval_only,
    )  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.retrieval_only:
        return 0
    print(f"wrote {args.out}/results.jsonl, summary.json, report.md")
    if args.baseline:
        failures = gate_failures(summary, json.loads(args.baseline.read_text()), args.margin)
        for failure in failures:
            print(f"briefing: gate failed: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
