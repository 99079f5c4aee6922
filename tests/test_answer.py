"""The chain on the real index: a scripted model where the test is about citations, SmolLM2 else."""

import pytest
from langchain_core.language_models import FakeListChatModel

from bot.answer import (
    ABSTAIN_ANSWER,
    NAME_HINT,
    YES_NO_HINT,
    Answer,
    Briefer,
    answer_hint,
    by_article,
    format_passages,
    is_yes_no,
    window_first,
)
from bot.config import SAMPLE_CORPUS
from bot.errors import QuestionError
from bot.prompts import CONFIRM_LEAD, SYSTEM_PROMPT
from bot.sources import load_paths
from bot.store import Passage
from bot.words import refers_back
from tests.judges import SureJudge

ANSWER_KEYS = {"question", "answer", "abstained", "citations", "timings", "model"}
CITATION_KEYS = {
    "n", "article_id", "title", "source", "published", "url", "passage", "start", "end", "score",
}  # fmt: skip


SURE = SureJudge()
"""For scripted replies: the passages hold the answer (a scripted model cannot judge)."""


def scripted(*replies: str) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies))


def wire_story(title: str, published: str, text: str) -> str:
    """An article file: front matter naming a wire service as the source, then the text."""
    return f"---\ntitle: {title}\nsource: Wire\npublished: {published}\n---\n{text}\n"


def briefer_over(settings, tmp_path, model, judge, **articles: str) -> Briefer:
    """A Briefer on a fresh index of the articles (file name without .md -> file text)."""
    from bot.ingest import ingest_inputs
    from bot.store import Store

    corpus = tmp_path / "news"
    corpus.mkdir()
    for name, text in articles.items():
        (corpus / f"{name}.md").write_text(text)
    store = Store(settings)
    ingest_inputs([corpus], settings, store)
    return Briefer(settings, store, model, judge)


def vell_closure(published: str, weekday: str, closure: str, port: str) -> str:
    """A closure of the Vell harbour, for questions anchored in time."""
    return wire_story(
        "Vell harbour closes", published,
        f"The Vell port authority announced on {weekday} that the harbour will close for "
        f"{closure}. Ferries to Amsel will sail from {port} instead.",
    )  # fmt: skip


VELL_MARCH = vell_closure(
    "2024-03-04", "Monday", "two weeks after a storm damaged the north pier", "Dunmore"
)


def assert_citations_are_real(answer: Answer) -> None:
    """Every citation quotes the article exactly where its offsets say."""
    text = load_paths([SAMPLE_CORPUS])[0].text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.article_id == "homs-falls"
        assert text[c.start : c.end] == c.passage


def test_markers_become_citations_and_bad_markers_vanish(default_settings, sample_store):
    reply = "Eight countries including Qatar and Russia issued a joint statement [9]."
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply), judge=SURE)
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
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply), judge=SURE)
    answer = briefer.ask("Where is the Eiffel Tower?")
    assert (answer.answer, answer.abstained, answer.citations) == (ABSTAIN_ANSWER, True, [])


def test_the_model_saying_so_is_an_abstention(default_settings, sample_store):
    briefer = Briefer(
        default_settings, store=sample_store, chat_model=scripted(ABSTAIN_ANSWER), judge=SURE
    )
    answer = briefer.ask("How many people live in Homs?")
    assert answer.abstained and answer.citations == []


def test_a_follow_up_is_rewritten_before_retrieval(default_settings, sample_store):
    model = scripted(
        "Who is the leader of Tahrir al-Sham?",
        "Abu Mohammed al-Golani is the leader of Tahrir al-Sham [1].",
    )
    briefer = Briefer(default_settings, store=sample_store, chat_model=model, judge=SURE)
    history = [
        {"role": "user", "content": "Which group leads the rebels?"},
        {"role": "assistant", "content": "Tahrir al-Sham [1]."},
    ]
    answer = briefer.ask("and who leads them?", history)
    assert answer.standalone_question == "Who is the leader of Tahrir al-Sham?"
    assert "Golani" in answer.citations[0].passage
    assert_citations_are_real(answer)


