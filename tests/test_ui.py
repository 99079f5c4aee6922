"""The chat page in headless Chromium: it starts on an empty index, ingests the sample, answers."""

from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import expect, sync_playwright

from tests.loopback import chat_page
from tests.webserver import serve

FEEDS = Path(__file__).parent / "data" / "feeds"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory, models_dir, default_model_file):
    env = {
        "BRIEFING_HOME": str(tmp_path_factory.mktemp("ui-home")),
        "BRIEFING_MODELS_DIR": str(models_dir),
    }
    log = tmp_path_factory.mktemp("ui-log") / "chat.log"
    with chat_page(log, env) as url:
        yield url, log


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser.new_page()
        browser.close()


@pytest.mark.slow
def test_the_page_answers_with_a_citation(chat_url, page):
    url, log = chat_url
    assert "ingesting the sample corpus" in log.read_text()
    page.goto(url, timeout=60_000)
    page.locator("#question textarea").fill("Who issued the joint statement?")
    page.locator("#question textarea").press("Enter")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("Sources", timeout=180_000)
    expect(chat).to_contain_text("[1]")
    expect(chat).to_contain_text("Syrian rebels capture Homs")
    expect(chat).to_contain_text("issued a joint statement")
    expect(chat).to_contain_text("Russia")


