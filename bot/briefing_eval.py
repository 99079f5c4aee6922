"""Briefing items of a question set (`"kind": "briefing"`), run and scored.

Metrics (also in the README):
- coverage: the share of an item's `must_include` facts that the briefing's text contains
  (normalised as answers are), averaged over items.
- citation_precision: the share of a briefing's citations that are right, averaged over
  non-empty briefings. A citation is right when its article is one of the item's
  `source_ids` (when the item names them) and its passage holds at least half of the content
  words of a sentence citing it (the support a reader can see for themselves).
- points and words: the briefing's length; empty: the share of items with no point at all.
- first_point and total seconds: p50 and p95.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from bot.briefing import BriefingWriter, BriefRequest
from bot.chunking import sentence_spans
from bot.citations import MARKER, SUPPORT_THRESHOLD, cited_numbers, support
from bot.dates import parse_day
from bot.errors import BriefingError
from bot.evaluate import jsonl_records, normalise

KIND = "briefing"


@dataclass
class BriefingItem:
    id: str
    topic: str
    must_include: list[str]
    since: str | None = None
    until: str | None = None
    source_ids: list[str] = field(default_factory=list)
    asked_on: dt.date | None = None
    max_points: int = 5


def load_briefing_items(path: Path) -> list[BriefingItem]:
    """The briefing items of a question set (other lines are questions: skipped here)."""
    items = []
    for where, data in jsonl_records(path):
        if not isinstance(data, dict) or data.get("kind") != KIND:
            continue
        try:
            items.append(
                BriefingItem(
                    id=str(data["id"]),
                    topic=str(data["topic"]),
                    must_include=list(data.get("must_include") or []),
                    since=data.get("since"),
                    until=data.get("until"),
                    source_ids=list(data.get("source_ids") or []),
                    asked_on=parse_day(data.get("asked_on")),
                    max_points=int(data.get("max_points") or 5),
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BriefingError(f"{where}: not a valid briefing item ({err})") from err
    return items


def _normalise(text: str) -> str:
    return f" {normalise(text)} "


def score_briefing(item: BriefingItem, briefing: dict) -> dict:
    """Coverage, citation precision and length of one briefing (see the module docstring)."""
    text = " ".join(p["text"] for p in briefing["points"])
    said = _normalise(MARKER.sub(" ", text))
    found = [f for f in item.must_include if _normalise(f) in said]
    right = total = 0
    for point in briefing["points"]:
        by_n = {c["n"]: c for c in point["citations"]}
        for span in sentence_spans(point["text"]):
            sentence = point["text"][span.start : span.end]
            claim = MARKER.sub("", sentence)
            for n in dict.fromkeys(cited_numbers(sentence)):
                if (c := by_n.get(n)) is None:
                    continue
                total += 1
                gold = not item.source_ids or c["article_id"] in item.source_ids
                right += gold and support(claim, c["passage"]) >= SUPPORT_THRESHOLD
    return {
        "coverage": len(found) / len(item.must_include) if item.must_include else None,
        "missing": [f for f in item.must_include if f not in found],
        "citation_precision": right / total if total else None,
        "points": len(briefing["points"]),
        "words": len(said.split()),
        "empty": briefing["empty"],
    }


def run_briefings(items: list[BriefingItem], writer: BriefingWriter) -> list[dict]:
    """Each item's briefing JSON and its score, as result rows."""
    rows = []
    for item in tqdm(items, desc="Briefing", unit="briefing"):
        request = BriefRequest(
            item.topic, item.since, item.until, item.max_points, as_of=item.asked_on
        )
        briefing = writer.brief(request).to_dict()
        rows.append(
            {
                "id": item.id,
                "kind": KIND,
                "expected": {"must_include": item.must_include, "source_ids": item.source_ids},
                "briefing": briefing,
                "score": score_briefing(item, briefing),
            }
        )
    return rows


def summarise_briefings(rows: list[dict]) -> dict:
    from bot.evaluate import _mean, _percentile

    scores = [r["score"] for r in rows]
    first = [r["briefing"]["timings"]["first_point_s"] for r in rows]
    total = [r["briefing"]["timings"]["total_s"] for r in rows]
    return {
        "briefings": len(rows),
        "coverage": _mean([s["coverage"] for s in scores if s["coverage"] is not None]),
        "citation_precision": _mean(
            [s["citation_precision"] for s in scores if s["citation_precision"] is not None]
        ),
        "empty_rate": _mean([s["empty"] for s in scores]),
        "points_mean": _mean([s["points"] for s in scores]),
        "words_mean": _mean([s["words"] for s in scores]),
        "first_point_p50_s": _percentile(first, 50),
        "first_point_p95_s": _percentile(first, 95),
        "total_p50_s": _percentile(total, 50),
        "total_p95_s": _percentile(total, 95),
    }


def write_briefing_rows(out: Path, rows: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "briefings.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