def test_a_question_that_refers_to_nothing_is_not_rewritten(default_settings, sample_store):
    # One scripted reply: were the model asked to rewrite, the rewrite would take it.
    model = scripted("Abu Mohammed al-Golani is the leader of Tahrir al-Sham [1].")
    briefer = Briefer(default_settings, store=sample_store, chat_model=model, judge=SURE)
    history = [
        {"role": "user", "content": "Which group leads the rebels?"},
        {"role": "assistant", "content": "Tahrir al-Sham [1]."},
    ]
    answer = briefer.ask("Who is the leader of Tahrir al-Sham?", history)
    assert answer.standalone_question is None
    assert not answer.abstained and "Golani" in answer.answer


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("and who leads them?", True),
        ("How far is it from Damascus?", True),
        ("What did they call for?", True),
        ("What about the United Nations?", True),
        ("Why?", True),
        ("Who won?", True),
        ("Who issued the joint statement about Homs?", False),
        ("Which city did the rebels capture on Saturday?", False),
    ],
)
def test_a_question_refers_back_through_pronouns_conjunctions_or_ellipsis(question, leans):
    assert refers_back(question) is leans


def test_an_empty_question_is_refused(default_settings, sample_store):
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted("x"), judge=SURE)
    with pytest.raises(QuestionError, match="empty"):
        briefer.ask("   ")


def system_prompt_cached(llama) -> bool:
    """Does llama.cpp's cache begin with the system prompt (after the template's opening)?"""
    system = llama.tokenize(SYSTEM_PROMPT.encode(), add_bos=False, special=False)
    cached = llama.input_ids[: llama.n_tokens].tolist()
    return any(cached[i : i + len(system)] == system for i in range(8))


def test_a_loaded_briefer_has_the_system_prompt_read(tiny_settings, tiny_model, sample_store):
    tiny_model.client.reset()
    Briefer(tiny_settings, store=sample_store, chat_model=tiny_model)
    assert system_prompt_cached(tiny_model.client)


def test_a_rewrite_leaves_the_system_prompt_read(tiny_settings, tiny_model, sample_store):
    briefer = Briefer(tiny_settings, store=sample_store, chat_model=tiny_model)
    history = [
        {"role": "user", "content": "Which group leads the rebels?"},
        {"role": "assistant", "content": "Tahrir al-Sham [1]."},
    ]
    briefer.standalone_question("and who leads them?", history)
    assert system_prompt_cached(tiny_model.client)  # the answer will not read it again


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
    default_settings, sample_store, default_judge
):
    reply = (
        "No. The nations have not agreed on any concrete steps to thwart more chaos [1], "
        "and the article does not mention a plan."
    )
    briefer = Briefer(
        default_settings, store=sample_store, chat_model=scripted(reply), judge=default_judge
    )
    answer = briefer.ask("Have the nations agreed on concrete steps to stop the chaos?")
    assert not answer.abstained and answer.answer.startswith("No")
    assert "concrete steps" in answer.citations[0].passage
    dodge = "No. The articles do not mention whether Homs has a new mayor."
    briefer = Briefer(
        default_settings, store=sample_store, chat_model=scripted(dodge), judge=default_judge
    )
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


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("Did the rebels take Homs?", YES_NO_HINT),
        ("Which company, reported by TechCrunch as X and by Wired as Y, is Z?", NAME_HINT),
        ("Who issued the joint statement?", NAME_HINT),
        ("What company is at the centre of the claims?", NAME_HINT),
        ("On what day of the week did Homs fall?", ""),
        ("Why did the army flee Homs?", ""),
    ],
)
def test_the_answer_opening_suits_the_question(question, hint):
    assert answer_hint(question) == hint


def test_a_yes_no_verdict_survives_an_unsupported_restatement(
    default_settings, sample_store, default_judge
):
    reply = (
        "Yes, there is uniformity in the coverage of deserting troops. "
        "Some soldiers changed from their uniforms into civilian clothes and joined in the "
        "demonstrations [1]."
    )
    briefer = Briefer(
        default_settings, store=sample_store, chat_model=scripted(reply), judge=default_judge
    )
    answer = briefer.ask("Did some soldiers join the demonstrations?")
    assert answer.answer.startswith("Yes. Some soldiers changed")
    assert "uniformity" not in answer.answer
    assert "joined in the demonstrations" in answer.citations[0].passage
    assert_citations_are_real(answer)


