"""Reading a batch of inputs where some are bad: each problem is named, the rest still load."""

import shutil
from pathlib import Path

from bot.articles import id_from_url
from bot.config import Settings
from bot.sources import load_input
from tests import webserver as web

DATA = Path(__file__).parent / "data"
webserver = web.webserver  # the loopback server fixture


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_with_bad_files_loads_the_good_ones_and_names_each_bad_one(tmp_path):
    folder = tmp_path / "news"
    write(folder / "good.md", "---\ntitle: Good\n---\nThe council met on Monday.")
    write(folder / "lines.jsonl", '{"id": "r1", "text": "Rates rose."}\n{broken\n')
    (folder / "latin.txt").write_bytes("Caf\xe9 opens.".encode("latin-1"))
    write(folder / "blank.md", "")
    with (folder / "huge.txt").open("wb") as huge:
        huge.truncate(50_000_000)  # sparse: 50 MB on paper, nothing read before the size check
    write(folder / "notes.pdf", "not an article, ignored in folders")
    for bad in ("feeds/broken.xml", "feeds/empty.rss", "pages/no-article.html"):
        shutil.copy(DATA / bad, folder)

    loaded = load_input(str(folder), Settings(home=tmp_path / "home"))

    assert sorted(a.id for a in loaded.articles) == ["good", "r1"]
    expected = {
        "blank.md": "empty file",
        "broken.xml": "not a valid RSS/Atom feed",
        "empty.rss": "the feed has no entries",
        "huge.txt": "too large (50.0 MB; the limit is 20 MB",
        "latin.txt": "not UTF-8 text (byte 0xe9 at offset 3); save it as UTF-8",
        "lines.jsonl:2": "not valid JSON (Expecting property name enclosed in double quotes)",
        "no-article.html": "no article text found in the HTML",
    }
    pairs = zip(sorted(loaded.failures), sorted(expected.items()), strict=True)
    for failure, (name, reason) in pairs:
        assert failure.startswith(f"{folder / name}: {reason}"), failure


def test_an_odd_date_is_a_warning_and_the_article_still_loads(tmp_path):
    path = write(tmp_path / "odd.md", "---\npublished: sometime last week\n---\nBody text.")
    loaded = load_input(str(path), Settings(home=tmp_path / "home"))
    [article] = loaded.articles
    assert article.published is None and not loaded.failures
    assert loaded.warnings == [
        f"{path}: date 'sometime last week' not understood; stored without a date"
    ]


def test_common_date_styles_become_iso(tmp_path):
    styles = ["Sat, 07 Dec 2024 10:00:00 GMT", "7 December 2024", "2024-12-07T10:00:00Z"]
    for n, style in enumerate(styles):
        write(tmp_path / f"d{n}.md", f"---\npublished: '{style}'\n---\nBody.")
    loaded = load_input(str(tmp_path), Settings(home=tmp_path / "home"))
    assert [a.published for a in loaded.articles] == ["2024-12-07"] * 3


def test_a_missing_or_unsupported_input_is_one_failure(tmp_path):
    settings = Settings(home=tmp_path / "home")
    assert load_input(str(tmp_path / "gone.md"), settings).failures == [
        f"{tmp_path / 'gone.md'}: no such file or folder"
    ]
    [failure] = load_input(str(write(tmp_path / "a.pdf", "x")), settings).failures
    assert failure.startswith(f"{tmp_path / 'a.pdf'}: unsupported file type")


def test_a_page_url_becomes_one_article_known_by_its_address(tmp_path, webserver):
    webserver.root = DATA
    settings = Settings(home=tmp_path / "home")
    url = f"{webserver.url}/pages/harbour-bridge.html"
    [article] = load_input(url, settings).articles
    assert article.id == id_from_url(url) and article.url == url
    assert article.text.startswith("The Eastport harbour bridge reopened to traffic on Monday")
    webserver.routes["/data.csv"] = (200, "text/csv", b"a,b\n1,2\n")
    assert load_input(f"{webserver.url}/data.csv", settings).failures == [
        f"{webserver.url}/data.csv: unsupported content type text/csv "
        "(expected a feed or a web page)"
    ]
