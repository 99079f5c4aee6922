"""The citation check on hand-made replies: markers kept, moved, added, dropped."""

from bot.citations import (
    check_answer,
    check_sentences,
    denied_words,
    render,
    says_abstain,
    split_verdict,
    support,
)

PASSAGES = [
    "The mayor opened the new bridge on Monday.",
    "Qatar, Egypt and Russia issued a joint statement calling for calm.",
]


def test_a_right_marker_is_kept():
    [s] = check_sentences("Qatar, Egypt and Russia issued a joint statement [2].", PASSAGES)
    assert s.passages == (1,)


def test_a_wrong_marker_moves_to_the_supporting_passage():
    [s] = check_sentences("Qatar, Egypt and Russia issued the joint statement [1].", PASSAGES)
    assert s.passages == (1,)


def test_a_forgotten_marker_is_added_and_a_nonexistent_one_ignored():
    [a, b] = check_sentences(
        "The mayor opened the bridge. Russia issued a statement [7].", PASSAGES
    )
    assert (a.passages, b.passages) == ((0,), (1,))


def test_an_unsupported_sentence_is_dropped():
    checked = check_sentences("The mayor opened the bridge [1]. Paris is in France [1].", PASSAGES)
    assert [s.text for s in checked] == ["The mayor opened the bridge."]


def test_render_renumbers_in_citation_order():
    checked = check_sentences("Russia issued a statement [2]. The mayor opened it [1].", PASSAGES)
    assert render(checked, [1, 0]) == ("Russia issued a statement [1]. The mayor opened it [2].")


def test_support_is_the_share_of_content_words_found():
    assert support("Russia issued a statement", PASSAGES[1]) == 1.0
    assert support("Paris hosted the games", PASSAGES[1]) == 0.0
    assert support("Yes.", PASSAGES[1]) == 0.0


def test_abstention_phrases_are_recognised():
    assert says_abstain("The articles don't say.")
    assert says_abstain("The passages do not mention who leads them.")
    assert not says_abstain("Eight countries issued it [1].")


def test_a_name_no_passage_mentions_sinks_the_sentence():
    reply = "Israel said Russia issued a joint statement calling for calm [2]."
    assert check_sentences(reply, PASSAGES) == []
    assert check_sentences("Three countries, Qatar, Egypt and Russia, called for calm.", PASSAGES)


def test_a_number_in_digits_may_be_in_words_in_the_passage():
    passages = ["Forty-one boats sailed in the regatta on Sunday, a record."]
    [s] = check_sentences("41 boats sailed in the regatta [1].", passages)
    assert s.passages == (0,)
    assert check_sentences("40 boats sailed in the regatta [1].", passages) == []
    assert check_sentences("1,500 boats sailed in the regatta [1].", passages) == []


def test_a_number_glued_to_letters_is_read_as_the_passage_reads_it():
    """The name check read "1" out of "1pm" and found no passage with a "1" (the passages'
    words are whole: "1pm"): a sentence quoted word for word was dropped."""
    passages = ["The Steam Deck OLED goes on sale November 16th at 1pm ET, Valve said."]
    [s] = check_sentences(
        "The Steam Deck OLED goes on sale on November 16th at 1pm ET [1].", passages
    )
    assert s.passages == (0,)
    assert check_sentences("The Steam Deck OLED goes on sale at 2pm ET [1].", passages) == []
    assert check_sentences("The Cowboys beat the 49ers [1].", ["The Cowboys beat the 49ers."])
    assert check_sentences("The Cowboys beat the 48ers [1].", ["The Cowboys beat the 49ers."]) == []


def test_money_is_read_as_headlines_shorten_it():
    """A headline's "$4.3B" and a draft's "$4.3 billion" are one sum: the check read "3b"
    against "3 billion" and dropped a right answer on the short question set."""
    fine = ["Binance to pay $4.3B in fines"]
    assert check_sentences("Binance agreed to pay $4.3 billion in fines [1].", fine)
    assert check_sentences(
        "Binance agreed to pay $4.3B in fines [1].", ["Binance pays $4.3 billion in fines."]
    )
    assert check_sentences("Binance agreed to pay $5.3 billion in fines [1].", fine) == []