def test_a_lone_verdict_stands_only_when_the_passages_agree(
    default_settings, sample_store, default_judge
):
    import datetime as dt

    def ask(reply: str, question: str) -> Answer:
        model = scripted(reply)
        briefer = Briefer(default_settings, sample_store, model, default_judge)
        return briefer.ask(question, as_of=dt.date(2024, 12, 8))  # the day after Homs fell

    answer = ask(
        "Yes, the coverage is uniform across outlets.", "Did some soldiers join the demonstrations?"
    )
    assert answer.answer == "Yes [1]." and "soldiers" in answer.citations[0].passage
    assert ask("Yes.", "Did the zoo open a new penguin house?").abstained  # not in any passage
    answer = ask("No.", "Did the rebels capture Homs on Saturday?")
    assert answer.abstained, answer.answer  # the passage says they did: never "No [1]"


def test_a_yes_that_the_passages_deny_is_not_given(default_settings, sample_store, default_judge):
    reply = "Yes, the nations have agreed on concrete steps to stop the chaos."
    briefer = Briefer(default_settings, sample_store, scripted(reply), default_judge)
    answer = briefer.ask("Have the nations agreed on concrete steps to stop the chaos?")
    assert not answer.answer.startswith("Yes")


def test_a_yes_whose_own_reason_says_no_is_given_as_no(
    default_settings, sample_store, default_judge
):
    """seed23 at the model's own RoPE base: "Yes. The nations have not agreed ... [1]." """
    reply = "Yes, the nations have not agreed on any concrete steps to thwart more chaos [1]."
    briefer = Briefer(default_settings, sample_store, scripted(reply), default_judge)
    answer = briefer.ask("Have the nations agreed on concrete steps to stop the chaos?")
    assert answer.answer.startswith("No. The nations have not agreed"), answer.answer
    assert "not agreed" in answer.citations[0].passage


def test_passages_of_one_article_share_one_heading(sample_store):
    passages = sample_store.search("joint statement", 3)
    text = format_passages(passages)
    assert text.count('Article: "Syrian rebels capture Homs" (New York Post, 2024-12-07)') == 1
    assert [line[:3] for line in text.splitlines()[1:4]] == ["[1]", "[2]", "[3]"]


def test_a_right_bare_name_stands_though_the_passage_words_the_question_otherwise(
    default_settings, sample_store
):
    # The passage says "an Al-Qaeda affiliate", the question "Osama bin Laden's network": a
    # rule that wanted a name shared with the question threw such right answers away.
    reply = "Tahrir al-Sham [1]."
    briefer = Briefer(default_settings, store=sample_store, chat_model=scripted(reply), judge=SURE)
    answer = briefer.ask(
        "Which group, founded as an affiliate of Osama bin Laden's network, leads the rebels?"
    )
    assert answer.answer == "Tahrir al-Sham [1]." and "Tahrir" in answer.citations[0].passage


def test_passages_are_grouped_by_article_in_the_order_of_their_best_passage():
    def passage(article: str, text: str) -> Passage:
        return Passage(article, f"{article} news", "Wire", "2024-12-07", None, text, 0, len(text))

    ranked = [passage("port", "P1."), passage("storm", "S1."), passage("port", "P2.")]
    grouped = by_article(ranked)
    assert [p.text for p in grouped] == ["P1.", "P2.", "S1."]
    assert format_passages(grouped).splitlines() == [
        'Article: "port news" (Wire, 2024-12-07)',
        "[1] P1.",
        "[2] P2.",
        'Article: "storm news" (Wire, 2024-12-07)',
        "[3] S1.",
    ]


def test_articles_inside_the_span_the_question_names_come_first_and_say_so():
    """ "This week" is counted by code, not by the small model: the week's article heads the
    prompt, labelled in the question's words; the month-old look-alike follows, unlabelled."""
    import datetime as dt

    from bot.dates import relative_window

    def passage(article: str, published: str) -> Passage:
        return Passage(article, f"{article} news", "Wire", published, None, "Text.", 0, 5)

    ranked = [passage("march", "2024-03-04"), passage("june", "2024-06-11")]
    window = relative_window("Where do ferries sail from this week?", dt.date(2024, 6, 12))
    ordered = window_first(ranked, window)
    assert [p.article_id for p in ordered] == ["june", "march"]
    assert format_passages(ordered, window).splitlines()[::2] == [
        'Article: "june news" (Wire, 2024-06-11, within "this week")',
        'Article: "march news" (Wire, 2024-03-04)',
    ]
    assert window_first(ranked, None) == ranked


