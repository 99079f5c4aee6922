"""A judge for tests whose model is scripted: a scripted model cannot judge (bot.judge)."""


class SureJudge:
    """Says yes to everything: the passages hold the answer, and any verdict stands."""

    def p_yes(self, messages) -> float:
        return 0.99
