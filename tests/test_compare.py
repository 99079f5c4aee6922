"""`briefing compare`: two runs question by question, through the real command."""

import json

import pytest

from bot.compare import compare
from bot.errors import BriefingError
from tests.test_cli import briefing


def result(id_: str, answerable: bool, correct: bool = False, abstained: bool = False) -> dict:
    return {
        "id": id_,
        "expected": {"answerable": answerable},
        "answer": {"abstained": abstained},
        "score": {"correct": correct},
    }


def write(path, rows: list[dict]):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_questions_gained_and_lost_and_the_sign_test(tmp_path):
    before = write(
        tmp_path / "before.jsonl",
        [result(f"q{i}", True, correct=False) for i in range(8)]
        + [result("null", False, abstained=False), result("only-before", True, correct=True)],
    )
    after = write(
        tmp_path / "after.jsonl",
        [result(f"q{i}", True, correct=True) for i in range(8)]
        + [result("null", False, abstained=True)],
    )
    found = compare(before, after)
    assert len(found.before) == 9 and "right before: 0 (0.000), after: 9 (1.000)" in found.report()
    assert found.gained == [f"q{i}" for i in range(8)] + ["null"] and found.lost == []
    assert found.p_value == pytest.approx(2 / 2**9)  # nine of nine one way: 2 * 0.5**9

    one_each = compare(
        write(tmp_path / "a.jsonl", [result("x", True, True), result("y", True, False)]),
        write(tmp_path / "b.jsonl", [result("x", True, False), result("y", True, True)]),
    )
    assert one_each.p_value == 1.0 and "by chance" in one_each.report()
    unmoved = compare(before, before)
    assert unmoved.gained == unmoved.lost == [] and unmoved.report().endswith("no question moved")


def test_the_command_prints_the_comparison_and_names_a_bad_file(tmp_path):
    before = write(tmp_path / "before.jsonl", [result("q1", True, False)])
    after = write(tmp_path / "after.jsonl", [result("q1", True, True)])
    shown = briefing("compare", str(before), str(after), home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "gained 1: q1" in shown.stdout and "lost 0: -" in shown.stdout

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1"}\n', encoding="utf-8")
    failed = briefing("compare", str(bad), str(after), home=tmp_path)
    assert failed.returncode == 1
    expected = f"briefing: error: {bad}:1: not an eval result (see bot/evaluate.py)"
    assert failed.stderr.strip() == expected
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(BriefingError, match=r"bad.jsonl:1: not a valid eval result \("):
        compare(bad, after)
    with pytest.raises(BriefingError, match="nowhere.jsonl: cannot read"):
        compare(tmp_path / "nowhere.jsonl", after)
    with pytest.raises(BriefingError, match="share no question"):
        compare(after, write(tmp_path / "other.jsonl", [result("q2", True, True)]))
