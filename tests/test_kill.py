"""SIGKILL an ingest part-way: no article is left half-written, and running again finishes it."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from bot.articles import Article
from bot.sources import load_paths
from bot.store import split_article

INGEST = textwrap.dedent(
    """
    import sys
    from bot.config import Settings
    from bot.sources import load_paths
    from bot.store import Store
    store = Store(Settings())
    store.ingest(load_paths([sys.argv[1]]), on_article=lambda a: print(a.id, flush=True))
    print("finished", flush=True)
    """
)
SNAPSHOT = textwrap.dedent(
    """
    import json
    from bot.config import Settings
    from bot.store import Store
    print(json.dumps(Store(Settings()).collection.get(include=[])["ids"]))
    """
)


def run_python(code: str, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True
    )


def ingest_and_kill(folder, env, after_articles: int) -> None:
    """Start an ingest, let it write some articles, then kill it at a random moment."""
    process = run_python(INGEST, env, str(folder))
    for _ in range(after_articles):
        assert process.stdout.readline().strip() not in ("", "finished")
    time.sleep(random.uniform(0, 0.3))  # lands in embedding or in Chroma's write
    process.send_signal(signal.SIGKILL)
    process.wait()


def indexed_ids(env) -> set[str]:
    out, _ = run_python(SNAPSHOT, env).communicate(timeout=120)
    return set(json.loads(out))


def expected_ids(article: Article) -> set[str]:
    digest = article.content_hash[:16]
    return {f"{article.id}:{digest}:{n}" for n in range(len(split_article(article, 250)))}


def assert_every_version_whole(ids: set[str], *editions: list[Article]) -> None:
    """Every version of an article in the index has all its passages (never some of them)."""
    whole = {
        version: expected_ids(article)
        for articles in editions
        for article in articles
        for version in [f"{article.id}:{article.content_hash[:16]}"]
    }
    for version in {pid.rsplit(":", 1)[0] for pid in ids}:
        held = {pid for pid in ids if pid.rsplit(":", 1)[0] == version}
        assert held == whole[version], f"{version}: {len(held)} of {len(whole[version])} passages"


def write_articles(folder, edition: int, count: int = 40) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(count):
        sentences = " ".join(
            f"In edition {edition}, the harbour board of town {n} reported item {k}."
            for k in range(30)
        )
        (folder / f"town-{n:02d}.md").write_text(f"---\ntitle: Town {n}\n---\n{sentences}\n")


def test_killed_ingests_leave_whole_articles_and_a_rerun_finishes(tmp_path):
    env = os.environ | {"BRIEFING_HOME": str(tmp_path / "home")}
    folder = tmp_path / "news"
    write_articles(folder, edition=1)
    first = load_paths([folder])

    ingest_and_kill(folder, env, after_articles=5)
    ids = indexed_ids(env)
    present = {pid.split(":")[0] for pid in ids}
    assert 5 <= len(present) < len(first), "the kill did not land part-way"
    assert_every_version_whole(ids, first)

    write_articles(folder, edition=2)  # every article changes: replaces get interrupted too
    second = load_paths([folder])
    ingest_and_kill(folder, env, after_articles=12)
    assert_every_version_whole(indexed_ids(env), first, second)

    finish = run_python(INGEST, env, str(folder))
    out, _ = finish.communicate(timeout=300)
    assert out.strip().endswith("finished")
    assert indexed_ids(env) == set().union(*(expected_ids(a) for a in second))
