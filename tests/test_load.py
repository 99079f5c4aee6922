"""Many users at once, through a real client: gradio_client sessions against `briefing chat`
with the tiny model. Bounded in count, never in time: the waits are measured and printed, not
asserted. The suite runs 4 sessions x 3 questions; the issue's 16 x 5 (about 9 minutes here):

    BRIEFING_LOAD_SESSIONS=16 BRIEFING_LOAD_QUESTIONS=5 ./scripts/test -s tests/test_load.py
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.llm import tiny_model_path
from tests.loopback import chat_page
from tests.test_hostile import last_reply

SESSIONS = int(os.environ.get("BRIEFING_LOAD_SESSIONS", "4"))
QUESTIONS = int(os.environ.get("BRIEFING_LOAD_QUESTIONS", "3"))
ASKED = [
    "Who issued the joint statement?",
    "Which city did the rebels capture?",
    "When did the rebels take Homs?",
    "What did the joint statement call for?",
    "Who won the football match in Madrid?",  # not in the articles
]


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, models_dir):
    env = {
        "BRIEFING_HOME": str(tmp_path_factory.mktemp("load-home")),
        "BRIEFING_MODELS_DIR": str(models_dir),
        "BRIEFING_LLM_MODEL": str(tiny_model_path()),
        "BRIEFING_QUEUE_SIZE": str(SESSIONS * 2),
    }
    with chat_page(tmp_path_factory.mktemp("load-log") / "chat.log", env) as url:
        yield url


def session(url: str, n: int) -> list[tuple[str, str, float]]:
    """One visitor asking QUESTIONS questions in turn: (question, reply, seconds waited)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    asked = []
    for k in range(QUESTIONS):
        question = ASKED[(n + k) % len(ASKED)]
        started = time.perf_counter()
        reply = last_reply(client.predict(question, [], api_name="/ask"))
        asked.append((question, reply, time.perf_counter() - started))
    return asked


def test_many_sessions_at_once_all_get_answers(chat_server):
    from gradio_client import Client

    alone = Client(chat_server, verbose=False)
    expected = {q: last_reply(alone.predict(q, [], api_name="/ask")) for q in ASKED}
    assert all(reply and not reply.startswith("Error") for reply in expected.values())

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        results = [r for rs in pool.map(lambda n: session(chat_server, n), range(SESSIONS))
                   for r in rs]  # fmt: skip
    wall = time.perf_counter() - started

    assert len(results) == SESSIONS * QUESTIONS
    failed = [(q, reply) for q, reply, _ in results if not reply or reply.startswith("Error")]
    assert failed == []
    # Every answer cites the one article, or abstains; the tiny model is not asked to be right
    # (the gate itself is proven in tests/test_hostile.py). Answers can differ a little from
    # the ones given alone: greedy decoding over a differently reused llama.cpp cache.
    for _, reply, _ in results:
        assert "Syrian rebels capture Homs" in reply or "The articles don" in reply, reply
    same = sum(reply == expected[q] for q, reply, _ in results)
    waits = sorted(seconds for *_, seconds in results)
    p95 = waits[max(0, round(0.95 * len(waits)) - 1)]
    print(
        f"\nload: {SESSIONS} sessions x {QUESTIONS} questions, {len(results)} answers, "
        f"0 failures, wall {wall:.0f} s, wait p50 {statistics.median(waits):.1f} s, "
        f"p95 {p95:.1f} s, max {waits[-1]:.1f} s; {same} word for word as when asked alone"
    )
