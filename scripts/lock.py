"""Refresh requirements/lock.txt and lock-test.txt from pyproject.toml: ./scripts/lock runs this.

lock.txt pins, with the sha256 of every file of each release, everything ./scripts/start installs
except torch; lock-test.txt pins what the [test] extra adds for ./scripts/test. Both are resolved
with uv for CPython 3.10 and later on any platform (markers pick a release per Python where one
does not fit all). Pins already in a lock are kept while they fit pyproject.toml; extra arguments
go to `uv pip compile`: --upgrade moves every package to its newest release, --upgrade-package
NAME one of them.

torch is pinned in requirements/torch.txt, not here: the right file differs by machine, and PyPI's
default build depends on several GB of CUDA libraries. The locks are resolved as if torch had the
requirements of the CPU build installed in .venv, so they hold torch's own requirements and no
CUDA package.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
TEST_LOCK = ROOT / "requirements" / "lock-test.txt"
TORCH = ROOT / "requirements" / "torch.txt"
UV = Path(sys.executable).parent / "uv"
_ENTRY = re.compile(r"^[a-z0-9].*?(?=^[a-z0-9]|\Z)", re.MULTILINE | re.DOTALL)


def torch_pin() -> Requirement:
    lines = TORCH.read_text().splitlines()
    [pin] = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return pin


def entries(text: str) -> list[str]:
    """A lock's entries: each `name==version` line with the hash and comment lines under it."""
    return _ENTRY.findall(text)


def pin(entry: str) -> str:
    """An entry without its comments (which say what needs it): the pin and its hashes."""
    return "\n".join(line for line in entry.splitlines() if not line.lstrip().startswith("#"))


def torch_metadata(work: Path) -> Path:
    """A uv config saying what torch requires: the CPU build's list, read from .venv."""
    pin = torch_pin()
    try:
        torch = distribution("torch")
    except PackageNotFoundError:
        sys.exit("scripts/lock: torch is not installed in .venv: run ./scripts/setup --test first")
    version = torch.version.split("+")[0]
    if version not in pin.specifier:
        sys.exit(f"scripts/lock: .venv has torch {torch.version}; {TORCH.name} says {pin}")
    requires = [r for r in torch.requires or [] if "extra ==" not in r]
    config = work / "uv.toml"
    config.write_text(
        "[[dependency-metadata]]\n"
        f'name = "torch"\nversion = "{version}"\nrequires-dist = {json.dumps(requires)}\n'
    )
    return config


def compile_lock(config: Path, inputs: list[str], output: Path, extra: list[str]) -> None:
    command = [
        str(UV), "pip", "compile", "--quiet", "--config-file", str(config), *inputs,
        "--universal", "--python-version", "3.10", "--generate-hashes",
        "--no-emit-package", "torch", "--constraint", str(TORCH),
        "--custom-compile-command", "./scripts/lock", "--output-file", str(output), *extra,
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT)
    # Name the build requirements by where they come from, not by this run's temporary file.
    text = re.sub(r"-r \S+/build\.in", "build-system.requires (pyproject.toml)", output.read_text())
    output.write_text(text)


def main(extra: list[str]) -> None:
    if not UV.exists():
        sys.exit("scripts/lock needs uv: run ./scripts/setup --test first")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = torch_metadata(work)
        # The build backend too: scripts/setup installs the bot with --no-build-isolation.
        build = work / "build.in"
        build.write_text("\n".join(pyproject["build-system"]["requires"]) + "\n")
        compile_lock(config, ["pyproject.toml", str(build)], LOCK, extra)

        full = work / "test.txt"
        app = LOCK.read_text()
        # Start from the pins both files hold now, so that a refresh changes only what it must.
        full.write_text(app + (TEST_LOCK.read_text() if TEST_LOCK.exists() else ""))
        inputs = ["pyproject.toml", str(build), "--extra", "test", "--constraint", str(LOCK)]
        compile_lock(config, inputs, full, extra)
        text = full.read_text()

    header = text[: re.search(r"^[a-z0-9]", text, re.MULTILINE).start()]
    note = "# What the [test] extra adds to requirements/lock.txt: pip installs the two together.\n"
    locked = {pin(entry) for entry in entries(app)}
    added = [entry for entry in entries(text) if pin(entry) not in locked]
    TEST_LOCK.write_text(header + note + "".join(added))
    print(
        f"wrote {LOCK.relative_to(ROOT)} ({len(entries(app))} packages) and "
        f"{TEST_LOCK.relative_to(ROOT)} ({len(added)} more for the tests)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
