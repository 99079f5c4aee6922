import re
from pathlib import Path

import pytest

from bot.articles import load_file
from bot.config import SAMPLE_CORPUS
from bot.errors import ArticleError
from bot.sources import load_paths


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_corpus_holds_the_seed_article_with_front_matter():
    [article] = load_paths([SAMPLE_CORPUS])
    assert article.id == "homs-falls"
    assert article.source == "New York Post"
    assert article.published == "2024-12-07"
    assert article.text.startswith("Syrian rebels captured the key city of Homs on Saturday")
    assert "issued a joint statement" in article.text


def test_missing_title_and_date_are_not_errors(tmp_path):
    [article] = load_file(write(tmp_path / "quiet-day.txt", "Nothing happened today.\n"))
    assert article.id == "quiet-day"
    assert article.title == "quiet day"
    assert article.published is None and article.url is None


def test_unquoted_yaml_date_becomes_iso(tmp_path):
    path = write(tmp_path / "a.md", "---\ntitle: T\npublished: 2024-12-07\n---\nBody.\n")
    assert load_file(path)[0].published == "2024-12-07"


def test_folders_are_read_recursively_skipping_hidden_and_other_files(tmp_path):
    write(tmp_path / "a.md", "A body.")
    write(tmp_path / "sub" / "b.txt", "B body.")
    write(tmp_path / ".hidden" / "c.md", "hidden")
    write(tmp_path / "notes.pdf", "not an article")
    assert sorted(a.id for a in load_paths([tmp_path])) == ["a", "b"]


def test_jsonl_records_become_articles(tmp_path):
    path = write(
        tmp_path / "feed.jsonl",
        '{"id": "x1", "title": "One", "text": "First.", "published": "2023-11-02T10:00:00Z"}\n'
        '{"title": "Two", "text": "Second.", "source": "Wire"}\n',
    )
    one, two = load_file(path)
    assert (one.id, one.published) == ("x1", "2023-11-02")
    assert (two.id, two.source) == ("feed-2-0", "Wire")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"text": "ok"}\n{not json\n', "bad.jsonl:2: not valid JSON"),
        ("empty.md", "---\ntitle: Empty\n---\n", "empty.md: the article has no text"),
        ("latin.txt", None, "latin.txt: not UTF-8 text (byte 0xe9 at offset 3)"),
        ("broken.md", "---\ntitle: [unclosed\n---\nBody", "broken.md: bad front matter"),
    ],
)
def test_bad_files_raise_errors_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.write_bytes("caf\xe9".encode("latin-1"))
    else:
        write(path, content)
    with pytest.raises(ArticleError, match=re.escape(message)):
        load_paths([path])


def test_missing_path_and_unsupported_type_are_named(tmp_path):
    with pytest.raises(ArticleError, match="nowhere.md: no such file"):
        load_paths([tmp_path / "nowhere.md"])
    with pytest.raises(ArticleError, match="report.pdf: unsupported file type"):
        load_paths([write(tmp_path / "report.pdf", "x")])


def test_content_hash_changes_with_the_text(tmp_path):
    path = write(tmp_path / "a.md", "Version one.")
    first = load_file(path)[0].content_hash
    assert load_file(path)[0].content_hash == first
    write(path, "Version two.")
    assert load_file(path)[0].content_hash != first
