"""Found passages widened by the sentences around them, on the real index."""

import datetime as dt

from langchain_core.language_models import FakeListChatModel

from bot.answer import Briefer
from bot.ingest import ingest_paths
from bot.store import Passage, Store
from bot.widen import widen
from tests.judges import SureJudge

TEXT = (
    "Alpha opens the story. Beta comes second. Gamma is the hit. "
    "Delta comes after it. Epsilon ends the story."
)


def found(sentence: str, score: float = 0.5) -> Passage:
    start = TEXT.index(sentence)
    return Passage("a", "T", "S", None, None, sentence, start, start + len(sentence), score)


def texts(passages: list[Passage]) -> list[str]:
    return [p.text for p in passages]


def test_a_passage_grows_by_whole_sentences_on_both_sides_up_to_the_size():
    hit = found("Gamma is the hit.")
    assert texts(widen([hit], lambda _: TEXT, 0)) == ["Gamma is the hit."]
    assert texts(widen([hit], lambda _: TEXT, 30)) == ["Gamma is the hit."]
    assert texts(widen([hit], lambda _: TEXT, 40)) == ["Beta comes second. Gamma is the hit."]
    assert texts(widen([hit], lambda _: TEXT, 60)) == [
        "Beta comes second. Gamma is the hit. Delta comes after it."
    ]
    [whole] = widen([hit], lambda _: TEXT, 1000)
    assert (whole.text, whole.start, whole.end) == (TEXT, 0, len(TEXT))


def test_passages_that_meet_once_widened_merge_where_the_better_stood():
    best, other = found("Epsilon ends the story.", 0.9), found("Gamma is the hit.", 0.4)
    [merged] = widen([best, other], lambda _: TEXT, 45)
    assert merged.text == TEXT[TEXT.index("Beta") :]
    assert merged.score == 0.9
    assert texts(widen([best, other], lambda _: TEXT, 20)) == [best.text, other.text]


def test_a_passage_bridging_two_others_joins_all_three_into_one():
    """Widened, "Three" reaches the first passage and the second: one passage, no sentence
    shown twice, standing where the best stood."""
    text = "One a. Two b. Three c. Four d. Five e. Six f. Seven g."

    def at(sentence: str, score: float) -> Passage:
        start = text.index(sentence)
        return Passage("a", "T", "S", None, None, sentence, start, start + len(sentence), score)

    passages = [at("One a.", 0.9), at("Five e.", 0.8), at("Three c.", 0.5)]
    [merged] = widen(passages, lambda _: text, 15)
    assert (merged.text, merged.score) == ("One a. Two b. Three c. Four d. Five e.", 0.9)
    assert text[merged.start : merged.end] == merged.text
    other = Passage("b", "T", "S", None, None, "Other.", 0, 6, 0.95)
    assert texts(widen([other, *passages], lambda i: text if i == "a" else "Other.", 15)) == [
        "Other.",
        "One a. Two b. Three c. Four d. Five e.",
    ]


def test_a_passage_whose_article_is_gone_or_changed_stays_as_found():
    hit = found("Gamma is the hit.")
    assert widen([hit], lambda _: None, 200) == [hit]
    assert widen([hit], lambda _: "Another text altogether, longer than before.", 200) == [hit]


def test_the_model_sees_who_the_found_sentence_is_about_and_the_citation_quotes_it(
    make_settings, tmp_path
):
    """The found sentence says only "He"; the one before names him. Widened, the model reads
    the name, the cited passage holds it, and its offsets still point into the article."""
    article = (
        "Parliament met late on Monday in the capital. "
        "Finance minister Aldo Ruiz defended the budget for two hours before the vote. "
        "He resigned on Monday evening after losing it by four votes."
    )
    (tmp_path / "budget.md").write_text(
        f'---\ntitle: "Budget vote"\npublished: "2024-03-04"\n---\n{article}'
    )
    reply = "Finance minister Aldo Ruiz resigned on Monday evening [1]."
    settings = make_settings(passage_chars=80, top_k=1, context_chars=0)
    store = Store(settings)
    ingest_paths([tmp_path], settings, store=store)
    question = "Who resigned on Monday evening?"

    def ask(context_chars: int):
        wide = settings.model_copy(update={"context_chars": context_chars})
        model = FakeListChatModel(responses=[reply])
        briefer = Briefer(wide, store=store, chat_model=model, judge=SureJudge())
        return briefer.ask(question, as_of=dt.date(2024, 3, 5))  # "on Monday": the day before

    narrow = ask(0)
    assert narrow.abstained  # the found passage alone never names him
    answer = ask(300)
    assert not answer.abstained
    [citation] = answer.citations
    assert "Aldo Ruiz" in citation.passage and "He resigned" in citation.passage
    assert article[citation.start : citation.end] == citation.passage
