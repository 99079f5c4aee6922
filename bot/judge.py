"""The model as a judge: the probability it gives "Yes" to a yes/no question about passages.

No cross-encoder reranker or NLI model ships inside a PyPI package (GUIDE.md), so relevance and
support are judged by the chat model itself, reading one token's probability instead of
generating text. llama.cpp keeps the tokens it has already read: prompts that share a beginning
(the same question, or the answer prompt's passages) pay only for what differs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

Messages = Sequence[tuple[str, str]]
"""(role, text) pairs: "system", "user"."""


class Judge(Protocol):
    def p_yes(self, messages: Messages) -> float:
        """The probability that the reply to the messages begins with Yes rather than No."""
        ...


class LlamaJudge:
    """Reads the next-token probabilities of a llama-cpp-python model (one forward pass)."""

    def __init__(self, llama, lock: threading.Lock | None = None):
        self.llama = llama
        self.lock = lock or threading.Lock()
        self.format = chat_formatter(llama)
        self.yes = _first_tokens(llama, ["Yes", "yes", " Yes", " yes", "YES"])
        self.no = _first_tokens(llama, ["No", "no", " No", " no", "NO"])
        self.evaluated = 0
        """Prompt tokens read so far (those reused from the cache not counted)."""

    def p_yes(self, messages: Messages) -> float:
        prompt = self.format(messages=[{"role": r, "content": t} for r, t in messages]).prompt
        tokens = self.llama.tokenize(prompt.encode(), add_bos=False, special=True)
        with self.lock:
            logits = self._last_logits(tokens)
        yes = _logsumexp([logits[t] for t in self.yes])
        no = _logsumexp([logits[t] for t in self.no])
        return 1.0 / (1.0 + math.exp(no - yes))

    def prime(self, messages: Messages) -> None:
        """Read the messages into the model's cache now. Every prompt opens with the same
        system prompt: read at start-up, it is not read again in the first user's wait (nor
        are the weights paged in then)."""
        self.p_yes(messages)

    def _last_logits(self, tokens: list[int]):
        """Evaluate the tokens, reusing the longest prefix already in the model's cache."""
        llama = self.llama
        cached = llama.input_ids[: llama.n_tokens].tolist()
        shared = 0
        for a, b in zip(cached, tokens[:-1], strict=False):
            if a != b:
                break
            shared += 1
        llama.n_tokens = shared
        llama.eval(tokens[shared:])
        self.evaluated += len(tokens) - shared
        # llama-cpp-python keeps no logits unless every token's are kept (logits_all, slow):
        # read the last token's straight from the context (the last of those it computed:
        # a batch as short as the chat model's guesses has every token's, bot.llm).
        return np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),))


def chat_formatter(llama):
    """The model's own chat template (from the GGUF), as llama-cpp-python applies it."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
    bos = llama.detokenize([llama.token_bos()]).decode(errors="ignore")
    return Jinja2ChatFormatter(llama.metadata["tokenizer.chat_template"], eos, bos)


class ChatJudge:
    """For models behind a server: ask, and read the first word of the reply (0 or 1)."""

    def __init__(self, chat_model: BaseChatModel):
        self.chat_model = chat_model

    def p_yes(self, messages: Messages) -> float:
        kinds = {"system": SystemMessage, "user": HumanMessage}
        reply = self.chat_model.invoke([kinds[role](text) for role, text in messages])
        words = str(reply.content).strip().lower().split()
        return 1.0 if words and words[0].strip(".,!") == "yes" else 0.0


def judge_for(chat_model: BaseChatModel, lock: threading.Lock | None = None) -> Judge:
    """A LlamaJudge on the same weights when the model runs in-process, else a ChatJudge.
    The judge takes the model's own lock (LlamaCppChat.lock): both use one llama.cpp context."""
    llama = getattr(chat_model, "client", None)
    if llama is not None and hasattr(llama, "eval") and hasattr(llama, "scores"):
        return LlamaJudge(llama, lock or getattr(chat_model, "lock", None))
    return ChatJudge(chat_model)


def _first_tokens(llama, words: list[str]) -> list[int]:
    ids = {llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}
    return sorted(ids)


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))
