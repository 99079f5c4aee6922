"""bot.feeds: RSS and Atom entries as Articles, stable ids, bad feeds, --fetch-pages."""

from pathlib import Path

import pytest

from bot.articles import id_from_url
from bot.config import Settings
from bot.errors import ArticleError
from bot.feeds import articles_from_feed, looks_like_feed
from tests import webserver as web

webserver = web.webserver  # the loopback server fixture

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
NIGHT_FERRY = "https://northport.example/news/night-ferry-vote"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, fetch_timeout=1, max_input_mb=1)


def read(name: str, settings: Settings, **options) -> tuple[dict, list[str]]:
    """The feed's articles by title, and the warnings given while reading it."""
    warnings: list[str] = []
    path = FEEDS / name
    articles = articles_from_feed(
        path.read_bytes(), str(path), settings, warn=warnings.append, **options
    )
    return {article.title: article for article in articles}, warnings


def test_rss_full_content_is_used_as_plain_text_paragraphs(settings):
    articles, _ = read("northport-daily.rss", settings)
    ferry = articles["Council votes to keep the night ferry running"]
    assert ferry.text.split("\n") == [
        "Northport council voted 14 to 9 on Friday evening to keep the night ferry to Holm "
        "Island running for at least another two years.",
        "The service, which carries about 300 shift workers a week, had been due to end in "
        "March after the operator asked for a larger subsidy.",
        "Council leader Priya Dunmore said the extra cost of £410,000 a year would come from "
        "the harbour reserve fund.",
        "Opposition members called the decision a stopgap.",
    ]
    assert ferry.published == "2024-12-07"  # "Sat, 07 Dec 2024 10:00:00 GMT"
    assert ferry.url == NIGHT_FERRY
    assert ferry.source == "Northport Daily"


def test_rss_without_content_uses_the_description(settings):
    articles, _ = read("northport-daily.rss", settings)
    library = articles["Fenwick library extends weekend hours"]
    assert library.text == (
        "The Fenwick branch library will open on Sundays from January, staffed by volunteers "
        "from the Friends of Fenwick Library group."
    )
    mill_lane = articles["Road closure on the Mill Lane bridge"]
    assert mill_lane.text.startswith("Mill Lane bridge will close to vehicles for four nights")
    assert mill_lane.source == "Valley Wire Service"  # the item's own <source>


def test_ids_come_from_guid_then_link_then_title_and_text(settings):
    articles, _ = read("northport-daily.rss", settings)
    assert articles["Council votes to keep the night ferry running"].id == id_from_url(NIGHT_FERRY)
    assert articles["Fenwick library extends weekend hours"].id == id_from_url(
        "northport-2024-1187"
    )
    mill_lane = "https://northport.example/news/mill-lane-closure"
    assert articles["Road closure on the Mill Lane bridge"].id == id_from_url(mill_lane)
    letters = articles["Letters: the seafront bins"]
    assert letters.url is None
    assert letters.id.startswith("letters-the-seafront-bins-")
    assert len(letters.id.rsplit("-", 1)[1]) == 8


def test_ids_are_stable_across_two_reads(settings):
    first, _ = read("northport-daily.rss", settings)
    second, _ = read("northport-daily.rss", settings)
    assert [a.id for a in first.values()] == [a.id for a in second.values()]
    assert len({a.id for a in first.values()}) == 4


def test_odd_dates_and_empty_entries_warn_without_stopping(settings):
    articles, warnings = read("northport-daily.rss", settings)
    origin = str(FEEDS / "northport-daily.rss")
    assert articles["Fenwick library extends weekend hours"].published is None
    assert "Photo gallery: winter lights switch-on" not in articles
    assert warnings == [
        f"{origin}: entry 'Fenwick library extends weekend hours': date 'sometime last week' "
        "not understood; stored without a date",
        f"{origin}: entry 'Photo gallery: winter lights switch-on': no text; skipped",
    ]


def test_atom_html_and_xhtml_content(settings):
    articles, warnings = read("valley-wire.atom", settings)
    assert warnings == []
    spill = articles["Water company fined over river spill"]
    assert spill.text.split("\n") == [
        "The environment regulator fined Fenwick Water £1.2 million on Sunday after untreated "
        "sewage reached the River Lune during a pump failure in August.",
        "The company said it had since installed backup pumps at the Ashby works.",
    ]
    assert spill.published == "2024-12-08"  # <published>, as written (not converted to UTC)
    assert spill.url == "https://wire.example/stories/river-spill-fine"
    assert spill.source == "Valley Wire"
    assert spill.id == id_from_url("tag:wire.example,2024:river-spill")
    timetable = articles["Rail timetable changes from Sunday"]
    assert timetable.published == "2024-12-06"  # only <updated>
    assert timetable.text.startswith("Two early trains between Northport and Ashby")
    assert timetable.text.endswith("had fallen by a third.")


def test_a_malformed_feed_is_refused_by_name(settings):
    path = FEEDS / "broken.xml"
    warnings: list[str] = []
    with pytest.raises(ArticleError) as caught:
        articles_from_feed(path.read_bytes(), str(path), settings, warn=warnings.append)
    assert str(caught.value).startswith(f"{path}: not a valid RSS/Atom feed (")
    assert warnings == []


