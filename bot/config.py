"""All settings in one place: environment variables named BRIEFING_* override the defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = PACKAGE_ROOT / "corpus"


class Settings(BaseSettings):
    """Settings for one bot. Every field can be set as BRIEFING_<NAME> (e.g. BRIEFING_HOME)."""

    model_config = SettingsConfigDict(env_prefix="BRIEFING_")

    home: Path = Path.home() / ".briefing"
    """Data directory: the Chroma index lives in home/chroma."""
    models_dir: Path | None = None
    """Where the default LLM is assembled; home/models when unset."""
    collection: str = "articles"
    chroma_url: str | None = None
    """http://host:port of a Chroma server; the embedded index under `home` when unset."""

    llm: Literal["local", "openai", "ollama"] = "local"
    llm_model: str | None = None
    """A GGUF path (local), or a model name (openai, ollama). Unset: the bundled Qwen2.5 1.5B."""
    llm_base_url: str | None = None
    llm_api_key: str = "not-needed"
    llm_timeout: float = 60.0
    """Seconds to wait for a model server (openai, ollama) before giving up with one line."""
    llm_threads: int | None = None
    llm_context: int = 4096
    max_answer_tokens: int = 200
    lookup_tokens: int = 10
    """The local model guesses up to this many tokens ahead from the prompt and checks them
    in one batch (prompt lookup, bot.llm): answers quote their passages. 0: one at a time."""

    max_question_chars: int = 2000
    """Longest question, in characters; a longer one is refused before the model sees it."""
    queue_size: int = 64
    """Most questions the chat page holds waiting for the model; more are turned away."""
    auth: str | None = None
    """Chat page logins: "user:password" pairs separated by commas, or a file of them (one a
    line). Required to listen on anything but loopback (unless `briefing chat --insecure`)."""

    passage_chars: int = 250
    """Longest passage, in characters: short passages keep the prompt (and the wait) short."""
    top_k: int = 5
    """How many passages the model sees, at most."""
    context_chars: int = 0
    """Each passage the model sees is widened by whole sentences around it to about this many
    characters (bot.widen); 0 shows the passages as found."""
    rerank: bool = False
    """Rerank the fused candidates with the model as judge (bot.rerank); measured, not default:
    see the README."""
    judged_candidates: int = 8
    """With rerank: how many fused candidates the model judges."""
    retrieval: Literal["hybrid", "dense"] = "hybrid"
    """hybrid: dense and BM25 keyword search fused by rank; dense: embeddings only."""
    candidates: int = 30
    """How many passages each search hands to the fusion."""
    min_relevance: float = 0.1
    """Cosine similarity of the best passage below which the bot abstains without asking the LLM."""
    relative_relevance: float = 0.5
    """A passage whose cosine similarity is below this share of the best passage's is not shown
    to the model (keyword-only finds score 0); 0 shows all top_k. Beside the one passage that
    answers a short question, weak ones made the model decline, and cost prompt time."""
    min_judged_relevance: float = 0.5
    """The judge's probability that a passage holds (part of) the answer: with rerank, below it
    a passage is not shown to the model (none left: the bot abstains without drafting);
    always, at it a draft that only declined is written again from all the passages, not from
    the first article's alone (Briefer.to_redraft_from)
    and a name the question gave may stand in an answer sentence (citations.names_known);
    above 1: never."""
    min_answerable: float = 0.5
    """The judge's probability that the passages shown to the model contain the answer (asked
    after them, before drafting), below which the bot abstains without drafting, or, with
    answerable_floor under it, drafts and keeps only an answer the judge confirms (min_true);
    0: no check."""
    answerable_floor: float = 0.5
    """The same probability below which the bot abstains without drafting; at min_answerable
    or above (the default) every doubted question is. Under it, a doubted answer is drafted
    and must be confirmed: measured at 0.2, not the default (evals/RESULTS.md)."""
    min_true: float = 0.5
    """For an answer drafted under min_answerable: the judge's probability, reading the
    answer after its passages, that it is right by them, below which the bot abstains."""
    overrule_decline: float = 0.7
    """The judge's probability that the passages hold the answer (min_answerable's) from which
    a draft that only declines is written again under rules that do not dictate the decline
    (prompts.REDRAFT_SYSTEM_PROMPT); above 1: never. The 7 declines that were right scored 0.50
    to 0.62 over five question sets, the wrong ones mostly 0.7 and up (evals/RESULTS.md)."""
    as_of: dt.date | None = None
    """The day questions are asked ("this week" is counted back from it); today when unset."""

    fetch_timeout: float = 20.0
    """Seconds to wait for a URL (a feed or a page) before giving up on it."""
    fetch_allow_private: bool = False
    """Fetch loopback, private and link-local addresses too (tests, an intranet feed). Off:
    the page's "Add URL" must not reach services behind the firewall (SSRF)."""
    max_input_mb: float = 20.0
    """Largest file or download read as one input; bigger ones are refused by name."""

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def model_cache(self) -> Path:
        return self.models_dir or self.home / "models"