def test_a_question_about_this_week_is_answered_from_this_weeks_story(
    make_settings, default_model, default_judge, tmp_path
):
    """Two closures of one harbour, three months apart. Asked the day after the second, the
    default model used to answer from the first (Dunmore), the look-alike it saw first."""
    import datetime as dt

    june = vell_closure(
        "2024-06-11", "Tuesday", "three days while divers repair the south breakwater", "Carrow"
    )
    stories = {"vell-march": VELL_MARCH, "vell-june": june}
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, **stories)
    question = "Where will ferries to Amsel sail from this week?"
    answer = briefer.ask(question, as_of=dt.date(2024, 6, 12))
    assert "Carrow" in answer.answer and "Dunmore" not in answer.answer, answer.draft
    assert {c.article_id for c in answer.citations} == {"vell-june"}
    assert answer.answer.endswith("This was reported on 11 June 2024 [1].")


def test_passages_far_less_similar_than_the_best_are_not_shown(
    make_settings, sample_store, default_judge
):
    """A short question has one passage that answers it and, beside it, four weak ones: the
    small model declined with the answer in front of it, and read every weak one first."""
    question = "Who issued the joint statement?"
    settings = make_settings()
    shown = Briefer(settings, sample_store, scripted("x"), default_judge).relevant_passages(
        question
    )
    everything = Briefer(
        make_settings(relative_relevance=0.0), sample_store, scripted("x"), default_judge
    ).relevant_passages(question)
    assert len(everything) == settings.top_k and 0 < len(shown) < len(everything)
    best = max(p.score for p in everything)
    assert shown[0].score == best
    assert all(p.score >= settings.relative_relevance * best for p in shown)
    assert any(p.score < settings.relative_relevance * best for p in everything)


def test_the_reranker_scores_the_passage_holding_the_answer_first(
    make_settings, sample_store, default_judge
):
    settings = make_settings(rerank=True)
    briefer = Briefer(settings, sample_store, scripted("x"), default_judge)
    [best, *_] = briefer.relevant_passages("Who issued the joint statement?")
    assert "joint statement" in best.text and best.score >= settings.min_judged_relevance
    assert briefer.relevant_passages("Who won the 2022 World Cup final in Qatar?") == []


def test_a_question_counting_from_today_is_told_the_day_and_given_the_report_date(
    default_settings, sample_store, default_judge
):
    import datetime as dt

    model = scripted("Syrian rebels captured Homs on Saturday, 2024-12-07 [1].")
    briefer = Briefer(default_settings, sample_store, model, default_judge)
    answer = briefer.ask("What did the rebels capture this week?", as_of=dt.date(2024, 12, 8))
    assert not answer.abstained and answer.citations[0].published == "2024-12-07"
    assert answer.answer.endswith("This was reported on 7 December 2024 [1].")
    assert answer.retrieved  # the article of that week is found, not hidden as "later"
    later = briefer.ask("What did the rebels capture this week?", as_of=dt.date(2024, 12, 1))
    assert later.abstained  # asked before the article existed: nothing to answer from


def test_a_sentence_may_give_the_articles_date_in_words():
    """The model reads "(TechCrunch, 2023-10-06)" above a passage and writes "October 6": the
    date is no name the passages lack, so the sentence stands, cited."""
    from bot.answer import evidence_text
    from bot.citations import check_sentences

    text = "The central bank raised its main rate by half a point."
    passage = Passage("rates", "Rates up", "TechCrunch", "2023-10-06", None, text, 0, len(text))
    reply = "On October 6, TechCrunch reported that the central bank raised its rate [1]."
    [sentence] = check_sentences(reply, [evidence_text(passage)])
    assert sentence.passages == (0,)


def test_a_question_about_another_award_show_is_not_answered_from_this_one(
    make_settings, default_model, default_judge, tmp_path
):
    """Asked about the Orion Awards with only the Lumen Awards indexed, the default model
    answered "Anna Berg won best actress at the Lumen Awards [1]": a supported sentence, so the
    citation check let it through. The judge, asked whether the passages hold the answer at
    all, says no before anything is drafted."""
    lumen = wire_story(
        "Lumen Awards night", "2024-03-10",
        "Anna Berg won best actress at the Lumen Awards in Vell on Sunday for her role in Salt "
        "Roads. The best film award went to Harbour Lights, directed by Tomas Lind.",
    )  # fmt: skip
    settings = make_settings()
    briefer = briefer_over(settings, tmp_path, default_model, default_judge, lumen=lumen)
    other = briefer.ask("Who won best actress at the Orion Awards?")
    assert other.abstained and other.draft is None, other.answer
    assert other.p_answerable < settings.min_answerable
    this = briefer.ask("Who won best actress at the Lumen Awards?")
    assert "Anna Berg" in this.answer and this.p_answerable >= settings.min_answerable


