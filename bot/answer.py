"""The chain: rewrite a follow-up, retrieve, generate from numbered passages, check citations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from bot import citations
from bot.config import Settings
from bot.dates import WEEKDAYS, Window, parse_day, relative_window, spoken_day
from bot.embeddings import embed
from bot.errors import QuestionError
from bot.gate import gated, model_gate
from bot.judge import Judge, LlamaJudge, judge_for
from bot.keywords import date_words
from bot.limits import clean_question, fit, prompt_budget, token_counter
from bot.llm import load_chat_model, model_name, server_errors
from bot.prompts import (
    ANSWER_PROMPT,
    REDRAFT_PROMPT,
    REWRITE_PROMPT,
    SYSTEM_PROMPT,
    answerable_prompt,
    confirm_prompt,
    judge_messages,
    verdict_prompt,
)
from bot.rerank import relevance_messages, rerank
from bot.retrieval import Retriever
from bot.store import Passage, Store
from bot.widen import widen
from bot.words import refers_back

REWRITE_TURN_CHARS = 1000
"""Longest part of one earlier turn the follow-up rewrite sees."""
ABSTAIN_ANSWER = "The articles don't say."
"""The one fixed sentence the bot gives when its articles do not hold the answer."""

YES_NO_HINT = "\n(Begin with Yes or No, then give the reason with its passage numbers.)"
_AUX = r"(?:does|do|did|is|are|was|were|has|have|had|can|could|would|should|will)"
_YES_NO_START = re.compile(rf"^{_AUX}\b", re.IGNORECASE)
_YES_NO_AFTER_CLAUSE = re.compile(rf",\s*{_AUX}\s", re.IGNORECASE)  # "Between A and B, was ..."
_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)


def is_yes_no(question: str) -> bool:
    """'Did X...?' or 'After A and B, was there...?', but not 'Considering A, which X is...?'."""
    question = question.strip()
    if _YES_NO_START.match(question):
        return True
    return bool(_YES_NO_AFTER_CLAUSE.search(question)) and not _WH_WORD.search(question)


NAME_HINT = "\n(Begin with the name asked for.)"
_ASKS_FOR_A_NAME = re.compile(
    r"\b(?:who|whom|whose|which)\b|\bwhat (?:company|organi[sz]ation|individual|person|"
    r"platform|team|group|country|city|name)\b",
    re.IGNORECASE,
)


def answer_hint(question: str) -> str:
    """How to open the answer. Yes/no only for yes/no questions: told to every question, the
    small model says 'Yes.'. The name first for "who", "which" and "what company": asked a
    long question, it otherwise restates the question and never names anyone ("on what day"
    is not asking for a name)."""
    if is_yes_no(question):
        return YES_NO_HINT
    return NAME_HINT if _ASKS_FOR_A_NAME.search(question) else ""


@dataclass
class Citation:
    n: int
    article_id: str
    title: str
    source: str
    published: str | None
    url: str | None
    passage: str
    start: int
    end: int
    score: float

    @classmethod
    def from_passage(cls, n: int, p: Passage) -> Citation:
        return cls(
            n, p.article_id, p.title, p.source, p.published, p.url, p.text, p.start, p.end, p.score
        )


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""
    standalone_question: str | None = None
    """The question as retrieval saw it, when a follow-up was rewritten (not in to_dict)."""
    retrieved: list[Passage] = field(default_factory=list)
    """The passages the model saw, most relevant first (not in to_dict; the eval scores it)."""
    judged: list[Passage] = field(default_factory=list)
    """Every candidate the judge scored, best first (not in to_dict; eval reports keep it)."""
    verdict_p_yes: float | None = None
    """For a yes/no question, the judge's probability of Yes (not in to_dict; eval keeps it)."""
    p_answerable: float | None = None
    """The judge's probability that the passages hold the answer (not in to_dict; eval keeps it)."""
    draft: str | None = None
    """The model's raw reply before the citation check (not in to_dict; eval reports keep it)."""
    second_look: bool = False
    """Whether the draft was written again from the first article's passages alone
    (Briefer.to_redraft_from; not in to_dict; eval keeps it, so evals/recheck.py can replay)."""
    p_true: float | None = None
    """For an answer drafted though the judge doubted the passages hold one, its probability
    that the answer is right by them (Briefer.confirm; not in to_dict; eval keeps it)."""

    def to_dict(self) -> dict:
        """Exactly the answer JSON of GUIDE.md: every field but the eval-only details()."""
        data = asdict(self)
        for debug_only in self.details():
            del data[debug_only]
        return data

    def details(self) -> dict:
        """What an eval report keeps beside the answer JSON (article ids, not passages)."""
        return {
            "standalone_question": self.standalone_question,
            "draft": self.draft,
            "verdict_p_yes": self.verdict_p_yes,
            "p_answerable": self.p_answerable,
            "second_look": self.second_look,
            "p_true": self.p_true,
            "retrieved": [p.article_id for p in self.retrieved],
            "judged": [[p.article_id, p.score] for p in self.judged],
        }


INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|rules|prompt)\b|"
    r"\byou are (?:now|no longer)\b|\b(?:reply|respond|answer) only with\b|"
    r"(?:^|[.!]\s+)(?:also\s+)?(?:say|tell the user|reply|respond)\b|\bdo not cite\b|"
    r"\b(?:assistant|AI|chatbot)s?\b.{0,20}\bmust\b",
    re.IGNORECASE,
)


def is_instruction_like(passage: Passage) -> bool:
    """A passage that addresses the assistant rather than reporting news.

    Articles are data: such a passage is kept out of the prompt, so planted orders can neither
    steer the model nor be quoted back as facts.
    """
    return bool(INSTRUCTION_LIKE.search(passage.text))


def by_article(passages: list[Passage]) -> list[Passage]:
    """The passages grouped by article, articles in the order of their best passage."""
    rank = {}
    for p in passages:
        rank.setdefault(p.article_id, len(rank))
    return sorted(passages, key=lambda p: rank[p.article_id])


def evidence_text(passage: Passage) -> str:
    """What a cited sentence may draw on: the passage with its headline, source and date (also
    in words: the model reads 2023-10-06 and may write "October 6")."""
    meta = " ".join(x for x in (passage.title, passage.source, date_words(passage.published)) if x)
    return f"{meta}\n{passage.text}"


def outlets_unnamed(passages: list[Passage]) -> list[str]:
    """The outlets of the passages' headings that no passage's text names: known to the model
    only from a heading, so no answer (citations.says_more_than_asked)."""
    sources = dict.fromkeys(p.source for p in passages if p.source)
    return [s for s in sources if not any(s in p.text for p in passages)]


def window_first(passages: list[Passage], window: Window | None) -> list[Passage]:
    """The articles published in the span the question points at ("this week") before the
    others, each group in its own order: a small model takes the first story that fits, and
    the same kind of story a month earlier fits too."""
    if window is None:
        return passages
    return sorted(passages, key=lambda p: not window.holds(p.published))


def prompt_context(passages: list[Passage], window: Window | None, as_of: dt.date) -> str:
    """The part of the prompt before the question: the day it is asked (when the question
    counts from it), then the passages. The answer and the support checks share it, so the
    model reads it once."""
    today = f"Today is {as_of:%A, %d %B %Y}.\n\n" if window else ""
    return f"{today}Passages:\n\n{format_passages(passages, window)}\n\n"


def format_passages(passages: list[Passage], window: Window | None = None) -> str:
    """Numbered passages under their article's headline, source and date, as the model sees
    them. Passages of one article share one heading: a source repeated above every passage
    is taken for the answer to "which outlet reported...?", and costs prompt time. An article
    inside the span the question points at says so in the question's words (within "this
    week"): the small model does not count days from a date."""
    blocks = []
    for n, p in enumerate(passages, 1):
        if n == 1 or passages[n - 2].article_id != p.article_id:
            meta = heading_note(p, window)
            blocks.append(f'Article: "{p.title}"' + (f" ({meta})" if meta else ""))
        blocks.append(f"[{n}] {p.text}")
    return "\n".join(blocks)


