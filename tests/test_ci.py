"""CI's own script (.ci/run): the suite first, then the quality gates in order within CI's time.

The script runs as CI runs it, from a copy of the repository's layout whose test command and
`briefing` are stand-ins: the real ones take an hour, and what is tested here is the script's
handling of time and exit codes, not the evals (tests/test_evaluate.py runs those)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STAND_IN_EVAL = """#!/usr/bin/env bash
# briefing eval QUESTIONS ... --out evals/out/NAME ...: note the gate, sleep, exit as told.
name=""
while [ $# -gt 0 ]; do [ "$1" = --out ] && name=$(basename "$2"); shift; done
echo "$name" >> gates.log
sleep "${EVAL_SLEEP:-0}"
[ "$name" = "${FAIL_GATE:-}" ] && exit 3
exit 0
"""


def ci_copy(tmp_path: Path, suite_rc: int = 0) -> Path:
    root = tmp_path / "repo"
    (root / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", root / ".ci" / "run")
    for path, text in {
        "scripts/test": f"#!/usr/bin/env bash\nexit {suite_rc}\n",
        ".venv/bin/briefing": STAND_IN_EVAL,
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        (root / path).chmod(0o755)
    return root


def run_ci(root: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    done = subprocess.run(
        [str(root / ".ci" / "run")],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = root / "gates.log"
    return done, log.read_text().split() if log.exists() else []


def test_every_gate_runs_most_important_first_and_a_failing_one_fails_ci(tmp_path):
    root = ci_copy(tmp_path)
    done, gates = run_ci(root)
    assert done.returncode == 0, done.stderr
    assert gates[:2] == ["seed", "multihop-dev"] and len(gates) == 7
    assert "gate seed rc=0" in done.stderr

    (root / "gates.log").unlink()
    done, gates = run_ci(root, FAIL_GATE="multihop-yes-no")
    assert done.returncode == 3
    assert gates == ["seed", "multihop-dev", "multihop-yes-no"]  # nothing after a failure


def test_a_failing_suite_fails_ci_before_any_gate(tmp_path):
    done, gates = run_ci(ci_copy(tmp_path, suite_rc=1))
    assert done.returncode == 1 and gates == []


def test_gates_past_their_start_time_are_skipped_and_one_past_the_end_is_stopped(tmp_path):
    root = ci_copy(tmp_path)
    # bash's SECONDS counts whole seconds of the clock, so it may read 1 a moment after the
    # start: a budget of a few seconds, not of one, leaves the first gate time to start.
    done, gates = run_ci(root, CI_GATES_START_BY_S="3", CI_GATES_END_BY_S="4", EVAL_SLEEP="10")
    assert done.returncode == 0, done.stderr
    assert gates == ["seed"]
    assert "gate seed stopped unfinished" in done.stderr
    assert "gate multihop-short2 not started" in done.stderr


def test_a_time_budget_that_ends_before_it_starts_runs_no_gate(tmp_path):
    done, gates = run_ci(ci_copy(tmp_path), CI_GATES_START_BY_S="100", CI_GATES_END_BY_S="0")
    assert done.returncode == 0, done.stderr
    assert gates == []
    # SECONDS may read 1 already (above): the limit it names is what counts
    assert re.search(r"gate seed not started: \d+s elapsed, past 0s", done.stderr)
