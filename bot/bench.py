"""`briefing bench`: where the time goes on this machine, beside its ceilings and the stock recipe.

One run measures, one stage after another (never two at once: on 2 cores a timing taken beside
another job is worthless):
- ingest: the sample corpus and a generated corpus, against a bare SentenceTransformer.encode of
  the same passages (the ceiling), and an unchanged re-ingest;
- retrieval: p50/p95 of the full hybrid search at growing index sizes (synthetic vectors: real
  ones would take an hour to embed; the query is embedded for real);
- answers: our chain and the stock recipe on the same seed questions with the same model, token
  counts, and raw llama.cpp prompt and generation speed on our own prompts (the limit);
- the page: the same questions through the chat page's HTTP API (gradio_client), what a user
  waits for, and the page process's peak memory.
Writes bench.json, bench.md and PNG plots to the output folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import BaseCallbackHandler
from tqdm import tqdm

from bot import store as store_module
from bot.config import SAMPLE_CORPUS, Settings
from bot.evaluate import Question, load_questions

SEED_QUESTIONS = Path(__file__).resolve().parent.parent / "evals" / "seed.jsonl"
PAGE_API = "/ask"
TOWNS = ["Northport", "Fenwick", "Holm", "Eastport", "Millbrook", "Ashby", "Corran", "Dunmore"]
TOPICS = ["ferry", "library", "bridge", "school", "harbour", "market", "tram", "hospital"]


@dataclass(frozen=True)
class Plan:
    articles: int
    """Generated articles for the ingest stage."""
    index_sizes: tuple[int, ...]
    """Passages in the index at which retrieval is timed."""
    questions: int
    """Seed questions answered by each pipeline."""
    queries: int = 30
    """Retrieval queries timed at each index size."""

    @staticmethod
    def of(quick: bool) -> Plan:
        if quick:
            return Plan(articles=200, index_sizes=(1_000, 10_000), questions=2, queries=15)
        return Plan(articles=1_000, index_sizes=(1_000, 10_000, 100_000), questions=10)


def run_bench(out: Path, settings: Settings, plan: Plan) -> dict:
    """Run every stage, write the outputs to out, return what bench.json holds."""
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine(),
        "plan": asdict(plan),
        "model": model_label(settings),
    }
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as tmp:
        work = Path(tmp)
        stages: list[tuple[str, Callable[[], dict]]] = [
            ("ingest", lambda: ingest_stage(work, plan, settings)),
            ("retrieval", lambda: retrieval_stage(work, plan, settings)),
            ("answers", lambda: answers_stage(work, plan, settings)),
            ("page", lambda: page_stage(work, plan, settings)),
        ]
        bar = tqdm(stages, desc="Bench", unit="stage")
        for name, stage in bar:
            bar.set_postfix_str(name)
            results[name] = stage()
    write_outputs(out, results)
    return results


# -- ingest ------------------------------------------------------------------------------------


def ingest_stage(work: Path, plan: Plan, settings: Settings) -> dict:
    from bot.articles import load_file
    from bot.embeddings import _model, embed
    from bot.ingest import ingest_paths
    from bot.store import Store, embedding_text

    embed(["warm up"])  # model loading is start-up time, not ingest speed
    generated = work / "generated.jsonl"
    generated.write_text("\n".join(json.dumps(a) for a in generated_articles(plan.articles)))
    result = {}
    for name, path in (("sample", SAMPLE_CORPUS), ("generated", generated)):
        home = settings.model_copy(update={"home": work / f"ingest-{name}", "chroma_url": None})
        store = Store(home)
        first, report = timed(lambda: ingest_paths([path], home, store=store))  # noqa: B023
        again, _ = timed(lambda: ingest_paths([path], home, store=store))  # noqa: B023
        articles = len(report.added)
        result[name] = {
            "articles": articles,
            "passages": report.passages,
            "first_s": first,
            "articles_per_s": articles / first,
            "passages_per_s": report.passages / first,
            "reingest_s": again,
            "reingest_speedup": first / again,
        }
    articles = load_file(generated)
    texts = [
        embedding_text(p)
        for a in articles
        for p in store_module.split_article(a, settings.passage_chars)
    ]
    seconds, _ = timed(lambda: _model().encode(texts, normalize_embeddings=True, batch_size=32))
    ceiling = len(texts) / seconds
    result["encode_ceiling"] = {
        "passages": len(texts),
        "seconds": seconds,
        "passages_per_s": ceiling,
    }
    result["ingest_vs_encode"] = result["generated"]["passages_per_s"] / ceiling
    return result


def generated_articles(count: int, sentences: int = 6) -> list[dict]:
    """Deterministic local-news articles: no network, same corpus on every run."""
    day = dt.date(2024, 1, 1)
    articles = []
    for n in range(count):
        town, topic = TOWNS[n % len(TOWNS)], TOPICS[(n // len(TOWNS)) % len(TOPICS)]
        lines = [
            f"{town} council met on day {n} to discuss the {topic}.",
            f"Officials said the {topic} plan number {n} would cost {n * 1000 + 250} pounds.",
            f"Residents of {town} asked for a public meeting before any decision on the {topic}.",
            f"The mayor of {town} said the {topic} had waited {n % 40 + 2} years for repairs.",
            f"Opponents argued that plan {n} favoured the centre of {town} over its suburbs.",
            f"A final vote on item {n} is expected next month, the council said.",
        ]
        articles.append(
            {
                "id": f"bench-{n}",
                "title": f"{town} {topic} plan {n}",
                "source": f"{town} Gazette",
                "published": (day + dt.timedelta(days=n % 365)).isoformat(),
                "text": " ".join(lines[:sentences]),
            }
        )
    return articles


# -- retrieval ---------------------------------------------------------------------------------


def retrieval_stage(work: Path, plan: Plan, settings: Settings) -> dict:
    from bot.embeddings import embed
    from bot.retrieval import Retriever
    from bot.store import Store

    embed(["warm up"])
    home = settings.model_copy(update={"home": work / "retrieval", "chroma_url": None})
    store = Store(home)
    queries = [
        f"What did {TOWNS[i % 8]} decide about the {TOPICS[i % 8]} plan {i * 37}?"
        for i in range(plan.queries)
    ]
    sizes, made = [], 0
    for size in tqdm(plan.index_sizes, desc="Retrieval", unit="size", leave=False):
        with synthetic_vectors():
            while (missing := size - store.count()) > 0:
                # Ten generated articles make one long one of about 20 passages (the timing
                # is per passage; fewer articles build the index faster): 5,000 at a time.
                wanted = min(5_000, max(1, missing // 20))
                store.ingest(long_articles(made, wanted))
                made += wanted
        retriever = Retriever(store, home)
        build, _ = timed(lambda: retriever.retrieve(queries[0], home.top_k))  # noqa: B023
        times = [timed(lambda q=q: retriever.retrieve(q, home.top_k))[0] for q in queries]  # noqa: B023
        sizes.append(
            {
                "passages": store.count(),
                "first_query_s": build,
                "p50_ms": 1000 * percentile(times, 50),
                "p95_ms": 1000 * percentile(times, 95),
            }
        )
    return {"vectors": "synthetic passages, real query embedding", "sizes": sizes}


def long_articles(start: int, count: int, per: int = 10) -> list:
    """Articles start.. of `per` generated articles each, their texts one after another."""
    records = generated_articles((start + count) * per)[start * per :]
    return [
        _article(
            group[0] | {"id": f"long-{start + n}", "text": "\n\n".join(r["text"] for r in group)}
        )
        for n, group in enumerate(records[i : i + per] for i in range(0, len(records), per))
    ]


def _article(record: dict):
    from bot.articles import Article

    return Article(
        record["id"], record["title"], record["source"], record["published"], None, record["text"]
    )


@contextlib.contextmanager
def synthetic_vectors() -> Iterator[None]:
    """Index with random unit vectors instead of MiniLM's: the store, the index and the search
    are real, only the (slow, here irrelevant) embedding of every passage is skipped."""
    real = store_module.embed

    def fake(texts: list[str]) -> list[list[float]]:
        rng = np.random.default_rng(len(texts))
        vectors = rng.standard_normal((len(texts), 384)).astype(np.float32)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()

    store_module.embed = fake
    try:
        yield
    finally:
        store_module.embed = real


# -- answers -----------------------------------------------------------------------------------


class TokenCounter(BaseCallbackHandler):
    """Counts, per model call, the prompt tokens (with the model's own chat template and
    vocabulary) and the generated tokens (one streamed chunk is one token in llama.cpp)."""

    def __init__(self, llama) -> None:
        from bot.judge import chat_formatter

        self.llama = llama
        self.format = chat_formatter(llama)
        self.calls: list[dict] = []

    def on_chat_model_start(self, serialized, messages, **kwargs) -> None:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        turns = [{"role": roles[m.type], "content": str(m.content)} for m in messages[0]]
        prompt = self.format(messages=turns).prompt
        tokens = self.llama.tokenize(prompt.encode(), add_bos=False, special=True)
        self.calls.append({"prompt_tokens": len(tokens), "tokens": tokens, "generated": 0})

    def on_llm_new_token(self, token: str, **kwargs) -> None:
        if self.calls:
            self.calls[-1]["generated"] += 1


def answers_stage(work: Path, plan: Plan, settings: Settings) -> dict:
    from bot.answer import Briefer
    from bot.evaluate import eval_collection, stock_model_settings
    from bot.ingest import ingest_paths
    from bot.llm import load_chat_model
    from bot.stock import StockPipeline, stock_split
    from bot.store import Store

    home = settings.model_copy(update={"home": work / "answers", "chroma_url": None})
    questions = seed_questions(plan.questions)
    chat_model = load_chat_model(home)
    llama = getattr(chat_model, "client", None)
    counter = TokenCounter(llama) if llama is not None else None
    stock_model = load_chat_model(stock_model_settings(home))
    if counter:
        chat_model.callbacks = stock_model.callbacks = [counter]
    ours_store = Store(home)
    ingest_paths([SAMPLE_CORPUS], home, store=ours_store)
    stock_name = eval_collection(SAMPLE_CORPUS, "stock", home)
    stock_store = Store(home, collection=stock_name, splitter=stock_split)
    ingest_paths([SAMPLE_CORPUS], home, store=stock_store)
    pipelines = {
        "ours": Briefer(home, store=ours_store, chat_model=chat_model),
        "stock": StockPipeline(home, stock_store, stock_model, model_label(home)),
    }
    result: dict[str, Any] = {"questions": [q.id for q in questions]}
    for name, pipeline in pipelines.items():
        rows = []
        for q in tqdm(questions, desc=f"Answers ({name})", unit="question", leave=False):
            if counter:
                counter.calls.clear()
            answer = pipeline.ask(q.question, q.history, as_of=q.asked_on)
            rows.append(answer_row(answer, counter.calls if counter else []))
        result[name] = summarise_answers(rows)
    if counter and llama is not None:
        result["raw_llama"] = raw_speed(llama, counter)
        ours_pp = result["ours"].get("prompt_tokens_per_s")
        if ours_pp:
            result["ours"]["prompt_speed_vs_raw"] = (
                ours_pp / result["raw_llama"]["prompt_tokens_per_s"]
            )
    return result


def seed_questions(count: int) -> list[Question]:
    return load_questions(SEED_QUESTIONS)[:count]


def answer_row(answer, calls: list[dict]) -> dict:
    timings = answer.timings
    answer_call = calls[-1] if calls else {}
    return {
        "first_token_s": timings.get("first_token_s"),
        "total_s": timings.get("total_s"),
        "retrieve_s": timings.get("retrieve_s"),
        "prompt_tokens": sum(c["prompt_tokens"] for c in calls) if calls else None,
        "generated_tokens": sum(c["generated"] for c in calls) if calls else None,
        "answer_prompt_tokens": answer_call.get("prompt_tokens"),
        "model_calls": len(calls),
        "abstained": answer.abstained,
    }


def summarise_answers(rows: list[dict]) -> dict:
    def p50(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    summary = {
        "first_token_p50_s": p50("first_token_s"),
        "total_p50_s": p50("total_s"),
        "total_p95_s": percentile([r["total_s"] for r in rows], 95),
        "prompt_tokens_p50": p50("prompt_tokens"),
        "generated_tokens_p50": p50("generated_tokens"),
        "rows": rows,
    }
    # Prompt speed: the answer call's prompt over the time to the first token, less retrieval.
    # Follow-ups make two calls (the rewrite first), so only one-call answers count here.
    speeds = [
        r["answer_prompt_tokens"] / (r["first_token_s"] - r["retrieve_s"])
        for r in rows
        if r["model_calls"] == 1 and r["first_token_s"] and r["first_token_s"] > r["retrieve_s"]
    ]
    if speeds:
        summary["prompt_tokens_per_s"] = statistics.median(speeds)
    return summary


def raw_speed(llama, counter: TokenCounter) -> dict:
    """llama.cpp alone on the longest answer prompt seen: prompt tokens/s from an empty cache,
    and generated tokens/s (one token at a time, as in answering)."""
    tokens = max((c["tokens"] for c in counter.calls), key=len, default=None)
    if tokens is None:
        tokens = llama.tokenize(b"Tell me about the news today. " * 40)
    llama.reset()
    prompt_s, _ = timed(lambda: llama.eval(tokens))
    steps = 32
    start = time.perf_counter()
    for _ in range(steps):
        llama.eval([tokens[-1]])
    generate_s = time.perf_counter() - start
    llama.reset()
    return {
        "prompt_tokens": len(tokens),
        "prompt_tokens_per_s": len(tokens) / prompt_s,
        "generated_tokens_per_s": steps / generate_s,
    }


# -- the page ----------------------------------------------------------------------------------


def page_stage(work: Path, plan: Plan, settings: Settings) -> dict:
    from gradio_client import Client

    port = free_port()
    env = os.environ | {
        "BRIEFING_HOME": str(work / "page"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    if settings.models_dir:
        env["BRIEFING_MODELS_DIR"] = str(settings.models_dir)
    if settings.llm_model:
        env["BRIEFING_LLM_MODEL"] = settings.llm_model
    command = [sys.executable, "-m", "bot", "chat", "--port", str(port)]
    log = (work / "page.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, server, timeout=300)
        client = Client(url, verbose=False)
        waits, answers = [], []
        for q in tqdm(seed_questions(plan.questions), desc="Page", unit="question", leave=False):
            seconds, reply = timed(lambda q=q: client.predict(q.question, [], api_name=PAGE_API))
            waits.append(seconds)
            answers.append(page_answer(reply))
        peak = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return {
        "click_to_answer_p50_s": statistics.median(waits),
        "click_to_answer_p95_s": percentile(waits, 95),
        "waits_s": waits,
        "answers": answers,
        "chat_peak_memory_mb": peak,
    }


def page_answer(reply: tuple) -> str:
    """The checked answer in the page's reply (its last output is the answer JSON)."""
    answer = reply[-1] if reply else None
    return answer.get("answer", "") if isinstance(answer, dict) else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the chat page exited with {process.returncode} before serving")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"{url}: the chat page did not answer within {timeout:.0f} s")


