"""The chain on the real index: a scripted model where the test is about citations, SmolLM2 else."""

import pytest
from langchain_core.language_models import FakeListChatModel

from bot.answer import ABSTAIN_ANSWER, Answer, Briefer, is_yes_no
from bot.config import SAMPLE_CORPUS
from bot.errors import QuestionError
from bot.sources import load_paths

ANSWER_KEYS = {"question", "answer", "abstained", "citations", "timings", "model"}
CITATION_KEYS = {
    "n", "article_id", "title", "source", "published", "url", "passage", "start", "end", "score",
}  # fmt: skip


def scripted(*replies: str) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies))


def assert_citations_are_real(answer: Answer) -> None:
    """Every citation quotes the article exactly where its offsets say."""
    text = load_paths([SAMPLE_CORPUS])[0].text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.article_id == "homs-falls"
        assert text[c.start : c.end] == c.passage


def test_markers_become_citations_and_bad_markers_vanish(default_settings, sample_store):
    reply = "Eight countries including Qatar and Russia issued a joint statement [9]."
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply))
    answer = briefer.ask("Who issued the joint statement?")
    assert not answer.abstained
    assert answer.answer.endswith("[1].") and "[9]" not in answer.answer
    [citation] = answer.citations
    assert "joint statement" in citation.passage
    assert_citations_are_real(answer)
    data = answer.to_dict()
    assert set(data) == ANSWER_KEYS and set(data["citations"][0]) == CITATION_KEYS
    assert set(data["timings"]) == {"retrieve_s", "first_token_s", "total_s"}


def test_an_unsupported_reply_becomes_an_abstention(default_settings, sample_store):
    reply = "The Eiffel Tower is in Paris and was built in 1889 [1]."
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply))
    answer = briefer.ask("Where is the Eiffel Tower?")
    assert (answer.answer, answer.abstained, answer.citations) == (ABSTAIN_ANSWER, True, [])


def test_the_model_saying_so_is_an_abstention(default_settings, sample_store):
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(ABSTAIN_ANSWER))
    answer = briefer.ask("How many people live in Homs?")
    assert answer.abstained and answer.citations == []


def test_a_follow_up_is_rewritten_before_retrieval(default_settings, sample_store):
    model = scripted(
        "Who is the leader of Tahrir al-Sham?",
        "Abu Mohammed al-Golani is the leader of Tahrir al-Sham [1].",
    )
    briefer = Briefer(default_settings, store=sample_store, chat_model=model)
    history = [
        {"role": "user", "content": "Which group leads the rebels?"},
        {"role": "assistant", "content": "Tahrir al-Sham [1]."},
    ]
    answer = briefer.ask("and who leads them?", history)
    assert answer.standalone_question == "Who is the leader of Tahrir al-Sham?"
    assert "Golani" in answer.citations[0].passage
    assert_citations_are_real(answer)


def test_an_empty_question_is_refused(default_settings, sample_store):
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted("x"))
    with pytest.raises(QuestionError, match="empty"):
        briefer.ask("   ")


def test_the_tiny_real_model_streams_and_never_invents_citations(
    tiny_settings, tiny_model, sample_store
):
    briefer = Briefer(tiny_settings, store=sample_store, chat_model=tiny_model)
    events = list(briefer.stream("Who issued the joint statement?"))
    chunks, final = events[:-1], events[-1]
    assert isinstance(final, Answer) and chunks and all(isinstance(c, str) for c in chunks)
    assert final.abstained == (final.citations == [])
    assert_citations_are_real(final)
    assert final.timings["first_token_s"] <= final.timings["total_s"]


def test_a_no_that_says_something_is_not_mentioned_still_answers_a_yes_no_question(
    default_settings, sample_store
):
    reply = (
        "No. The nations have not agreed on any concrete steps to thwart more chaos [1], "
        "and the article does not mention a plan."
    )
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply))
    answer = briefer.ask("Have the nations agreed on concrete steps to stop the chaos?")
    assert not answer.abstained and answer.answer.startswith("No")
    assert "concrete steps" in answer.citations[0].passage
    dodge = "No. The articles do not mention whether Homs has a new mayor."
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(dodge))
    assert briefer.ask("Does Homs have a new mayor?").abstained  # nothing supported: abstains


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Did the rebels take Homs?", True),
        ("Between the Verge report on May 1 and the Wired one, was there a change in tone?", True),
        ("Considering the BBC and CNN reports, which minister, known for reform, won?", False),
        ("Who issued the joint statement?", False),
    ],
)
def test_yes_no_questions_are_told_apart(question, yes_no):
    assert is_yes_no(question) is yes_no