def test_an_answer_in_the_questions_own_words_answers_nothing():
    """ "Robin Williams' death helped him get off drugs [1]." to "Whose death helped Robin
    Williams get off drugs?" is supported and says nothing; a choice is named in the question."""
    passages = ["Robin Williams said the death of John Belushi helped him get off drugs."]
    asked = "Whose death helped Robin Williams get off drugs?"
    assert (
        check_answer("Robin Williams' death helped him get off drugs [1].", passages, asked) == []
    )
    [s] = check_answer("John Belushi's death helped him get off drugs [1].", passages, asked)
    assert s.passages == (0,)
    choice = "Did Belushi or Williams get off drugs?"
    assert check_answer("Williams got off drugs [1].", ["Williams got off drugs."], choice)


def test_an_outlet_known_only_from_a_heading_is_no_answer():
    """Shown "Article: ... (Revyuh Media, 2023-11-24)", the default model answered "Revyuh
    Media" for the journal a study appeared in. An outlet the passages' text names is one."""
    heading = "Study steers stem cells Revyuh Media 24 November 2023\n"
    text = "The study, published in Science Advances, steers the fate of stem cells."
    asked = "Which journal published the study on steering stem cells' fate?"
    assert check_answer("Revyuh Media [1].", [heading + text], asked)  # the heading holds it
    outlets = ["Revyuh Media"]
    assert check_answer("Revyuh Media [1].", [heading + text], asked, outlets=outlets) == []
    [s] = check_answer("Science Advances [1].", [heading + text], asked, outlets=outlets)
    assert s.passages == (0,)


def test_an_outlet_a_passage_names_may_be_the_answer():
    from bot.answer import outlets_unnamed
    from bot.store import Passage

    story = Passage("a", "Pulled", "The Age", "2023-10-24", None, "Wired pulled the story.", 0, 23)
    wire = Passage("b", "Wired's note", "Wired", "2023-10-24", None, "Wired pulled it.", 0, 16)
    assert outlets_unnamed([story, wire]) == ["The Age"]


def test_the_stock_recipes_ways_of_abstaining_count_too():
    assert says_abstain("The population of Homs is not provided in the given context.")
    assert says_abstain("I don't know.")
    assert not says_abstain("Supplies were not provided to the city [1].")


def test_a_multi_hop_sentence_is_supported_by_passages_together():
    passages = [
        "The Verge reported that Google pays Apple billions for default search.",
        "TechCrunch reported that a publisher sued Google over news revenue.",
    ]
    reply = "Google pays Apple billions and was sued by a publisher over news revenue."
    [s] = check_sentences(reply, passages, question="Which company did both report on?")
    assert sorted(s.passages) == [0, 1]


def test_a_capitalised_opening_word_is_a_name_only_when_the_entity_recogniser_reads_one():
    """Every sentence opens with a capital: "Meanwhile" or "Establishments" there is no
    invented name (spaCy's entity recogniser says which opening words start a name)."""
    [s] = check_sentences("Meanwhile, the rebels captured Homs [1].", ["The rebels captured Homs."])
    assert s.passages == (0,)
    reply = "Establishments that change their betting lines are sportsbooks [1]."
    assert check_sentences(reply, ["Sportsbooks change their betting lines daily."])
    assert check_sentences("However Israel captured Homs [1].", ["The rebels captured Homs."]) == []
    assert check_sentences("Israel captured Homs [1].", ["The rebels captured Homs."]) == []


def test_an_abbreviation_does_not_end_a_sentence_of_the_answer():
    passage = "The U.S. team beat Japan 20-10 in the Chiefs vs. Jets warm-up on Jan. 5."
    reply = "The U.S. team beat Japan in the Chiefs vs. Jets warm-up [1]. It ended 20-10 [1]."
    checked = check_sentences(reply, [passage])
    assert [s.text for s in checked] == [
        "The U.S. team beat Japan in the Chiefs vs. Jets warm-up.",
        "It ended 20-10.",
    ]


def test_a_cited_passage_that_adds_nothing_is_dropped_but_one_that_adds_words_stays():
    passages = [
        "Qatar, Egypt and Russia issued a joint statement calling for calm.",
        "Russia said it was watching events.",
        "Western officials called for calm in Homs.",
    ]
    [s] = check_sentences("Qatar and Russia issued a joint statement [1][2].", passages)
    assert s.passages == (0,)  # passage 2 only repeats "Russia"
    [s] = check_sentences(
        "Qatar issued a statement; officials called for calm in Homs [1][3].", passages
    )
    assert s.passages == (0, 2)


def test_a_passage_sharing_only_the_questions_words_is_not_cited():
    question = "Did TechCrunch report in October that Valve released a new Steam Deck?"
    passages = [
        "Valve released a new Steam Deck with a brighter OLED screen.",
        "TechCrunch reported in October on LinkedIn's new AI tools.",
    ]
    reply = (
        "Yes, TechCrunch reported in October that Valve released a Steam Deck with an OLED screen."
    )
    [s] = check_sentences(reply, passages, question)
    assert s.passages == (0,)