def test_a_malformed_feed_with_entries_is_read_with_a_warning(settings):
    item = (
        b"<item><title>Pier repairs &amp; delays</title><description>Repairs to the "
        b"north pier will run until March.</description></item><oops>"  # never closed
    )
    feed = (FEEDS / "empty.rss").read_bytes().replace(b"</channel>", item + b"</channel>")
    warnings: list[str] = []
    articles = articles_from_feed(feed, "http://feeds.example/q", settings, warn=warnings.append)
    assert [a.text for a in articles] == ["Repairs to the north pier will run until March."]
    assert len(warnings) == 1
    assert warnings[0].startswith("http://feeds.example/q: the feed is not well-formed (")


def test_a_feed_with_no_entries_is_refused(settings):
    path = FEEDS / "empty.rss"
    with pytest.raises(ArticleError) as caught:
        articles_from_feed(path.read_bytes(), str(path), settings)
    assert str(caught.value) == f"{path}: the feed has no entries"


@pytest.mark.parametrize(
    "data", [b"", b"just some words", (DATA / "pages" / "harbour-bridge.html").read_bytes()]
)
def test_other_input_is_not_a_feed(settings, data):
    with pytest.raises(ArticleError, match=r"^https://x\.example/f: not a valid RSS/Atom feed"):
        articles_from_feed(data, "https://x.example/f", settings)


def test_feed_bytes_are_never_taken_for_a_file_name(settings, tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes((FEEDS / "northport-daily.rss").read_bytes())
    with pytest.raises(ArticleError, match="not a valid RSS/Atom feed"):
        articles_from_feed(str(secret).encode(), "https://evil.example/feed", settings)


def test_the_origin_host_is_the_source_of_an_untitled_feed(settings):
    feed = b"""<rss version="2.0"><channel><item><title>Snow day</title>
    <description>Schools in the valley are closed today.</description></item></channel></rss>"""
    [article] = articles_from_feed(feed, "https://valley.example/rss", settings)
    assert article.source == "valley.example"


@pytest.mark.parametrize(
    "name", ["northport-daily.rss", "valley-wire.atom", "empty.rss", "broken.xml"]
)
def test_feeds_are_recognised(name):
    assert looks_like_feed((FEEDS / name).read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- generated -->\n<rdf:RDF xmlns:rdf="x">',
        "<?xml version='1.0' encoding='utf-16'?><feed>".encode("utf-16"),
        b"\n\n  <rss version='2.0'>",
    ],
)
def test_feed_sniffing_skips_bom_declaration_and_comments(data):
    assert looks_like_feed(data)


@pytest.mark.parametrize(
    "data",
    [
        (DATA / "pages" / "harbour-bridge.html").read_bytes(),
        b'{"title": "rss"}',
        b"<html><body><rss>",
        b"",
    ],
)
def test_pages_and_other_data_are_not_feeds(data):
    assert not looks_like_feed(data)


def serve_teasers(webserver) -> tuple[bytes, str]:
    """The teaser feed, its links pointing at the loopback server's pages."""
    webserver.root = DATA
    feed = (FEEDS / "teasers.rss").read_bytes().replace(b"BASE", webserver.url.encode())
    webserver.routes["/feeds/teasers.rss"] = (200, "application/rss+xml", feed)
    return feed, webserver.url + "/feeds/teasers.rss"


def test_fetch_pages_replaces_teasers_with_the_pages_text(webserver, settings):
    feed, origin = serve_teasers(webserver)
    warnings: list[str] = []
    bridge, lighthouse = articles_from_feed(
        feed, origin, settings, fetch_pages=True, warn=warnings.append
    )
    link = webserver.url + "/pages/harbour-bridge.html"
    assert bridge.text.startswith("The Eastport harbour bridge reopened to traffic on Monday")
    assert bridge.text.endswith("on the exposed side of the harbour.")
    assert bridge.published == "2024-11-18"  # the entry has none; the page's date
    assert bridge.title == "Harbour bridge reopens"  # the feed's title
    assert (bridge.id, bridge.url) == (id_from_url(link), link)
    # a broken link warns and keeps the feed's description
    gone = webserver.url + "/pages/gone.html"
    assert lighthouse.text.startswith("Tours of the Eastport lighthouse are off until spring")
    assert lighthouse.published == "2024-11-19"
    assert warnings == [
        f"{gone}: page not used, keeping the feed's summary ({gone}: HTTP 404 Not Found)"
    ]


def test_without_fetch_pages_nothing_is_downloaded(webserver, settings):
    feed, origin = serve_teasers(webserver)
    bridge, _ = articles_from_feed(feed, origin, settings)
    assert bridge.text == "The bridge is open again after three weeks."
    assert webserver.hits == []


def test_fetch_pages_leaves_full_content_entries_alone(webserver, settings):
    path = FEEDS / "valley-wire.atom"
    feed = path.read_bytes().replace(b"https://wire.example", webserver.url.encode())
    articles = articles_from_feed(feed, str(path), settings, fetch_pages=True)
    assert len(articles) == 2
    assert webserver.hits == []
