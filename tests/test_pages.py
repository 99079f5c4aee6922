"""bot.pages: main text and metadata from saved HTML pages, character sets, empty pages."""

from pathlib import Path

import pytest

from bot.articles import id_from_url
from bot.errors import ArticleError
from bot.pages import article_from_html

PAGES = Path(__file__).parent / "data" / "pages"
CANONICAL = "https://coastalcourier.example/news/harbour-bridge-reopens"


def page(name: str) -> tuple[bytes, str]:
    path = PAGES / name
    return path.read_bytes(), str(path)


def test_a_short_news_page_gives_its_text_and_metadata():
    article = article_from_html(*page("harbour-bridge.html"))
    assert article.title == "Harbour bridge reopens after storm repairs"
    assert article.source == "Coastal Courier"
    assert article.published == "2024-11-18"
    assert article.url == CANONICAL  # from <link rel="canonical">
    assert article.id == id_from_url(CANONICAL)
    paragraphs = article.text.split("\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The Eastport harbour bridge reopened to traffic on Monday")
    assert paragraphs[2].endswith("on the exposed side of the harbour.")
    # navigation, byline, footer and the repeated headline stay out
    for noise in ("Home", "Sport", "By Mara Lindqvist", "All rights reserved", article.title):
        assert noise not in article.text


def test_given_url_and_id_win_over_the_page():
    data, origin = page("harbour-bridge.html")
    url = "http://127.0.0.1:9/mirror/bridge.html"
    article = article_from_html(data, origin, url=url, article_id="bridge-1")
    assert (article.id, article.url) == ("bridge-1", url)


def test_without_any_url_the_id_is_the_file_stem_and_source_the_site_name():
    article = article_from_html(*page("cafe-windows-1252.html"))
    assert article.id == "cafe-windows-1252"
    assert article.url is None
    assert article.source == "La Gazette de Lorient"
    assert article.published == "2024-10-03"


def test_without_a_site_name_the_source_is_the_host():
    html = (
        b"<html><head><title>Ferry strike called off</title></head><body><article>"
        b"<p>Unions representing ferry crews called off Friday's planned strike after talks "
        b"with the operators ran late into Wednesday night.</p></article></body></html>"
    )
    article = article_from_html(html, "x", url="https://news.example.org/ferry-strike")
    assert article.source == "news.example.org"
    assert article.title == "Ferry strike called off"


def test_a_windows_1252_page_is_read_with_its_declared_charset():
    article = article_from_html(*page("cafe-windows-1252.html"))
    assert article.title == "Le Café du Port rouvre ses portes"
    assert "a coûté près de 180 000 €." in article.text
    assert "Élodie Le Gall" in article.text


@pytest.mark.parametrize(
    "declaration",
    [b'<meta charset="iso-8859-2">', b'<meta http-equiv="Content-Type" content="text/html; '
     b'charset=ISO-8859-2">'],
    ids=["meta-charset", "http-equiv"],
)  # fmt: skip
def test_a_declared_charset_beats_guessing(declaration):
    # Left to itself, trafilatura guesses another charset for this short Polish text and
    # gives "£ódŒ i Gdañsk, ¿ó³æ"; longer text it usually guesses right.
    text = "Łódź i Gdańsk, żółć"
    html = b"<html><head>%s<title>Burza</title></head><body><p>%s</p></body></html>" % (
        declaration,
        text.encode("iso-8859-2"),
    )
    assert article_from_html(html, "burza.html").text == text


def test_a_wrong_declaration_falls_back_to_detection():
    html = '<html><head><meta charset="utf-8"></head><body><p>Café crème à 4 €</p></body></html>'
    article = article_from_html(html.encode("cp1252"), "mislabelled.html")
    assert article.text == "Café crème à 4 €"


def test_a_page_of_only_navigation_has_no_article():
    data, origin = page("no-article.html")
    with pytest.raises(ArticleError) as caught:
        article_from_html(data, origin)
    assert str(caught.value) == f"{origin}: no article text found in the HTML"


@pytest.mark.parametrize("data", [b"", b"   ", b"<html><body></body></html>", b"\x00\x01"])
def test_empty_pages_have_no_article(data):
    with pytest.raises(ArticleError, match=r"^http://x\.example/p: no article text found"):
        article_from_html(data, "http://x.example/p")
