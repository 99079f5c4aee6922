from bot.chunking import passage_spans, sentence_spans
from bot.config import SAMPLE_CORPUS
from bot.sources import load_paths


def test_sentences_keep_exact_offsets_and_closing_quotes():
    text = "He said “the end is near.” Then he left!  Really? Yes\nNew line."
    pieces = [text[s.start : s.end] for s in sentence_spans(text)]
    assert pieces == ["He said “the end is near.”", "Then he left!", "Really?", "Yes", "New line."]


def test_passages_cover_every_sentence_within_the_limit():
    text = load_paths([SAMPLE_CORPUS])[0].text
    passages = passage_spans(text, max_chars=400)
    assert all(p.end - p.start <= 400 for p in passages)
    covered = "".join(text[p.start : p.end] for p in passages)
    assert covered.replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert all(text[p.start] not in " \n" and text[p.end - 1] not in " \n" for p in passages)


def test_an_overlong_sentence_stays_whole():
    long_sentence = "word " * 100 + "end."
    text = f"Short one. {long_sentence} Short two."
    pieces = [text[p.start : p.end] for p in passage_spans(text, max_chars=50)]
    assert pieces == ["Short one.", long_sentence.strip(), "Short two."]


def test_the_stock_recipes_chunks_quote_the_article_at_their_offsets():
    from bot.stock import stock_split

    article = load_paths([SAMPLE_CORPUS])[0]
    chunks = stock_split(article)
    assert len(chunks) > 1 and all(len(c.text) <= 1000 for c in chunks)
    assert all(article.text[c.start : c.end] == c.text for c in chunks)