VELO_NUMBERS = (
    "In the third quarter, Velo generated $394 million in operating income and $219 million "
    "worth of net income."
)


def test_a_short_question_whose_first_passage_answers_it_is_answered(
    make_settings, default_model, default_judge, tmp_path
):
    """Told to "reply exactly: The articles don't say." when the passages lack the answer, the
    default model replied just that to short questions whose first passage held it (11 of 60
    answerable questions of a fresh set, evals/RESULTS.md). The judge is confident the passages
    hold the answer, so the decline is drafted again under rules asking it to "say so"."""
    velo = wire_story(
        "Velo's Q3 numbers include profitability gains, slower-than-expected growth",
        "2023-11-07",
        VELO_NUMBERS,
    )
    brisk = wire_story(
        "Brisk misses revenue expectations for the first time in two years", "2023-09-28",
        "The company's reported net income for the three-month period that ended August 31 was "
        "$1.45 billion, or 94 cents per share, compared with $1.47 billion a year earlier.",
    )  # fmt: skip
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, velo=velo,
                           brisk=brisk)  # fmt: skip
    answer = briefer.ask("What net income did Velo post for the third quarter?")
    assert not answer.abstained and "219" in answer.answer, answer.draft
    assert answer.citations[0].article_id == "velo"
    assert answer.p_answerable >= briefer.settings.overrule_decline


class RecordingModel(FakeListChatModel):
    """A scripted model that keeps the last message of each prompt it was given."""

    prompts: list[str] = []

    def _stream(self, messages, *args, **kwargs):
        self.prompts.append(str(messages[-1].content))
        return super()._stream(messages, *args, **kwargs)


def test_a_decline_is_drafted_again_from_all_passages_or_the_first_article_alone(
    make_settings, default_judge, tmp_path
):
    """A draft that only declines is written again (the second scripted reply): from all the
    passages when the judge's probability that they hold the answer reaches
    settings.overrule_decline, or its probability that one passage alone does reaches
    settings.min_judged_relevance (the real judge says so of the Velo passage); else, when
    several articles are shown, from the first article's passages alone, which the second
    draft is then checked against; with one article shown, the decline stands."""
    velo = wire_story("Velo posts third-quarter profit", "2023-11-07", VELO_NUMBERS)
    rival = wire_story(
        "Brisk reports a quarterly loss", "2023-11-08",
        "Brisk reported a net loss of $12 million for the quarter that ended in September.",
    )  # fmt: skip
    replies = ["The articles don't say.", "Velo posted $219 million of net income [1]."]
    bars = ((0.0, 1.01, True), (1.01, 0.0, True), (1.01, 1.01, False), (1.01, 0.5, True))
    for overrule, judged, from_all in bars:
        run = tmp_path / f"{overrule}-{judged}"
        run.mkdir()
        settings = make_settings(  # relative_relevance 0: the rival story is shown too
            overrule_decline=overrule,
            min_judged_relevance=judged,
            relative_relevance=0.0,
            home=run / "home",
        )
        model = RecordingModel(responses=replies, prompts=[])
        briefer = briefer_over(settings, run, model, default_judge, velo=velo, rival=rival)
        answer = briefer.ask("What net income did Velo post for the third quarter?")
        assert not answer.abstained and "219" in answer.answer, answer.answer
        assert [c.article_id for c in answer.citations] == ["velo"]
        assert answer.second_look is not from_all
        first, second = model.prompts
        assert "Brisk" in first, first
        assert ("Brisk" in second) is from_all, second
    settings = make_settings(overrule_decline=1.01, min_judged_relevance=1.01)
    model = RecordingModel(responses=replies, prompts=[])
    briefer = briefer_over(settings, tmp_path, model, default_judge, velo=velo)
    answer = briefer.ask("What net income did Velo post for the third quarter?")
    assert answer.abstained and len(model.prompts) == 1


class PromptJudge:
    """Answers the judge's questions by kind: whether the passages hold the answer (asked before
    drafting), whether a drafted answer is right by them (Briefer.confirm), and, for any
    other (one passage alone), No."""

    def __init__(self, holds: float, right: float):
        self.holds, self.right, self.asked = holds, right, []

    def p_yes(self, messages) -> float:
        user = messages[-1][1]
        self.asked.append(user)
        if CONFIRM_LEAD in user:
            return self.right
        return self.holds if "Do the passages contain the answer" in user else 0.0