def heading_note(passage: Passage, window: Window | None) -> str:
    """What a passage's heading says besides its title: 'TechCrunch, 2023-12-07, within "this
    week"'."""
    inside = window is not None and window.holds(passage.published)
    when = f'within "{window.phrase}"' if inside else ""
    return ", ".join(x for x in (passage.source, passage.published, when) if x)


def without_heading_notes(draft: str, passages: list[Passage], window: Window | None) -> str:
    """The draft less the headings' notes it copied: '... raised $65M (TechCrunch, 2023-12-07,
    within "this week") [1].' The prompt's labels are not news, and a reader takes "within
    'this week'" for the bot's own claim."""
    for note in {heading_note(p, window) for p in passages} - {""}:
        draft = draft.replace(f" ({note})", "").replace(f"({note})", "")
    return draft


def from_another_time(found: Sequence[Passage | Citation], window: Window | None) -> bool:
    """Whether a question about a span of days ("this week", "on Tuesday", "yesterday") is
    left with passages, or an answer with citations, all published outside it: they tell
    another week's story (another closure of the same harbour, last year's final), so the bot
    abstains. Undated ones may be from the span; "recently" names no span to be outside of."""
    if window is None or not window.strict:
        return False
    return not any(window.may_hold(p.published) for p in found)


def other_days(passages: list[Passage], window: Window) -> str:
    """Why the bot abstains on a question about a span its articles are not from, so the
    reader can ask again as of another day: " None of the articles found is from this week;
    the latest is from 4 March 2024." (no citation: nothing is claimed from them)."""
    span, day = _span_words(window), _latest_day(passages)
    return f" None of the articles found is from {span}; the latest is from {day}."


def answer_from_other_days(citations: list[Citation], window: Window) -> str:
    """Why the bot abstains when the span's articles were found but the drafted answer rests
    only on older ones (" The only answer found is from 4 March 2024, not from this week.")."""
    day, span = _latest_day(citations), _span_words(window)
    return f" The only answer found is from {day}, not from {span}."


def _latest_day(found: Sequence[Passage | Citation]) -> str:
    """The newest publication day among them, spoken ("4 March 2024"); some are dated."""
    return spoken_day(max(day for p in found if (day := parse_day(p.published))))


def _span_words(window: Window) -> str:
    """The question's phrase for its span, to follow "from" or "not": "on Tuesday" becomes
    "Tuesday", "over the weekend" "the weekend", "This week" opening a question "this week"."""
    phrase = re.sub(r"^(?:on|in|over|during|at) ", "", window.phrase, flags=re.IGNORECASE)
    if phrase.split()[0].lower() not in WEEKDAYS:
        phrase = phrase[0].lower() + phrase[1:]
    return phrase


def without_span(question: str, window: Window | None) -> str:
    """The question as the model drafts it: without a span the code holds it to ("this week",
    "on Tuesday"). Asked "How many boats sailed in the regatta this week?", the default model
    answered "The articles don't say." from "Forty boats sailed ... on Sunday", dated within the
    week, and answered the question without the phrase. The code keeps the span: its articles
    come first, labelled, and an answer from outside it is withheld (from_another_time). A
    vague span ("recently") is not enforced, so its word stays; "this week's race" too."""
    if window is None or not window.strict:
        return question
    found = re.search(rf",?\s*\b{re.escape(window.phrase)}\b(?![’']s)\s*,?", question)
    if not found:
        return question
    rest = f"{question[: found.start()]} {question[found.end() :]}".strip()
    rest = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", rest))
    return rest[:1].upper() + rest[1:]


def hold_to_span(answer: Answer, window: Window) -> None:
    """An answer to a question about a span ("this week") ends with the day its first source
    reported it; one resting only on articles from outside the span is withheld, saying when
    its source is from (the week's articles were found, but the answer came from March's)."""
    if from_another_time(answer.citations, window):
        answer.answer = ABSTAIN_ANSWER + answer_from_other_days(answer.citations, window)
        answer.abstained, answer.citations = True, []
    else:
        answer.answer += report_date(answer.citations[0])


