"""What a question may be, and how much prompt the model can take: checked before the model.

A question is user input: it is cleaned of control characters and refused when empty or longer
than BRIEFING_MAX_QUESTION_CHARS, so a pasted book never reaches llama.cpp. Passages are
trimmed from the end until the prompt fits the model's context, so a prompt never overflows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from bot.config import Settings
from bot.errors import QuestionError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
"""C0/C1 control characters (NUL included) and Unicode line breaks; tabs and newlines stay."""
PROMPT_MARGIN_TOKENS = 96
"""The chat template's own tokens, and slack for a tokenizer that counts a little differently."""
T = TypeVar("T")


def clean_question(question: str | None, settings: Settings, what: str = "question") -> str:
    """The question (or a briefing's topic: `what`) without control characters and outer
    spaces; QuestionError when it is empty or too long (one line that says what to do)."""
    text = _CONTROL.sub(" ", question or "").strip()
    if not text:
        raise QuestionError(f"the {what} is empty")
    limit = settings.max_question_chars
    if len(text) > limit:
        raise QuestionError(
            f"the {what} is {len(text):,} characters long; the limit is {limit:,} "
            "(BRIEFING_MAX_QUESTION_CHARS): ask something shorter"
        )
    return text


def token_counter(chat_model: object) -> Callable[[str], int]:
    """The model's own tokenizer when it runs in-process, else a cautious estimate."""
    llama = getattr(chat_model, "client", None)
    tokenize = getattr(llama, "tokenize", None)
    if callable(tokenize):
        return lambda text: len(tokenize(text.encode("utf-8", "replace"), add_bos=False))
    return lambda text: len(text) // 2 + 1  # English runs ~4 characters a token


def prompt_budget(settings: Settings) -> int:
    """Prompt tokens that leave room for the answer in the model's context."""
    return settings.llm_context - settings.max_answer_tokens - PROMPT_MARGIN_TOKENS


def fit(
    items: list[T], render: Callable[[list[T]], str], count: Callable[[str], int], budget: int
) -> list[T]:
    """The longest leading run of items whose rendered prompt fits the budget (may be none)."""
    kept = list(items)
    while kept and count(render(kept)) > budget:
        kept.pop()
    return kept