def peak_memory_mb(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM), Linux only."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


# -- helpers and outputs -----------------------------------------------------------------------


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def percentile(values: list[float], pct: int) -> float:
    return float(np.percentile(np.array(values, dtype=float), pct)) if values else float("nan")


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def model_label(settings: Settings) -> str:
    from bot.llm import model_name

    return model_name(settings)


def write_outputs(out: Path, results: dict) -> None:
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(markdown_table(results))
    plot(out, results)


def markdown_table(r: dict) -> str:
    ing, ret, ans, page = r["ingest"], r["retrieval"], r["answers"], r["page"]
    ours, stock = ans["ours"], ans["stock"]
    raw = ans.get("raw_llama", {})
    gen = ing["generated"]
    lines = [
        f"# briefing bench ({r['plan']['questions']} questions), {r['machine']['date']}, "
        f"{r['machine']['cpus']} CPUs, {r['model']}",
        "",
        "| measure | value | reference | ratio |",
        "|---|---|---|---|",
        f"| answer p50, ours vs stock ({len(ans['questions'])} seed questions) | "
        f"{ours['total_p50_s']:.2f} s | {stock['total_p50_s']:.2f} s | "
        f"{ours['total_p50_s'] / stock['total_p50_s']:.2f} |",
        f"| first token p50, ours vs stock | {ours['first_token_p50_s']:.2f} s | "
        f"{stock['first_token_p50_s']:.2f} s | "
        f"{ours['first_token_p50_s'] / stock['first_token_p50_s']:.2f} |",
        f"| prompt tokens p50, ours vs stock | {ours['prompt_tokens_p50']} | "
        f"{stock['prompt_tokens_p50']} | |",
        f"| generated tokens p50, ours vs stock | {ours['generated_tokens_p50']} | "
        f"{stock['generated_tokens_p50']} | |",
    ]
    if raw and ours.get("prompt_tokens_per_s"):
        lines.append(
            f"| prompt speed, ours vs raw llama.cpp | {ours['prompt_tokens_per_s']:.0f} tok/s | "
            f"{raw['prompt_tokens_per_s']:.0f} tok/s | {ours['prompt_speed_vs_raw']:.2f} |"
        )
        lines.append(f"| raw generation | {raw['generated_tokens_per_s']:.1f} tok/s | | |")
    lines += [
        f"| page click-to-answer p50 vs chain | {page['click_to_answer_p50_s']:.2f} s | "
        f"{ours['total_p50_s']:.2f} s | "
        f"{page['click_to_answer_p50_s'] / ours['total_p50_s']:.2f} |",
        f"| ingest, {gen['articles']} generated articles vs bare encode | "
        f"{gen['passages_per_s']:.0f} passages/s ({gen['articles_per_s']:.0f} articles/s) | "
        f"{ing['encode_ceiling']['passages_per_s']:.0f} passages/s | "
        f"{ing['ingest_vs_encode']:.2f} |",
        f"| unchanged re-ingest speed-up | {gen['reingest_s']:.2f} s | {gen['first_s']:.2f} s | "
        f"{gen['reingest_speedup']:.0f}x |",
        f"| sample corpus ingest | {ing['sample']['passages_per_s']:.0f} passages/s | | |",
    ]
    for size in ret["sizes"]:
        lines.append(
            f"| retrieval at {size['passages']:,} passages ({ret['vectors']}) | "
            f"p50 {size['p50_ms']:.1f} ms, p95 {size['p95_ms']:.1f} ms | "
            f"first query {size['first_query_s']:.2f} s | |"
        )
    memory = page["chat_peak_memory_mb"]
    lines.append(f"| `briefing chat` peak memory | {memory:.0f} MB | | |" if memory else "")
    return "\n".join(lines) + "\n"


def plot(out: Path, r: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ans, page = r["answers"], r["page"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = ["ours (chain)", "stock recipe", "ours (page)"]
    totals = [
        ans["ours"]["total_p50_s"],
        ans["stock"]["total_p50_s"],
        page["click_to_answer_p50_s"],
    ]
    firsts = [ans["ours"]["first_token_p50_s"], ans["stock"]["first_token_p50_s"], 0]
    ax.bar(names, totals, label="answer p50")
    ax.bar(names, firsts, label="first token p50")
    ax.set_ylabel("seconds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "answers.png")
    plt.close(fig)

    sizes = r["retrieval"]["sizes"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = [s["passages"] for s in sizes]
    ax.plot(xs, [s["p50_ms"] for s in sizes], marker="o", label="p50")
    ax.plot(xs, [s["p95_ms"] for s in sizes], marker="o", label="p95")
    ax.set_xscale("log")
    ax.set_xlabel("passages in the index")
    ax.set_ylabel("ms per query")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "retrieval.png")
    plt.close(fig)