def report_date(citation: Citation) -> str:
    """For a question counting from the day asked ("this week"), the day the answer's first
    source reported it, so the reader sees whether that is the week meant. Written by code from
    the citation: asked in the prompt to give the date, the model declined to answer."""
    day = parse_day(citation.published)
    return f" This was reported on {spoken_day(day)} [{citation.n}]." if day else ""


def _written(chain: Runnable[dict, str], prompt: dict) -> Generator[str, None, str]:
    """Yield the chain's text as it arrives; return all of it."""
    draft = []
    for chunk in chain.stream(prompt):
        draft.append(chunk)
        yield chunk
    return "".join(draft)


class Briefer:
    """Answers questions from the indexed articles. One instance holds the loaded models."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        chat_model: BaseChatModel | None = None,
        judge: Judge | None = None,
    ):
        self.settings = settings
        self.store = store or Store(settings)
        self.retriever = Retriever(self.store, settings)
        embed(["warm up"])  # load MiniLM now, so retrieve_s times retrieval, not start-up
        citations.entity_recogniser()  # and the citation check's, not in the first answer
        self.chat_model = chat_model or load_chat_model(settings)
        self.gate = model_gate()  # every path into the model takes it: see bot.gate
        self.judge: Judge = judge or judge_for(self.chat_model, self.gate)
        if isinstance(self.judge, LlamaJudge):
            self.judge.prime(judge_messages(""))
        self.count_tokens = token_counter(self.chat_model)
        self.model = model_name(settings)
        self.answer_chain = ANSWER_PROMPT | self.chat_model | StrOutputParser()
        self.redraft_chain = REDRAFT_PROMPT | self.chat_model | StrOutputParser()
        self.rewrite_chain = REWRITE_PROMPT | self.chat_model | StrOutputParser()

    def ask(
        self, question: str, history: list[dict] | None = None, as_of: dt.date | None = None
    ) -> Answer:
        """The finished answer (see stream for the token-by-token version)."""
        for event in self.stream(question, history, as_of):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream() always ends with an Answer")

    def as_runnable(self) -> Runnable[dict, dict]:
        """The whole chain as a LangChain Runnable (README: "From LangChain code").

        Input: {"question": str, "history": [{"role", "content"}, ...], "as_of": a date or
        "YYYY-MM-DD", "details": bool}, all but the question optional. invoke and batch return
        the answer JSON of GUIDE.md; stream yields {"draft": text} as the model writes, then
        the answer JSON (the checked answer, which may differ from the draft). With "details",
        the answer JSON also holds Answer.details() under "details".
        """
        # One model answers one question at a time (its lock), so batch asks them in turn.
        return RunnableLambda(self._run, name="Briefer").with_config(max_concurrency=1)

    def _run(self, inputs: dict | str) -> Iterator[dict]:
        inputs = {"question": inputs} if isinstance(inputs, str) else inputs
        as_of = inputs.get("as_of")
        if isinstance(as_of, str):
            try:
                as_of = dt.date.fromisoformat(as_of)
            except ValueError:
                raise QuestionError(f"as_of {as_of!r} is not a date (YYYY-MM-DD)") from None
        question = inputs.get("question") or ""
        for event in self.stream(question, inputs.get("history"), as_of):
            if isinstance(event, Answer):
                data = event.to_dict()
                yield data | {"details": event.details()} if inputs.get("details") else data
            elif event:
                yield {"draft": event}

    def stream(
        self, question: str, history: list[dict] | None = None, as_of: dt.date | None = None
    ) -> Iterator[str | Answer]:
        """Yield the model's text as it arrives, then the checked Answer.

        The streamed text is the model's raw draft (a decline the judge overrules is followed
        by a blank line and the second draft); the Answer is what to show in the end:
        citations are verified and renumbered, and an unsupported draft becomes an abstention.
        as_of is the day the question is asked (default: settings.as_of, else today).
        A question that is empty or too long raises QuestionError before the model is used.
        """
        question = clean_question(question, self.settings)

        def events() -> Iterator[str | Answer]:
            return server_errors(self.settings, self._stream(question, history, as_of))

        yield from gated(self.gate, events)

    def _stream(
        self, question: str, history: list[dict] | None, as_of: dt.date | None
    ) -> Iterator[str | Answer]:
        as_of = as_of or self.settings.as_of or dt.date.today()
        started = time.perf_counter()
        standalone = self.standalone_question(question, history or [])
        judged = self.candidates(standalone, as_of)
        passages = self.relevant(judged)
        timings = {"retrieve_s": time.perf_counter() - started}
        answer = Answer(question, ABSTAIN_ANSWER, True, [], timings, self.model)
        answer.retrieved, answer.judged = passages, judged
        if standalone != question:
            answer.standalone_question = standalone
        if passages:
            for chunk in self._answer_from(answer, standalone, passages, as_of):
                timings.setdefault("first_token_s", time.perf_counter() - started)
                yield chunk
        timings.setdefault("first_token_s", time.perf_counter() - started)
        timings["total_s"] = time.perf_counter() - started
        answer.timings = {k: round(v, 3) for k, v in timings.items()}
        yield answer

    def _answer_from(
        self, answer: Answer, question: str, passages: list[Passage], as_of: dt.date
    ) -> Iterator[str]:
        """Fill in the answer from the passages found, yielding the drafts as they are written:
        none when the passages are from another time or the judge says they do not hold the
        answer (steps 3 and 5 of the README); a second draft where to_redraft_from says."""
        window = relative_window(question, as_of)
        hint = answer_hint(question)
        ordered = window_first(by_article(passages), window)
        passages = self.fitting(ordered, question + hint, as_of, window)
        context = prompt_context(passages, window, as_of)
        if from_another_time(passages, window):
            answer.answer += other_days(passages, window)
            return
        if not self.holds_answer(answer, context, question):
            return
        asked = without_span(question, window)
        on_topic = self.judged_alone(asked, passages)
        prompt = {"context": context, "question": asked, "hint": hint}
        answer.draft = yield from _written(self.answer_chain, prompt)
        again = self.to_redraft_from(answer, asked, passages, on_topic)
        if again and again != passages:
            answer.second_look = True
            passages, on_topic = again, self.judged_alone(asked, again)
            context = prompt_context(passages, window, as_of)
            prompt = {"context": context, "question": asked, "hint": hint}
        if again:
            yield "\n\n"  # the page shows the second draft below the decline
            answer.draft = yield from _written(self.redraft_chain, prompt)
        self.check_draft(answer, passages, question, window, context, on_topic)

    def holds_answer(self, answer: Answer, context: str, question: str) -> bool:
        """Whether the judge thinks the passages shown may hold the answer: a draft is written
        at settings.answerable_floor, and one under settings.min_answerable must be confirmed
        (Briefer.confirm). Look-alike passages (another trial, another week) are where a small
        model invents an answer; measured with `briefing eval --hide-gold` (README, Evals)."""
        if not self.settings.min_answerable:
            return True
        answer.p_answerable = self.judge.p_yes(judge_messages(answerable_prompt(context, question)))
        floor = min(self.settings.answerable_floor, self.settings.min_answerable)
        return answer.p_answerable >= floor

    def doubted(self, answer: Answer) -> bool:
        """Whether the judge leaned No on the passages holding the answer (under
        settings.min_answerable) but not so far that nothing was drafted."""
        p = answer.p_answerable
        return p is not None and p < self.settings.min_answerable

    def confirm(self, answer: Answer, context: str, question: str) -> None:
        """A doubted answer stands only when the judge, reading it after the same passages
        (in llama.cpp's cache), says it is right by them (settings.min_true); otherwise it is
        the abstention. Asked before drafting, the judge cannot tell "the passages say No" or
        "the passage that answers is among look-alikes" from "nothing here answers it"; shown
        the checked answer, it got 8 such answers right on the tuned sets but let 2 look-alikes
        through, so it is off by default (evals/RESULTS.md, twenty-second session)."""
        claim = citations.MARKER.sub("", answer.answer)
        answer.p_true = self.judge.p_yes(judge_messages(confirm_prompt(context, question, claim)))
        if answer.p_true < self.settings.min_true:
            answer.answer, answer.abstained, answer.citations = ABSTAIN_ANSWER, True, []

    def to_redraft_from(
        self,
        answer: Answer,
        question: str,
        passages: list[Passage],
        on_topic: citations.OnTopic,
    ) -> list[Passage]:
        """The passages to write a draft that only declines again from; none to let it stand
        (or for a draft that answers). All of them when the judge says they hold the answer
        (declined_though_answerable). Else, when they come from several articles, the first
        article's alone: among several stories the default model declined questions that the
        first one answers, and shown that story alone it answered them (evals/RESULTS.md:
        seventeenth session). From one article, a second draft would only loosen the rules,
        which then also answer what the passages do not hold. The second draft is checked
        like the first, against the passages it was written from."""
        if not citations.says_abstain(answer.draft or "", yes_no_question=is_yes_no(question)):
            return []
        if self.declined_though_answerable(answer, question, on_topic):
            return passages
        first = [p for p in passages if p.article_id == passages[0].article_id]
        return first if len(first) < len(passages) else []

    def declined_though_answerable(
        self, answer: Answer, question: str, on_topic: citations.OnTopic
    ) -> bool:
        """Whether a draft that only declines ("The articles don't say.") does so though the
        judge was confident the passages hold the answer (settings.overrule_decline), or says
        of one passage shown that it holds the answer (settings.min_judged_relevance, asked of
        each passage alone as the reranker asks it): then it is written again from them all
        under rules that do not dictate the decline (prompts.REDRAFT_PROMPT). Read alone, the
        passage that answers stands out where, among the others, the judge wavered
        (evals/RESULTS.md)."""
        if (answer.p_answerable or 0.0) >= self.settings.overrule_decline:
            return True
        return on_topic()

    def judged_alone(
        self, question: str, passages: list[Passage], judge: Judge | None = None
    ) -> citations.OnTopic:
        """one_passage_answers for these passages, asked at most once: the redraft check and
        the name check (citations.names_known) share the answer. judge: another than the
        Briefer's own (evals/recheck.py --judge, which replays with a saved one)."""
        ask = functools.partial(self.one_passage_answers, question, passages, judge)
        return functools.cache(ask)

    def one_passage_answers(
        self, question: str, passages: list[Passage], judge: Judge | None = None
    ) -> bool:
        """Whether the judge, asked of each passage alone as the reranker asks it, says one
        holds the answer (settings.min_judged_relevance). One forward pass a passage."""
        judge, bar = judge or self.judge, self.settings.min_judged_relevance
        return any(judge.p_yes(relevance_messages(question, p)) >= bar for p in passages)

    def fitting(
        self, passages: list[Passage], question: str, as_of: dt.date, window: Window | None
    ) -> list[Passage]:
        """The passages that fit the model's context beside the question: the last ones are
        left out rather than overflowing it (long passages, a small context)."""

        def prompt(kept: list[Passage]) -> str:
            return SYSTEM_PROMPT + prompt_context(kept, window, as_of) + question

        budget = prompt_budget(self.settings)
        kept = fit(passages, prompt, self.count_tokens, budget)
        if kept:
            return kept
        if self.count_tokens(prompt([])) > budget:  # BRIEFING_MAX_QUESTION_CHARS beyond it
            raise QuestionError("the question is too long for the model's context: shorten it")
        first = passages[0]  # longer than the whole context: its beginning, halved until it fits
        while self.count_tokens(prompt([first])) > budget:
            half = len(first.text) // 2
            first = dataclasses.replace(first, text=first.text[:half], end=first.start + half)
        return [first]

    def relevant_passages(self, question: str, as_of: dt.date | None = None) -> list[Passage]:
        """The passages the model will see for the question, best first; none when nothing
        clears the relevance floor (then the bot abstains without drafting)."""
        return self.relevant(self.candidates(question, as_of))

    def candidates(self, question: str, as_of: dt.date | None) -> list[Passage]:
        """The fused retrieval candidates; with BRIEFING_RERANK, reranked and scored by the
        judge (whose probability of Yes replaces the cosine as each passage's score)."""
        settings = self.settings
        n = settings.judged_candidates if settings.rerank else settings.top_k
        candidates = self.retriever.retrieve(question, n, as_of)
        candidates = [p for p in candidates if not is_instruction_like(p)]
        return rerank(self.judge, question, candidates, as_of) if settings.rerank else candidates

    def relevant(self, candidates: list[Passage]) -> list[Passage]:
        """The top_k candidates when the best clears the floor (the judge's probability with
        the reranker, the cosine without: only a question nothing resembles falls below),
        less those far less similar than the best (settings.relative_relevance), each widened
        by the sentences around it (bot.widen)."""
        settings = self.settings
        if settings.rerank:
            kept = [p for p in candidates if p.score >= settings.min_judged_relevance]
        elif candidates and (best := max(p.score for p in candidates)) >= settings.min_relevance:
            kept = [p for p in candidates if p.score >= settings.relative_relevance * best]
        else:
            kept = []
        return widen(kept[: settings.top_k], self._article_text, settings.context_chars)

    def _article_text(self, article_id: str) -> str | None:
        found = self.store.article_text(article_id)
        return found[1] if found else None

    def standalone_question(self, question: str, history: list[dict]) -> str:
        """A follow-up rewritten to stand alone, using the conversation; else the question.
        A question that refers back to nothing ("Who captured Homs?") is not sent to the
        model: the rewrite would take seconds of the answer's wait to return it unchanged."""
        turns = [t for t in history if t.get("role") in ("user", "assistant") and t.get("content")]
        if not turns or not refers_back(question):
            return question
        # The last turns that fit the context, each cut short: a long answer is not needed
        # to resolve "they" or "it".
        lines = [f"{t['role']}: {str(t['content'])[:REWRITE_TURN_CHARS]}" for t in turns[-4:]]
        budget = prompt_budget(self.settings) - self.count_tokens(question)
        lines = fit(lines[::-1], "\n".join, self.count_tokens, budget)[::-1]
        transcript = "\n".join(lines)
        rewritten = self.rewrite_chain.invoke({"history": transcript, "question": question})
        rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten else ""
        return rewritten or question

    def check_draft(
        self,
        answer: Answer,
        passages: list[Passage],
        question: str,
        window: Window | None,
        context: str,
        on_topic: citations.OnTopic | None = None,
    ) -> None:
        """Fill in the answer from its draft: citations checked against the question as the
        model drafted it (without_span), then held to the question's span (hold_to_span).
        on_topic is judged_alone's for the same question and passages, when the redraft check
        already made it. evals/recheck.py replays saved drafts through this too."""
        asked = without_span(question, window)
        on_topic = on_topic or self.judged_alone(asked, passages)
        draft = without_heading_notes(answer.draft or "", passages, window)
        self._attach(answer, draft, passages, asked, context, on_topic)
        if window and not answer.abstained:
            hold_to_span(answer, window)
        if self.doubted(answer) and not answer.abstained:
            self.confirm(answer, context, asked)

    def _attach(
        self,
        answer: Answer,
        draft: str,
        passages: list[Passage],
        question: str,
        context: str,
        on_topic: citations.OnTopic,
    ) -> None:
        """Fill in the answer from the draft, or leave the abstention when nothing is supported."""
        if citations.says_abstain(draft, yes_no_question=is_yes_no(question)):
            return

        def verdict_p_yes() -> float:
            """The judge answers the yes/no question from the answer prompt's own passages
            (already in llama.cpp's cache, so only the question is read again)."""
            messages = judge_messages(verdict_prompt(context, question))
            answer.verdict_p_yes = self.judge.p_yes(messages)
            return answer.verdict_p_yes

        evidence = [evidence_text(p) for p in passages]
        verdict = verdict_p_yes if is_yes_no(question) else None
        outlets = outlets_unnamed(passages)
        sentences = citations.check_answer(draft, evidence, question, verdict, on_topic, outlets)
        order = list(dict.fromkeys(i for s in sentences for i in s.passages))
        if not order:
            return
        answer.answer = citations.render(sentences, order)
        answer.abstained = False
        answer.citations = [Citation.from_passage(n, passages[i]) for n, i in enumerate(order, 1)]