def test_an_answer_the_judge_doubted_stands_only_when_it_confirms_it(make_settings, tmp_path):
    """Under settings.min_answerable the judge leans No on the passages holding the answer;
    from settings.answerable_floor up the answer is drafted anyway, and stands only when the
    judge, shown it after the same passages, says it is right (settings.min_true). Under the
    floor nothing is drafted; at min_answerable and up nothing needs confirming."""
    velo = wire_story("Velo posts third-quarter profit", "2023-11-07", VELO_NUMBERS)
    reply = "Velo posted $219 million of net income [1]."
    cases = [(0.35, 0.8, True, True), (0.35, 0.3, True, False), (0.1, 0.99, False, False)]
    for holds, right, drafted, stands in [*cases, (0.6, 0.0, True, True)]:
        run = tmp_path / f"{holds}-{right}"
        run.mkdir()
        settings = make_settings(home=run / "home", min_answerable=0.5, answerable_floor=0.2)
        judge = PromptJudge(holds, right)
        briefer = briefer_over(settings, run, scripted(reply), judge, velo=velo)
        answer = briefer.ask("What net income did Velo post for the third quarter?")
        assert (answer.draft == reply) is drafted, answer.draft
        assert answer.abstained is not stands, answer.answer
        confirmed = [q for q in judge.asked if f"{CONFIRM_LEAD} Velo posted $219 million" in q]
        assert bool(confirmed) is (drafted and holds < 0.5)
        assert answer.p_true == (right if confirmed else None)
        if stands:
            assert answer.answer == "Velo posted $219 million of net income [1]."
        else:
            assert answer.answer == ABSTAIN_ANSWER and not answer.citations


def test_the_default_judge_confirms_the_answer_and_not_the_look_alike(
    make_settings, default_model, default_judge, tmp_path
):
    """The confirmation on its real path: every question drafted (floor 0) and every answer
    doubted (a bar no probability reaches), so the default model's judge decides alone. Asked
    about the Orion Awards with only the Lumen Awards indexed, the model drafts from the Lumen
    story (0.13 here); asked about the Lumen Awards, its answer is confirmed (0.86)."""
    lumen = wire_story(
        "Lumen Awards night", "2024-03-10",
        "Anna Berg won best actress at the Lumen Awards in Vell on Sunday for her role in Salt "
        "Roads. The best film award went to Harbour Lights, directed by Tomas Lind.",
    )  # fmt: skip
    settings = make_settings(min_answerable=1.01, answerable_floor=0.0)
    briefer = briefer_over(settings, tmp_path, default_model, default_judge, lumen=lumen)
    other = briefer.ask("Who won best actress at the Orion Awards?")
    assert other.draft and "Anna Berg" in other.draft, other.draft
    assert other.abstained and other.p_true < settings.min_true, other.answer
    this = briefer.ask("Who won best actress at the Lumen Awards?")
    assert "Anna Berg" in this.answer and this.p_true >= settings.min_true, this.answer


def test_the_redraft_rules_ask_to_say_so_instead_of_dictating_the_decline():
    from bot.prompts import REDRAFT_SYSTEM_PROMPT, SYSTEM_PROMPT

    assert "reply exactly" in SYSTEM_PROMPT and "reply exactly" not in REDRAFT_SYSTEM_PROMPT
    assert "say so." in REDRAFT_SYSTEM_PROMPT and "complete sentences" in REDRAFT_SYSTEM_PROMPT


VELL_REGATTA = wire_story(
    "Vell regatta draws record fleet", "2024-06-10",
    "Forty boats sailed in the Vell harbour regatta on Sunday, a record for the event. The "
    "harbour master said the race would return next June.",
)  # fmt: skip


def test_a_count_the_model_writes_in_digits_stands_on_a_passage_that_spells_it(
    make_settings, default_model, default_judge, tmp_path
):
    """The default model answered "40 boats sailed in the regatta. [1]" from "Forty boats
    sailed ...", and the name check dropped it for a number no passage held."""
    stories = {"vell-june": VELL_REGATTA}
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, **stories)
    answer = briefer.ask("How many boats sailed in the regatta?")
    assert not answer.abstained and "40" in answer.draft, answer.draft
    assert "40" in answer.answer and answer.citations[0].article_id == "vell-june"


