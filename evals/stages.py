"""Where an answer's time goes: the model's time on a question set, stage by stage.

Every call into llama.cpp is timed and put down to the step of the answer that made it (the
answerability judge, the draft, a second draft, the verdict judge, the per-passage judge, a
follow-up's rewrite), with the tokens it read or wrote. README, "Speed".

    python evals/stages.py QUESTIONS.jsonl [--corpus DIR] [--split dev] [--limit 20]

Uses the BRIEFING_* settings (the same BRIEFING_HOME reuses an eval's index). Run it alone:
a timing taken beside another job is worthless on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import SAMPLE_CORPUS, Settings
from bot.evaluate import build_pipeline, load_questions

STEPS = {
    "holds_answer": "answerability judge",
    "one_passage_answers": "per-passage judge",
    "_attach": "verdict judge",
    "standalone_question": "follow-up rewrite",
}
"""Briefer methods that call the model, by the step they are (the citation check, _attach,
asks the judge for a yes/no verdict; its per-passage questions are put down to their own)."""


class StageClock:
    """Times the llama.cpp evaluations of one Llama, put down to the step running them."""

    def __init__(self, llama):
        self.seconds: dict[str, float] = defaultdict(float)
        self.tokens: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self.step = "other"
        evaluate = llama.eval

        def timed(tokens) -> None:
            started = time.perf_counter()
            evaluate(tokens)
            self.seconds[self.step] += time.perf_counter() - started
            self.tokens[self.step] += len(tokens)
            self.calls[self.step] += 1

        llama.eval = timed

    @contextmanager
    def during(self, step: str) -> Iterator[None]:
        """Put the model's work inside the block down to step, then back to the step before."""
        before, self.step = self.step, step
        try:
            yield
        finally:
            self.step = before

    def wrap(self, owner, name: str, step: str) -> None:
        """Put the model's work inside owner.name down to step."""
        method = getattr(owner, name)

        def within(*args, **kwargs):
            with self.during(step):
                return method(*args, **kwargs)

        setattr(owner, name, within)

    def wrap_stream(self, chain_owner, name: str, step: str) -> None:
        """The same for a chain whose stream is read a chunk at a time."""
        chain = getattr(chain_owner, name)
        clock = self

        class Timed:
            def stream(self, *args, **kwargs) -> Iterator[str]:
                with clock.during(step):
                    yield from chain.stream(*args, **kwargs)

        setattr(chain_owner, name, Timed())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path, default=SAMPLE_CORPUS)
    parser.add_argument("--split", choices=["all", "dev", "test"], default="all")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    questions = [q for q in load_questions(args.questions) if args.split in ("all", q.split)][
        : args.limit
    ]
    bot = build_pipeline("ours", args.corpus, Settings())
    clock = StageClock(bot.chat_model.client)
    for method, step in STEPS.items():
        clock.wrap(bot, method, step)
    clock.wrap_stream(bot, "answer_chain", "draft")
    clock.wrap_stream(bot, "redraft_chain", "second draft")
    totals = [bot.ask(q.question, q.history, as_of=q.asked_on).timings for q in questions]
    p50 = statistics.median(t["total_s"] for t in totals)
    print(f"{len(questions)} questions: answer p50 {p50:.2f} s, "
          f"all answers {sum(t['total_s'] for t in totals):.1f} s")  # fmt: skip
    print("| step | model time (s) | tokens read or written | model calls |")
    print("|---|---|---|---|")
    for step, seconds in sorted(clock.seconds.items(), key=lambda item: -item[1]):
        print(f"| {step} | {seconds:.1f} | {clock.tokens[step]} | {clock.calls[step]} |")


if __name__ == "__main__":
    main()
