"""Two eval runs of one question set, question by question: which ones a change gained and lost,
and how likely so many would move by chance.

The default model is not bit-for-bit repeatable across machines, and a set of 85 questions
moves by several points between two runs of the same settings. A difference in accuracy is
worth acting on only when more questions moved one way than chance explains: the exact sign
test (McNemar's test) on the questions right in one run and wrong in the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from scipy.stats import binomtest

from bot.errors import BriefingError


@dataclass
class Comparison:
    both: int
    """Questions in both runs."""
    right_before: int
    right_after: int
    gained: list[str] = field(default_factory=list)
    """Ids right after the change and wrong before."""
    lost: list[str] = field(default_factory=list)
    """Ids right before the change and wrong after."""

    @property
    def p_value(self) -> float:
        """Two-sided exact sign test on the questions that moved: 1.0 when none did."""
        moved = len(self.gained) + len(self.lost)
        return binomtest(len(self.gained), moved, 0.5).pvalue if moved else 1.0

    def report(self) -> str:
        lines = [
            f"questions in both runs: {self.both}",
            f"right before: {self.right_before} ({self.right_before / self.both:.3f}), "
            f"after: {self.right_after} ({self.right_after / self.both:.3f})",
            f"gained {len(self.gained)}: {' '.join(self.gained) or '-'}",
            f"lost {len(self.lost)}: {' '.join(self.lost) or '-'}",
            self._verdict(),
        ]
        return "\n".join(lines)

    def _verdict(self) -> str:
        if not self.gained and not self.lost:
            return "no question moved"
        chance = " (as many could move by chance: p >= 0.05)" if self.p_value >= 0.05 else ""
        return f"sign test p = {self.p_value:.3f}{chance}"


def is_right(row: dict) -> bool:
    """A reader's verdict on one saved result: an answerable question answered right, an
    unanswerable one abstained on."""
    if row["expected"]["answerable"]:
        return bool(row["score"]["correct"])
    return bool(row["answer"]["abstained"])


def load_verdicts(results: Path) -> dict[str, bool]:
    """Question id -> right, from an eval run's results.jsonl."""
    try:
        lines = results.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise BriefingError(f"{results}: cannot read ({err.strerror})") from None
    verdicts = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            verdicts[row["id"]] = is_right(row)
        except (ValueError, KeyError, TypeError):
            raise BriefingError(
                f"{results}: line {number} is not an eval result (see bot/evaluate.py)"
            ) from None
    return verdicts


def compare(before: Path, after: Path) -> Comparison:
    """The questions both runs answered, compared one by one."""
    old, new = load_verdicts(before), load_verdicts(after)
    shared = [i for i in old if i in new]
    if not shared:
        raise BriefingError(f"{before} and {after} share no question id")
    return Comparison(
        both=len(shared),
        right_before=sum(old[i] for i in shared),
        right_after=sum(new[i] for i in shared),
        gained=[i for i in shared if new[i] and not old[i]],
        lost=[i for i in shared if old[i] and not new[i]],
    )
