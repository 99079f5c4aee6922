"""Briefings: a dated, cited digest of what the articles say about a topic over a period.

Gather the passages on the topic from articles published in the period, group them into a
handful of distinct developments, and have the model write each as one or two sentences that
are checked and cited exactly as answers are (bot.citations). Points stream one at a time,
newest first, through the same model gate as answers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from bot import citations
from bot.answer import Briefer, Citation, evidence_text, is_instruction_like
from bot.config import Settings
from bot.dates import parse_day
from bot.embeddings import embed
from bot.errors import QuestionError
from bot.gate import gated
from bot.limits import clean_question
from bot.llm import server_errors
from bot.periods import Period
from bot.retrieval import Retriever
from bot.store import Passage, Store
from bot.words import content_words

ORDER = "newest-first"
"""How points are ordered: by the date of their newest supporting article, newest first."""
MAX_POINTS = 5
GATHER_CANDIDATES = 200
"""Passages each search hands to the fusion when gathering a topic (answers use 30)."""
TOPIC_FLOOR = 0.3
"""Cosine similarity to the topic at which a passage is on it, even without its words."""
MAX_GATHERED = 40
"""Passages grouped at most: enough for a handful of points, bounded embedding time."""
GROUP_SIMILARITY = 0.6
"""Cosine similarity between passages at which they report the same development."""
GROUP_PASSAGES = 3
"""Most passages one point's prompt shows: prompt length is what the model's speed costs."""
REPEAT_SHARE = 0.8
"""A point whose words are this much in an earlier point says nothing new and is dropped."""
MIN_POINT_WORDS = 3
"""Content words a point's sentence needs: "With Post Wires" is a credit line, not news."""


POINT_QUESTION = "Summarise these passages in one or two sentences."
"""Measured on the sample article's groups against "What is the news about TOPIC?" (the 1.5B
model wrote the headline, "Syrian rebels capture Homs", for every group) and "What do these
passages say happened?": this one retells each group's own fact."""
_PREAMBLE = re.compile(
    r"(?:^|(?<=[.!?]\s))(?:the|these)\s+(?:[\w' ]{0,40}?\s)?(?:passages?|articles?|reports?)"
    r"\s+(?:also\s+)?(?:say|says|report|reports|state|states|mention|mentions|note|notes)"
    r"\s+that\s+(\w)",
    re.IGNORECASE,
)


def point_context(passages: list[Passage]) -> str:
    """The numbered passages under their source and date, without the headline: shown the
    headline, the small model repeats it for every point instead of the passages' facts."""
    blocks = []
    for n, p in enumerate(passages, 1):
        if n == 1 or passages[n - 2].article_id != p.article_id:
            meta = ", ".join(x for x in (p.source, p.published) if x) or "unknown source"
            blocks.append(f"Article ({meta}):")
        blocks.append(f"[{n}] {p.text}")
    return "Passages:\n\n" + "\n".join(blocks) + "\n\n"


def without_preamble(draft: str) -> str:
    """ "The article also mentions that Assad ..." -> "Assad ...": a briefing states the news."""
    return _PREAMBLE.sub(lambda m: m.group(1).upper(), draft)


@dataclass
class Point:
    text: str
    date: str | None
    """The publication day of the newest article the point cites."""
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Briefing:
    topic: str
    since: str | None
    until: str | None
    as_of: str
    points: list[Point] = field(default_factory=list)
    empty: bool = True
    message: str = ""
    """One line for an empty briefing: which period held nothing on the topic."""
    order: str = ORDER
    new_only: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""

    def to_dict(self) -> dict:
        """The briefing JSON of GUIDE.md, with `order`, `new_only` and `message` besides."""
        return asdict(self)


@dataclass(frozen=True)
class BriefRequest:
    topic: str
    since: str | None = None
    until: str | None = None
    max_points: int = MAX_POINTS
    new_only: bool = False
    as_of: dt.date | None = None