def test_the_model_drafts_without_the_span_the_code_holds_the_answer_to(
    make_settings, default_model, default_judge, tmp_path
):
    """Asked "How many boats sailed in the regatta this week?", the default model answered
    "The articles don't say." from "Forty boats sailed ... on Sunday" in an article dated
    within the week: it could not tie "this week" to Sunday. The code does that."""
    import datetime as dt

    stories = {"vell-march": VELL_MARCH, "vell-june": VELL_REGATTA}
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, **stories)
    question = "How many boats sailed in the regatta this week?"
    answer = briefer.ask(question, as_of=dt.date(2024, 6, 12))
    assert not answer.abstained, answer.draft
    assert "orty" in answer.answer or "40" in answer.answer, answer.answer  # in words or digits
    assert [c.article_id for c in answer.citations] == ["vell-june"]


def test_a_headings_note_the_model_copies_is_left_out_of_the_answer(make_settings, tmp_path):
    """The default model wrote '... raised $65M on a flat $1.4B valuation" (TechCrunch,
    2023-12-07, within "this week") [1]': the prompt's label, which a reader takes for a claim."""
    import datetime as dt

    reply = 'Forty boats sailed in the regatta (Wire, 2024-06-10, within "this week") [1].'
    stories = {"vell-june": VELL_REGATTA}
    briefer = briefer_over(make_settings(), tmp_path, scripted(reply), SURE, **stories)
    answer = briefer.ask("How many boats sailed this week?", as_of=dt.date(2024, 6, 12))
    assert answer.answer.startswith("Forty boats sailed in the regatta [1]."), answer.answer
    assert "within" not in answer.answer and "Wire" not in answer.answer


def test_a_span_the_code_holds_is_left_out_of_the_models_question():
    import datetime as dt

    from bot.answer import without_span
    from bot.dates import relative_window

    def drafted(question: str) -> str:
        return without_span(question, relative_window(question, dt.date(2024, 6, 12)))

    assert drafted("Who won the regatta this week?") == "Who won the regatta?"
    assert drafted("This week, who won the regatta?") == "Who won the regatta?"
    assert drafted("Who, on Tuesday, closed the harbour?") == "Who closed the harbour?"
    assert drafted("What closed in the past week?") == "What closed?"
    assert drafted("Who won this week's regatta?") == "Who won this week's regatta?"
    assert drafted("Who retired recently?") == "Who retired recently?"  # not held to a span
    assert drafted("Who won the regatta?") == "Who won the regatta?"


def test_an_answer_about_this_week_resting_only_on_an_older_story_is_withheld(
    make_settings, default_model, default_judge, tmp_path
):
    """This week's Vell story (a regatta) is found, but it says nothing of a closure: the
    default model answered "The Vell harbour closed this week because of a storm that damaged
    the north pier [1]. This was reported on 4 March 2024 [1]." from the March closure."""
    import datetime as dt

    stories = {"vell-march": VELL_MARCH, "vell-june": VELL_REGATTA}
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, **stories)
    answer = briefer.ask("Why did the Vell harbour close this week?", as_of=dt.date(2024, 6, 12))
    assert answer.abstained and answer.citations == [], answer.answer
    assert {p.article_id for p in answer.retrieved} == {"vell-march", "vell-june"}


def test_the_withheld_answer_says_when_its_only_source_was_published(make_settings, tmp_path):
    import datetime as dt

    reply = "The harbour closed for two weeks after a storm damaged the north pier [2]."
    stories = {"vell-march": VELL_MARCH, "vell-june": VELL_REGATTA}
    briefer = briefer_over(make_settings(), tmp_path, scripted(reply), SURE, **stories)
    answer = briefer.ask("Why did the Vell harbour close this week?", as_of=dt.date(2024, 6, 12))
    assert answer.draft == reply and answer.abstained and answer.citations == []
    assert answer.answer == (
        "The articles don't say. The only answer found is from 4 March 2024, not from this week."
    )
    that_week = briefer.ask("Why did the Vell harbour close this week?", as_of=dt.date(2024, 3, 6))
    assert not that_week.abstained and that_week.citations[0].article_id == "vell-march"


