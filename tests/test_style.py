"""The code base stays `ruff` clean (the linter is part of the test extra)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(__import__("sys").executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    paths = ["src", "tests", "benchmarks", "tools"]
    done = subprocess.run([ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_on_the_typed_modules() -> None:
    """`mypy --strict` on the modules listed in pyproject.toml's [tool.mypy] files."""
    mypy = Path(__import__("sys").executable).parent / "mypy"
    if not mypy.exists():
        pytest.skip("mypy not installed")
    done = subprocess.run([str(mypy)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