class BriefingWriter:
    """Writes briefings with a Briefer's models and index (one loaded model for both)."""

    def __init__(self, briefer: Briefer):
        self.briefer = briefer
        wide = briefer.settings.model_copy(update={"candidates": GATHER_CANDIDATES})
        self.retriever = Retriever(briefer.store, wide)

    def brief(self, request: BriefRequest) -> Briefing:
        """The finished briefing (see stream for point by point)."""
        for event in self.stream(request):
            if isinstance(event, Briefing):
                return event
        raise AssertionError("stream() always ends with a Briefing")

    def stream(self, request: BriefRequest) -> Iterator[Point | Briefing]:
        """Yield each Point as it is written, then the whole Briefing. The topic and the
        period are checked before the model is used (QuestionError)."""
        settings = self.briefer.settings
        topic = clean_topic(request.topic, settings)
        as_of = request.as_of or settings.as_of or dt.date.today()
        period = Period.of(request.since, request.until, as_of)
        if request.max_points < 1:
            raise QuestionError(f"--max-points {request.max_points}: give at least 1")
        new_ids = (
            Memory(settings.home).new_articles(topic, self.briefer.store)
            if (request.new_only)
            else None
        )

        def events() -> Iterator[Point | Briefing]:
            work = self._stream(topic, period, as_of, request.max_points, new_ids)
            return server_errors(settings, work)

        yield from gated(self.briefer.gate, events)

    def _stream(
        self,
        topic: str,
        period: Period,
        as_of: dt.date,
        max_points: int,
        new_ids: set[str] | None,
    ) -> Iterator[Point | Briefing]:
        started = time.perf_counter()
        briefing = Briefing(topic, _iso(period.since), _iso(period.until), as_of.isoformat())
        briefing.model, briefing.new_only = self.briefer.model, new_ids is not None
        gathered = self.gather(topic, period, as_of, new_ids)
        groups = newest_first(group(gathered, max_points))
        timings = {"gather_s": time.perf_counter() - started}
        numbers: dict[tuple[str, int], Citation] = {}
        for passages in groups:
            point = self.write_point(topic, passages, as_of, numbers)
            if point is None or repeats(point, briefing.points):
                continue
            timings.setdefault("first_point_s", time.perf_counter() - started)
            briefing.points.append(point)
            yield point
        briefing.empty = not briefing.points
        if briefing.empty:
            briefing.message = empty_message(topic, period, gathered, new_ids is not None)
        timings.setdefault("first_point_s", time.perf_counter() - started)
        timings["total_s"] = time.perf_counter() - started
        briefing.timings = {k: round(v, 3) for k, v in timings.items()}
        yield briefing

    def gather(
        self, topic: str, period: Period, as_of: dt.date, only: set[str] | None = None
    ) -> list[Passage]:
        """The passages on the topic from articles in the period (and in `only`, when given),
        most relevant first."""
        last = period.until or as_of
        found = self.retriever.retrieve(topic, GATHER_CANDIDATES, last)
        words = content_words(topic)
        kept = [
            p
            for p in found
            if period.holds(p.published)
            and (only is None or p.article_id in only)
            and (p.score >= TOPIC_FLOOR or _shares_words(words, p))
            and not is_instruction_like(p)
        ]
        return kept[:MAX_GATHERED]

    def write_point(
        self,
        topic: str,
        passages: list[Passage],
        as_of: dt.date,
        numbers: dict[tuple[str, int], Citation],
    ) -> Point | None:
        """One point from a group of passages: the model's draft, checked like an answer;
        None when no sentence of it stands. `numbers` numbers citations across the briefing."""
        briefer = self.briefer
        passages = briefer.fitting(passages, POINT_QUESTION, as_of, window=None)
        prompt = {"context": point_context(passages), "question": POINT_QUESTION, "hint": ""}
        draft = without_preamble(briefer.answer_chain.invoke(prompt))
        if citations.says_abstain(draft):
            return None
        evidence = [evidence_text(p) for p in passages]
        sentences = citations.check_answer(draft, evidence, topic)
        sentences = [s for s in sentences if len(content_words(s.text)) >= MIN_POINT_WORDS]
        sentences = [with_all_supporting(s, passages, evidence, topic) for s in sentences]
        if not sentences:
            return None
        return render_point(sentences, passages, numbers)

    def remember(self, topic: str) -> None:
        """Record the articles indexed now as seen in a briefing on the topic (for --new)."""
        Memory(self.briefer.settings.home).remember(topic, self.briefer.store)


def clean_topic(topic: str | None, settings: Settings) -> str:
    """The topic as a question is cleaned (control characters, length), on one line."""
    return " ".join(clean_question(topic, settings, what="topic").split())


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _shares_words(topic_words: set[str], passage: Passage) -> bool:
    """Does the passage hold a topic word, or a longer form of it ('Syria' in 'Syrian')?"""
    words = content_words(f"{passage.title} {passage.text}")
    return any(w.startswith(t) for t in topic_words if len(t) >= 4 for w in words) or bool(
        topic_words & words
    )


def group(passages: list[Passage], max_points: int) -> list[list[Passage]]:
    """Passages grouped by development, most important group first, at most max_points.

    Each gathered opening passage (news puts the development first) seeds a group before
    the rest; then each passage, most relevant first, joins the group whose seed it is most
    like, when alike enough, or starts its own. A group is ranked by its seed's place.
    """
    if not passages:
        return []
    ledes = [p for p in passages if p.start == 0]
    ordered = ledes + [p for p in passages if p not in ledes]
    # The text alone: with the headline, every passage of one article looks alike.
    vectors = np.array(embed([p.text for p in ordered]))
    seeds: list[int] = []
    members: dict[int, list[int]] = {}
    for i in range(len(ordered)):
        similar = [(float(vectors[i] @ vectors[s]), s) for s in seeds]
        best = max(similar, default=(0.0, -1))
        if best[0] >= GROUP_SIMILARITY and len(members[best[1]]) < GROUP_PASSAGES:
            members[best[1]].append(i)
        elif best[0] < GROUP_SIMILARITY:
            seeds.append(i)
            members[i] = [i]
    return [[ordered[i] for i in members[s]] for s in seeds[:max_points]]


