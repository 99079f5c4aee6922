"""The `briefing` command as a user runs it: a real process, real index, clear errors."""

import os
import subprocess
import sys

from bot.config import SAMPLE_CORPUS


def briefing(*args: str, home, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"BRIEFING_HOME": str(home)} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_help_lists_the_commands(tmp_path):
    result = briefing("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("ingest", "remove", "list", "ask", "chat"):
        assert command in result.stdout


def test_ingest_list_remove_round_trip(tmp_path):
    home = tmp_path / "home"
    first = briefing("ingest", str(SAMPLE_CORPUS), home=home)
    assert first.returncode == 0, first.stderr
    assert "1 added, 0 replaced, 0 unchanged" in first.stdout
    again = briefing("ingest", str(SAMPLE_CORPUS), home=home)
    assert "0 added, 0 replaced, 1 unchanged; 0 passages written" in again.stdout
    listing = briefing("list", home=home)
    assert "2024-12-07  homs-falls  Syrian rebels capture Homs (New York Post)" in listing.stdout
    removed = briefing("remove", "homs-falls", home=home)
    assert removed.returncode == 0 and "removed homs-falls" in removed.stdout
    assert "0 articles" in briefing("list", home=home).stdout


def test_errors_are_one_line_naming_the_input_and_exit_non_zero(tmp_path):
    home = tmp_path / "home"
    missing = briefing("ingest", str(tmp_path / "nowhere"), home=home)
    assert missing.returncode == 1
    assert (
        missing.stderr.strip() == f"briefing: error: {tmp_path / 'nowhere'}: no such file or folder"
    )
    unknown = briefing("remove", "no-such-id", home=home)
    assert unknown.returncode == 1 and "no-such-id: no such article" in unknown.stderr
    empty = briefing("ask", "  ", home=home)
    assert (
        empty.returncode == 1 and empty.stderr.strip() == "briefing: error: the question is empty"
    )


def test_a_bad_as_of_date_is_named_in_one_line(tmp_path):
    result = briefing("ask", "Who won?", "--as-of", "next Tuesday", home=tmp_path)
    assert result.returncode == 2
    assert "'next Tuesday' is not a date (YYYY-MM-DD)" in result.stderr
    assert "Traceback" not in result.stderr
