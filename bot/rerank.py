"""Rerank retrieved passages by whether they help answer the question, judged by the model.

The bi-encoder's cosine says a passage is about the same things as the question; it cannot tell
another award show or another athlete's retirement from the one asked about. The model reads
question and passage together (a cross-encoder in effect) and its probability of "Yes" becomes
each passage's score: the relevance signal for ordering, for trimming and for abstaining.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.dates import relative_window
from bot.judge import Judge
from bot.prompts import judge_messages, relevance_prompt
from bot.store import Passage


def relevance_messages(question: str, passage: Passage, as_of: dt.date | None = None):
    """The judge's question for one candidate. The day asked is given only when the question
    counts from it ("this week")."""
    dated = as_of is not None and relative_window(question, as_of) is not None
    asked = f" (asked on {as_of:%A, %d %B %Y})" if dated else ""
    meta = ", ".join(x for x in (passage.title, passage.source, passage.published) if x)
    return judge_messages(relevance_prompt(question, meta, passage.text, asked))


def rerank(
    judge: Judge, question: str, passages: list[Passage], as_of: dt.date | None = None
) -> list[Passage]:
    """The passages, most useful first, each scored by the judge's probability of Yes."""
    scored = [
        dataclasses.replace(p, score=round(judge.p_yes(relevance_messages(question, p, as_of)), 4))
        for p in passages
    ]
    return sorted(scored, key=lambda p: -p.score)