def newest_first(groups: list[list[Passage]]) -> list[list[Passage]]:
    """Groups by their newest article's date, newest first; importance breaks ties."""
    return sorted(groups, key=lambda g: newest_date(g) or "", reverse=True)


def newest_date(passages: list[Passage]) -> str | None:
    days = [d for p in passages if (d := parse_day(p.published))]
    return max(days).isoformat() if days else None


def with_all_supporting(
    sentence: citations.CheckedSentence, passages: list[Passage], evidence: list[str], topic: str
) -> citations.CheckedSentence:
    """The sentence citing, besides what the check kept, every other article's passage in the
    group that supports it alone: a development several articles report cites them all."""
    cited_articles = {passages[i].article_id for i in sentence.passages}
    extra = []
    for i, p in enumerate(passages):
        if p.article_id in cited_articles or i in sentence.passages:
            continue
        alone = citations.check_sentences(sentence.text, [evidence[i]], topic)
        if alone:
            extra.append(i)
            cited_articles.add(p.article_id)
    return citations.CheckedSentence(sentence.text, (*sentence.passages, *extra))


def render_point(
    sentences: list[citations.CheckedSentence],
    passages: list[Passage],
    numbers: dict[tuple[str, int], Citation],
) -> Point:
    """The point's text with [n] markers numbered across the whole briefing."""
    parts, cited = [], []
    for sentence in sentences:
        marks = ""
        for i in sentence.passages:
            p = passages[i]
            key = (p.article_id, p.start)
            if key not in numbers:
                numbers[key] = Citation.from_passage(len(numbers) + 1, p)
            if numbers[key] not in cited:
                cited.append(numbers[key])
            marks += f"[{numbers[key].n}]"
        body, end = _split_end(sentence.text)
        parts.append(f"{body} {marks}{end}" if marks else f"{body}{end}")
    date = max((c.published[:10] for c in cited if c.published), default=None)
    return Point(" ".join(parts), date, cited)


def _split_end(text: str) -> tuple[str, str]:
    """The sentence and its closing punctuation, so markers go before the full stop."""
    match = re.search(r"[.!?]+[\"'”’]?$", text)
    return (text[: match.start()], match.group()) if match else (text, ".")


def repeats(point: Point, earlier: list[Point]) -> bool:
    """Does an earlier point already say this (the same passage in two groups)?"""
    words = content_words(citations.MARKER.sub("", point.text))
    if not words:
        return True
    return any(len(words & content_words(e.text)) / len(words) >= REPEAT_SHARE for e in earlier)


def empty_message(topic: str, period: Period, gathered: list[Passage], new_only: bool) -> str:
    """One line saying why there is nothing to report."""
    new = "new " if new_only else ""
    if gathered:
        return f"The {new}articles {period.describe()} say nothing that can be cited about {topic}."
    return f"No {new}articles about {topic} {period.describe()}."


# --- What's new: the articles seen at the previous briefing on a topic ---------------------


def topic_key(topic: str) -> str:
    return " ".join(re.findall(r"\w+", topic.lower()))


def indexed_versions(store: Store) -> dict[str, str]:
    """Every indexed article's id with its content hash (an update changes the hash)."""
    metas = store.collection.get(include=["metadatas"])["metadatas"]
    return {m["article_id"]: str(m.get("content_hash", "")) for m in metas}


class Memory:
    """Per topic, the articles (and versions) in the index at the user's last briefing on
    it, in home/briefings.json: "new" means indexed, or changed, since then."""

    def __init__(self, home):
        self.path = home / "briefings.json"

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def previous(self, topic: str) -> dict | None:
        return self._load().get(topic_key(topic))

    def new_articles(self, topic: str, store: Store) -> set[str]:
        """Articles indexed or changed since the last briefing on the topic (all of them
        when there was none)."""
        seen = (self.previous(topic) or {}).get("articles", {})
        return {a for a, version in indexed_versions(store).items() if seen.get(a) != version}

    def remember(self, topic: str, store: Store) -> None:
        data = self._load()
        data[topic_key(topic)] = {
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "articles": indexed_versions(store),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(self.path)  # whole or not at all


# --- The source viewer: a whole article from its passages -----------------------------------