def test_a_question_about_this_week_is_not_answered_from_an_older_story(
    make_settings, default_model, default_judge, tmp_path
):
    """With only a harbour closure of three months before indexed, "Why did the harbour close
    this week?" was answered from it, and the judge thought the passages held the answer
    (0.59). Passages all published outside the span asked about tell another week's story."""
    import datetime as dt

    stories = {"vell-march": VELL_MARCH}
    briefer = briefer_over(make_settings(), tmp_path, default_model, default_judge, **stories)
    question = "Why did the Vell harbour close this week?"
    later = briefer.ask(question, as_of=dt.date(2024, 6, 12))
    assert later.abstained and later.draft is None and later.retrieved, later.answer
    assert later.answer == (
        "The articles don't say. None of the articles found is from this week; "
        "the latest is from 4 March 2024."
    )
    that_week = briefer.ask(question, as_of=dt.date(2024, 3, 6))
    assert "storm" in that_week.answer and that_week.citations[0].article_id == "vell-march"


SEQUEL_CAST = wire_story(
    "The future of DC movies", "2023-10-24",
    "Zazie Beetz will be back as Arthur's neighbor and entirely unwitting love interest, Sophie. "
    "Filming wrapped in April, and the studio has set a release for next October.",
)  # fmt: skip


def test_a_name_the_question_gave_stands_only_when_the_judge_says_a_passage_answers(
    make_settings, default_judge, tmp_path
):
    """Answers repeat the question's names: "Zazie Beetz returns as Sophie in the next Joker
    film [1]." from a passage that never says "Joker" was dropped for naming what no passage
    holds (six right drafts of the second short set). The real judge, reading the passage
    alone, says it answers "Who returns as Sophie ...?", so the name stands; it says no passage
    answers "What did Israel say about the casting?", so "Israel ..." is still dropped."""
    cases = (
        (
            "Who returns as Sophie in the next Joker film?",
            "Zazie Beetz returns as Sophie in the next Joker film [1].",
            False,
        ),
        ("What did Israel say about the casting?", "Israel said Beetz would be back [1].", True),
    )
    for n, (question, draft, abstained) in enumerate(cases):
        run = tmp_path / str(n)
        run.mkdir()
        settings = make_settings(home=run / "home", min_answerable=0)  # always drafted
        briefer = briefer_over(settings, run, scripted(draft), default_judge, cast=SEQUEL_CAST)
        answer = briefer.ask(question)
        assert answer.abstained is abstained, (question, answer.answer)
        assert answer.draft == draft


def test_the_outlet_of_a_heading_is_no_answer_unless_the_article_names_it(make_settings, tmp_path):
    """Shown `(Revyuh Media, 2023-11-24)` above a study, the default model answered "Revyuh
    Media [1]." for the journal that published it; every citation check passed, since the
    heading holds the name. An outlet the article's text names may be the answer."""
    study = (
        "---\ntitle: Stem cells steered\nsource: Revyuh Media\npublished: 2023-11-24\n---\n"
        "The study, published in Science Advances, steers the fate of stem cells.\n"
    )
    asked = "Which journal published the study on steering stem cells?"
    for reply, abstained in (("Revyuh Media [1].", True), ("Science Advances [1].", False)):
        run = tmp_path / reply[:7]
        run.mkdir()
        settings = make_settings(home=run / "home")
        briefer = briefer_over(settings, run, scripted(reply), SURE, study=study)
        answer = briefer.ask(asked)
        assert answer.abstained is abstained, answer.answer


def test_the_redraft_and_the_name_check_ask_the_judge_of_each_passage_once(make_settings, tmp_path):
    """A decline redrafted because one passage alone answers, whose second draft repeats a
    name only the question gave: both checks need the same per-passage verdicts (one forward
    pass a passage), so they are asked once."""

    class CountingJudge(SureJudge):
        alone = 0

        def p_yes(self, messages) -> float:
            self.alone += any("Does the passage contain the answer" in t for _, t in messages)
            return super().p_yes(messages)

    judge = CountingJudge()
    replies = scripted(
        "The articles don't say.", "Zazie Beetz returns as Sophie in the next Joker film [1]."
    )
    settings = make_settings(overrule_decline=1.01)  # redrafted only on the per-passage verdict
    briefer = briefer_over(settings, tmp_path, replies, judge, cast=SEQUEL_CAST)
    answer = briefer.ask("Who returns as Sophie in the next Joker film?")
    assert not answer.abstained and "Zazie Beetz" in answer.answer, answer.answer
    assert judge.alone == len(answer.retrieved) == 1
