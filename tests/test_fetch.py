"""bot.fetch against a loopback server: redirects, HTTP errors, timeouts and the size cap."""

import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ArticleError
from bot.fetch import USER_AGENT, fetch
from tests import webserver as web
from tests.webserver import Route

webserver = web.webserver  # the loopback server fixture

DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, fetch_timeout=1, max_input_mb=1)


def test_fetch_returns_body_type_and_sends_our_user_agent(webserver, settings):
    webserver.root = DATA
    download = fetch(webserver.url + "/feeds/empty.rss", settings)
    assert download.data == (DATA / "feeds" / "empty.rss").read_bytes()
    assert download.content_type == "application/rss+xml"
    assert download.url == webserver.url + "/feeds/empty.rss"
    assert webserver.hits[-1].headers["User-Agent"] == USER_AGENT


def test_content_type_loses_its_parameters_and_case(webserver, settings):
    webserver.routes["/page"] = (200, "Text/HTML; Charset=UTF-8", b"<p>hello</p>")
    assert fetch(webserver.url + "/page", settings).content_type == "text/html"


def test_a_missing_content_type_is_empty(webserver, settings):
    webserver.routes["/bare"] = Route(body=b"data", content_type="")
    assert fetch(webserver.url + "/bare", settings).content_type == ""


def test_redirects_are_followed_and_the_final_url_kept(webserver, settings):
    webserver.routes["/new"] = (200, "text/plain", b"moved here")
    webserver.redirect("/old", "/new", status=301)
    download = fetch(webserver.url + "/old", settings)
    assert download.url == webserver.url + "/new"
    assert download.data == b"moved here"


def test_http_404_names_the_url_and_status(webserver, settings):
    url = webserver.url + "/nowhere"
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    assert str(caught.value) == f"{url}: HTTP 404 Not Found"


def test_server_error_is_reported_with_its_status(webserver, settings):
    webserver.routes["/boom"] = Route(status=503, body=b"busy")
    with pytest.raises(ArticleError, match=r"/boom: HTTP 503 Service Unavailable$"):
        fetch(webserver.url + "/boom", settings)


def test_a_slow_server_times_out_after_the_setting(webserver, settings):
    webserver.slow("/slow", seconds=5)
    url = webserver.url + "/slow"
    started = time.monotonic()
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    assert str(caught.value) == f"{url}: timed out after 1 s"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_a_body_over_the_size_cap_is_refused(webserver, tmp_path, send_length):
    settings = Settings(home=tmp_path, fetch_timeout=1, max_input_mb=0.001)  # 1,000 bytes
    webserver.routes["/big"] = Route(body=b"x" * 5_000, send_length=send_length)
    url = webserver.url + "/big"
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    assert str(caught.value) == f"{url}: larger than the 0.001 MB limit (BRIEFING_MAX_INPUT_MB)"


def test_a_body_at_the_size_cap_is_accepted(webserver, tmp_path):
    settings = Settings(home=tmp_path, fetch_timeout=1, max_input_mb=0.001)
    webserver.routes["/fits"] = Route(body=b"y" * 1_000, send_length=False)
    assert len(fetch(webserver.url + "/fits", settings).data) == 1_000


def test_an_empty_body_is_an_error(webserver, settings):
    webserver.routes["/empty"] = (200, "text/html", b"  \n")
    with pytest.raises(ArticleError, match=r"^http://127\.0\.0\.1:\d+/empty: empty response$"):
        fetch(webserver.url + "/empty", settings)


def test_a_closed_port_cannot_connect(webserver, settings):
    url = webserver.url + "/feed.xml"
    webserver.stop()
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    assert str(caught.value).startswith(f"{url}: cannot connect (")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed.xml", "feed.xml"])
def test_only_http_and_https_are_fetched(settings, url):
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    assert str(caught.value).startswith(f"{url}: not a web address")


def test_routes_can_change_between_requests(webserver, settings):
    webserver.routes["/feed"] = (200, "application/rss+xml", b"<rss>one</rss>")
    assert fetch(webserver.url + "/feed", settings).data == b"<rss>one</rss>"
    webserver.routes["/feed"] = (200, "application/rss+xml", b"<rss>two</rss>")
    assert fetch(webserver.url + "/feed", settings).data == b"<rss>two</rss>"
    assert [hit.path for hit in webserver.hits] == ["/feed", "/feed"]


# Addresses inside the network are refused (server-side request forgery), before connecting.
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed.xml",
        "http://localhost:9/feed.xml",
        "http://[::1]:9/",
        "http://10.1.2.3/",
        "http://192.168.0.1/admin",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[fe80::1]/",
        "http://0.0.0.0:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://100.64.0.1/",  # carrier-grade NAT
    ],
)
def test_private_addresses_are_refused(url, tmp_path):
    settings = Settings(home=tmp_path, fetch_allow_private=False)
    with pytest.raises(ArticleError) as caught:
        fetch(url, settings)
    message = str(caught.value)
    assert message.startswith(f"{url}: refused, ") and "BRIEFING_FETCH_ALLOW_PRIVATE" in message
    assert "\n" not in message


def test_the_loopback_test_server_is_allowed_only_when_asked(webserver, tmp_path):
    webserver.routes["/feed"] = (200, "application/rss+xml", b"<rss>one</rss>")
    refused = Settings(home=tmp_path, fetch_allow_private=False)
    with pytest.raises(ArticleError, match="refused"):
        fetch(webserver.url + "/feed", refused)
    assert webserver.hits == []  # refused before any request was sent
    allowed = Settings(home=tmp_path, fetch_allow_private=True)
    assert fetch(webserver.url + "/feed", allowed).data == b"<rss>one</rss>"


def resolving_loopback_as_public(monkeypatch, names: set[str]) -> None:
    """Make `names` resolve to a public address for the pre-connection check only (httpx
    still connects to the real one): what a DNS rebinding attack looks like."""
    from bot import fetch as module

    real = module.resolve
    monkeypatch.setattr(
        module, "resolve", lambda host: ["93.184.216.34"] if host in names else real(host)
    )


def test_a_redirect_to_a_private_address_is_refused(webserver, tmp_path, monkeypatch):
    resolving_loopback_as_public(monkeypatch, {"127.0.0.1"})
    monkeypatch.setattr("bot.fetch._check_peer", lambda *args: None)  # only the hop check
    port = webserver.url.rsplit(":", 1)[1]
    webserver.routes["/secret"] = (200, "text/plain", b"internal")
    webserver.redirect("/old", f"http://localhost:{port}/secret")
    with pytest.raises(ArticleError) as caught:
        fetch(webserver.url + "/old", Settings(home=tmp_path, fetch_allow_private=False))
    assert "redirected to http://localhost:" in str(caught.value)
    assert [hit.path for hit in webserver.hits] == ["/old"]  # the secret was never asked for


def test_the_connected_address_is_checked_too(webserver, tmp_path, monkeypatch):
    resolving_loopback_as_public(monkeypatch, {"127.0.0.1"})
    webserver.routes["/secret"] = (200, "text/plain", b"internal")
    with pytest.raises(ArticleError, match=r"refused, 127\.0\.0\.1 is a loopback"):
        fetch(webserver.url + "/secret", Settings(home=tmp_path, fetch_allow_private=False))


def test_too_many_redirects_are_one_line(webserver, settings):
    webserver.redirect("/loop", "/loop")
    with pytest.raises(ArticleError, match=r"/loop: more than 10 redirects$"):
        fetch(webserver.url + "/loop", settings)