def test_a_yes_or_no_opening_answers_a_yes_no_question_even_when_it_says_not_mentioned():
    reply = "No, the article does not mention any deal."
    assert says_abstain(reply) and not says_abstain(reply, yes_no_question=True)
    assert says_abstain("No. The articles don't say.", yes_no_question=True)


def test_a_verdict_is_split_from_its_reason():
    assert split_verdict("Yes, both reports say so [1].") == ("Yes", "Both reports say so [1].")
    assert split_verdict("no. It fell [2].") == ("No", "It fell [2].")
    assert split_verdict("Nothing changed [1].") == (None, "Nothing changed [1].")


def test_a_passage_that_denies_a_sentence_never_supports_it():
    passages = ["However the nations have not agreed on any concrete steps to thwart more chaos."]
    assert denied_words(passages[0]) == {"agreed"}
    affirmed = "The nations have agreed on concrete steps to stop chaos [1]."
    assert check_sentences(affirmed, passages) == []
    for denial in ("have not agreed", "haven't agreed", "haven’t agreed"):
        [s] = check_sentences(f"The nations {denial} on concrete steps [1].", passages)
        assert s.passages == (0,)


def test_an_absence_is_no_denial_and_does_not_flip_a_yes():
    """An absence is no denial: "now without Zhao" says he is gone, not that he did not agree.
    The passage supports the Yes and is the one cited (it used to deny "Zhao", turning the
    right Yes into No)."""
    passages = [
        "Binance launched in June 2017 and became the largest crypto exchange in the world.",
        "Binance is now without Zhao, who agreed to step down as CEO as part of the plea deal.",
    ]
    question = "Did Changpeng Zhao agree to step down as CEO of Binance?"
    reply = "Yes, Zhao agreed to step down as CEO of Binance as part of the plea deal. [1]"
    verdict, reason = check_answer(reply, passages, question, lambda: 0.8)
    assert verdict.text == "Yes"
    assert reason.passages == (1,)


def test_a_country_is_known_by_its_adjective():
    [s] = check_sentences("Syria's rebels took Aleppo last week.", ["Syrian rebels took Aleppo."])
    assert s.passages == (0,)
    assert check_sentences("Israel's army took Aleppo.", ["Syrian rebels took Aleppo."]) == []


def test_refusals_are_told_apart_from_claims_about_missing_information():
    assert says_abstain("The articles don't say. I don't know.")
    assert not says_abstain("Officials said they had no information on casualties [1].")
    assert not says_abstain("Eight countries issued it [1]. The articles do not say more.")
    passages = ["Officials said they had no information on casualties after the blast."]
    [s] = check_sentences("Officials said they had no information on casualties [1].", passages)
    assert s.passages == (0,)


def test_a_sentence_of_stop_words_does_not_keep_its_citation():
    assert check_sentences("It did [1].", ["Syrian rebels captured Homs."]) == []


def test_a_lone_verdict_stands_only_when_the_judge_agrees():
    passages = ["Syrian rebels captured the key city of Homs on Saturday."]
    question = "Did the rebels capture Homs on Saturday?"
    assert check_answer("No.", passages, question, lambda: 0.9) == []
    [verdict] = check_answer("Yes.", passages, question, lambda: 0.9)
    assert (verdict.text, verdict.passages) == ("Yes", (0,))


def test_a_name_only_the_question_gives_needs_the_judges_word_that_a_passage_answers():
    passages = ["Zazie Beetz will be back as Arthur's neighbor and love interest, Sophie."]
    question = "Who returns as Sophie in the next Joker film?"
    reply = "Zazie Beetz returns as Sophie in the next Joker film [1]."
    asked: list[str] = []

    def judge_says(verdict: bool):
        def on_topic() -> bool:
            asked.append("judge")
            return verdict

        return on_topic

    assert check_sentences(reply, passages, question) == []
    assert check_sentences(reply, passages, question, judge_says(False)) == []
    [kept] = check_sentences(reply, passages, question, judge_says(True))
    assert kept.passages == (0,)
    # A name neither the passages nor the question hold sinks it, whatever the judge says.
    invented = "Zazie Beetz returns as Sophie in the next Joker film, Warner said [1]."
    assert check_sentences(invented, passages, question, judge_says(True)) == []
    assert len(asked) == 2  # the judge is asked only when the question gave every unknown name
