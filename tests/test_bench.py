"""`briefing bench` on its real path (real Chroma, MiniLM, llama.cpp, the page as a subprocess),
shrunk to a few items with the tiny model: it checks the outputs, never a time."""

from __future__ import annotations

import json

import pytest

from bot.bench import Plan, run_bench
from bot.cli import build_parser


@pytest.mark.slow
def test_bench_writes_its_outputs_with_every_stage(tmp_path, tiny_settings):
    plan = Plan(articles=20, index_sizes=(300,), questions=2, queries=5)
    results = run_bench(tmp_path / "out", tiny_settings, plan)

    for name in ("bench.json", "bench.md", "answers.png", "retrieval.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name
    saved = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert saved["plan"]["articles"] == 20
    assert results["ingest"]["generated"]["articles"] == 20
    assert results["ingest"]["generated"]["reingest_speedup"] > 1
    assert results["retrieval"]["sizes"][0]["passages"] >= 300
    for pipeline in ("ours", "stock"):
        rows = results["answers"][pipeline]["rows"]
        assert len(rows) == 2
        assert all(r["prompt_tokens"] and r["total_s"] > 0 for r in rows)
    assert results["answers"]["raw_llama"]["prompt_tokens_per_s"] > 0
    page = results["page"]
    assert len(page["waits_s"]) == 2 and all(page["answers"])  # the page really answered
    assert page["chat_peak_memory_mb"] > 100
    assert "stock" in (tmp_path / "out" / "bench.md").read_text()


def test_bench_command_is_listed():
    args = build_parser().parse_args(["bench", "--quick", "--out", "x"])
    assert args.quick and str(args.out) == "x"
