"""report.md for an eval run: metrics, plots, and every question with failures first."""

from __future__ import annotations

from pathlib import Path

METRIC_LABELS = {
    "accuracy": "answer accuracy (answerable)",
    "abstention_rate": "abstention on unanswerable",
    "false_abstention_rate": "false abstention (answerable)",
    "citation_precision": "citation precision",
    "source_recall": "source recall",
    "recall_at_k": "retrieval recall@k",
    "mrr": "retrieval MRR",
    "first_token_p50_s": "first token p50 (s)",
    "first_token_p95_s": "first token p95 (s)",
    "total_p50_s": "answer p50 (s)",
    "total_p95_s": "answer p95 (s)",
}


def verdict(row: dict) -> str:
    if row["expected"]["answerable"]:
        return "right" if row["score"]["correct"] else "WRONG"
    return "abstained" if row["answer"]["abstained"] else "WRONG (answered)"


def write_report(out: Path, rows: list[dict], summary: dict) -> None:
    _plot_by_kind(out / "accuracy_by_kind.png", summary["right_by_kind"])
    _plot_latency(out / "latency.png", rows)
    lines = [
        f"# Eval: {summary['pipeline']} pipeline on {summary['questions_file']}",
        "",
        f"Corpus `{summary['corpus']}`, model `{summary['model']}`, "
        f"{summary['questions']} questions ({summary['unanswerable']} unanswerable).",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {label} | {_fmt(summary.get(key))} |" for key, label in METRIC_LABELS.items()),
        "",
        "![right by kind](accuracy_by_kind.png) ![latency](latency.png)",
        "",
        "| id | kind | question | expected | answer | verdict | citations |",
        "|---|---|---|---|---|---|---|",
    ]
    failures_first = sorted(rows, key=lambda r: not verdict(r).startswith("WRONG"))
    for row in failures_first:
        expected = "; ".join(row["expected"]["answers"]) or "(abstain)"
        cited = ", ".join(
            f"[{c['n']}] {c['article_id']}@{c['start']}" for c in row["answer"]["citations"]
        )
        question = row["answer"]["question"]
        cells = [row["id"], row["kind"], question, expected, row["answer"]["answer"]]
        lines.append(
            "| " + " | ".join(_cell(c) for c in [*cells, verdict(row), cited or "-"]) + " |"
        )
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:300]


def _plot_by_kind(path: Path, right_by_kind: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(list(right_by_kind), [v or 0 for v in right_by_kind.values()], color="#4a7ab5")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share right (abstained, if unanswerable)")
    ax.set_title("Right answers by question kind")
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_latency(path: Path, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for key, label in (("first_token_s", "first token"), ("total_s", "whole answer")):
        ax.hist([r["answer"]["timings"][key] for r in rows], bins=20, alpha=0.6, label=label)
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