@pytest.mark.slow
def test_a_client_of_the_page_gets_the_checked_answer_and_its_citations(chat_url):
    url, _ = chat_url
    client = Client(url, verbose=False, analytics_enabled=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/ask" in endpoints and not [e for e in endpoints if e.startswith("/respond")]
    assert [p["label"] for p in endpoints["/ask"]["parameters"]] == ["Question", "Briefing"]
    _, chat, answer = client.predict("Who issued the joint statement?", [], api_name="/ask")
    assert set(answer) == {"question", "answer", "abstained", "citations", "timings", "model"}
    assert not answer["abstained"] and "Russia" in answer["answer"] and "[1]" in answer["answer"]
    first = answer["citations"][0]
    assert first["n"] == 1 and first["article_id"] == "homs-falls"
    assert first["title"] == "Syrian rebels capture Homs" and "joint statement" in first["passage"]
    assert "Sources" in str(chat[-1]["content"])  # the page showed it with its sources


@pytest.mark.slow
def test_article_files_can_be_added_from_the_page(chat_url, page, tmp_path):
    url, _ = chat_url
    upload = tmp_path / "harbour-strike.md"
    upload.write_text(
        '---\ntitle: "Dockers strike at the harbour"\nsource: "Port Gazette"\n'
        'published: "2024-12-09"\n---\nDock workers walked out on Monday over pay.\n'
    )
    page.goto(url, timeout=60_000)
    page.get_by_role("button", name="Articles").click()
    page.locator("#uploads input[type=file]").set_input_files(str(upload))
    page.locator("#add").click()
    expect(page.get_by_text("Done: 1 added")).to_be_visible(timeout=60_000)
    expect(page.locator("#articles")).to_contain_text("Dockers strike at the harbour")


@pytest.mark.slow
def test_a_feed_url_can_be_added_and_an_article_removed_from_the_page(chat_url, page):
    url, _ = chat_url
    with serve(root=FEEDS) as web:
        page.goto(url, timeout=60_000)
        page.get_by_role("button", name="Articles").click()
        page.locator("#feed-url textarea").fill(f"{web.url}/northport-daily.rss")
        page.locator("#add-url").click()
        expect(page.locator("#status")).to_contain_text("added", timeout=60_000)
        table = page.locator("#articles")
        expect(table).to_contain_text("Council votes to keep the night ferry running")
        expect(table).to_contain_text("Northport Daily")

    page.locator("#remove-choice input").fill("Council votes")
    page.get_by_role("option", name="Council votes to keep the night ferry running").click()
    page.locator("#remove").click()
    expect(page.locator("#status")).to_contain_text("Removed", timeout=60_000)
    expect(table).not_to_contain_text("Council votes to keep the night ferry running")
    expect(table).to_contain_text("Fenwick library extends weekend hours")


SAMPLE_TEXT = (
    (Path(__file__).resolve().parent.parent / "corpus" / "homs-falls.md")
    .read_text()
    .split("---", 2)[2]
    .lstrip("\n")
)


def open_citation_and_check_the_highlight(page, marker) -> None:
    """Click a [n] and see its article beside the chat, exactly the cited span highlighted."""
    from urllib.parse import unquote

    title = marker.get_attribute("title")
    assert title.startswith("Open the source: ")
    article_id, start, end = title.removeprefix("Open the source: ").rsplit(":", 2)
    assert unquote(article_id) == "homs-falls"
    marker.click()
    view = page.locator("#source-view")
    expect(view).to_contain_text("Syrian rebels capture Homs", timeout=30_000)
    expect(view).to_contain_text("New York Post")
    expect(view).to_contain_text("2024-12-07")
    cited = SAMPLE_TEXT[int(start) : int(end)]
    mark = view.locator("mark")
    expect(mark).to_have_text(cited, timeout=30_000)  # the new span, once shown
    expect(mark).to_have_count(1)
    assert mark.inner_text() == cited  # exactly the span, to the character
    expect(mark).to_be_in_viewport(timeout=10_000)  # scrolled into view


@pytest.mark.slow
def test_the_page_briefs_and_a_citation_opens_the_article_with_the_passage_highlighted(
    chat_url, page
):
    url, _ = chat_url
    page.goto(url, timeout=60_000)
    page.locator("#brief-topic textarea").fill("Syria")
    page.locator("#brief").click()
    chat = page.locator("#chat")
    expect(chat).to_contain_text("Briefing: Syria", timeout=60_000)
    expect(chat).to_contain_text("Sources", timeout=300_000)
    expect(chat).not_to_contain_text("…", timeout=300_000)  # every point written
    expect(chat).to_contain_text("2024-12-07")
    expect(chat).to_contain_text("Homs")
    markers = chat.locator(".cite")
    assert markers.count() >= 2
    open_citation_and_check_the_highlight(page, markers.last)
    open_citation_and_check_the_highlight(page, markers.first)  # another one replaces it


@pytest.mark.slow
def test_brief_me_typed_in_the_chat_and_an_answers_citation_open_in_the_page(chat_url, page):
    url, _ = chat_url
    page.goto(url, timeout=60_000)
    box = page.locator("#question textarea")
    box.fill("brief me on Syria since 2024-12-09")
    box.press("Enter")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("No articles about Syria since 2024-12-09.", timeout=60_000)
    box.fill("Who issued the joint statement?")
    box.press("Enter")
    expect(chat).to_contain_text("Sources", timeout=180_000)
    open_citation_and_check_the_highlight(page, chat.locator(".cite").first)


@pytest.mark.slow
def test_a_client_of_the_page_gets_the_briefing_json_from_brief(chat_url):
    url, _ = chat_url
    client = Client(url, verbose=False, analytics_enabled=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/brief"} <= set(endpoints)
    _, briefing = client.predict("Syria", "2024-12-09", False, [], api_name="/brief")
    assert briefing["empty"] is True and briefing["points"] == []
    assert briefing["message"] == "No articles about Syria since 2024-12-09."


class SureJudge:
    def p_yes(self, messages) -> float:
        return 0.99


def test_a_streamed_draft_reaches_the_page_a_few_times_a_second_not_once_a_token(
    default_settings, sample_store
):
    """Every update re-sends the whole chat: once a token, it competes with the model."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from bot.answer import Briefer
    from bot.ui import DRAFT_REFRESH_S, build_app
    from tests.conftest import free_port

    draft = "Qatar, Saudi Arabia, Jordan, Egypt, Iraq, Iran, Turkey and Russia issued it [1]."
    model = FakeListChatModel(responses=[draft], sleep=0.02)  # one character every 20 ms
    briefer = Briefer(default_settings, sample_store, chat_model=model, judge=SureJudge())
    app = build_app(briefer).queue()
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{port}", verbose=False, analytics_enabled=False)
        job = client.submit("Who issued the joint statement?", [], api_name="/ask")
        _, chat, answer = job.result(timeout=120)
        updates = job.outputs()
    finally:
        app.close()
    assert "Russia" in answer["answer"] and answer["citations"]
    drafts = [out for out in updates if out[2] is None and out[1] and len(out[1]) == 2]
    streaming_s = len(draft) * 0.02
    assert 2 <= len(drafts) <= streaming_s / DRAFT_REFRESH_S + 3  # not ~80, one a character
