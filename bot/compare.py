"""Two eval runs of one question set, question by question: which ones a change gained and lost,
and how likely so many would move by chance.

The default model is not bit-for-bit repeatable across machines, and a set of 85 questions
moves by several points between two runs of the same settings. A difference in accuracy is
worth acting on only when more questions moved one way than chance explains: the exact sign
test (McNemar's test) on the questions right in one run and wrong in the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest

from bot.errors import BriefingError
from bot.evaluate import is_right, load_results


@dataclass
class Comparison:
    """Each question both runs answered: id -> right (bot.evaluate.is_right), in each run."""

    before: dict[str, bool]
    after: dict[str, bool]

    @property
    def gained(self) -> list[str]:
        return [i for i, right in self.after.items() if right and not self.before[i]]

    @property
    def lost(self) -> list[str]:
        return [i for i, right in self.before.items() if right and not self.after[i]]

    @property
    def p_value(self) -> float:
        """Two-sided exact sign test on the questions that moved: 1.0 when none did."""
        gained, moved = len(self.gained), len(self.gained) + len(self.lost)
        return binomtest(gained, moved, 0.5).pvalue if moved else 1.0

    def report(self) -> str:
        both, gained, lost = len(self.before), self.gained, self.lost
        right_before, right_after = sum(self.before.values()), sum(self.after.values())
        lines = [
            f"questions in both runs: {both}",
            f"right before: {right_before} ({right_before / both:.3f}), "
            f"after: {right_after} ({right_after / both:.3f})",
            f"gained {len(gained)}: {' '.join(gained) or '-'}",
            f"lost {len(lost)}: {' '.join(lost) or '-'}",
        ]
        if not gained and not lost:
            return "\n".join([*lines, "no question moved"])
        p = self.p_value
        chance = " (as many could move by chance: p >= 0.05)" if p >= 0.05 else ""
        return "\n".join([*lines, f"sign test p = {p:.3f}{chance}"])


def compare(before: Path, after: Path) -> Comparison:
    """The questions both runs answered, compared one by one."""
    old = {row["id"]: is_right(row) for row in load_results(before)}
    new = {row["id"]: is_right(row) for row in load_results(after)}
    shared = [i for i in old if i in new]
    if not shared:
        raise BriefingError(f"{before} and {after} share no question id")
    return Comparison({i: old[i] for i in shared}, {i: new[i] for i in shared})
