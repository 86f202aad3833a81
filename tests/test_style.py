"""The code base stays `ruff` clean (the linter is part of the test extra)."""

from __future__ import annotations

import ast
import re
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


def test_mypy_strict_is_clean_on_the_package() -> None:
    """`mypy --strict src/kg`, as configured in pyproject.toml's [tool.mypy] (mypy is in the test extra, so
    a missing mypy is a broken install, not a reason to skip)."""
    mypy = Path(__import__("sys").executable).parent / "mypy"
    assert mypy.exists(), "mypy is not installed: pip install -e '.[test]'"
    done = subprocess.run([str(mypy)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


QUERY_TEXT = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b[^\n]*\{|\bPREFIX\s+[\w-]*:\s*<|\bWHERE\s*\{",
                        re.IGNORECASE)


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    """Every string constant in a module but its docstrings (doctests show query text on purpose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                           for v in node.values)
            found.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "src" / "kg").rglob("*.py")), ids=lambda p: p.stem)
def test_no_sparql_text_in_python(path: Path) -> None:
    """All SPARQL lives in `.rq` files (queries/ for the graph's questions, src/kg/queries/ for the library's):
    a module that needs a query loads it with kg.catalog.library."""
    offending = [f"line {line}: {text[:60]!r}" for line, text in _strings_outside_docstrings(path)
                 if QUERY_TEXT.search(text)]
    assert not offending, offending


def test_the_query_text_detector_bites() -> None:
    for text in ("SELECT ?s WHERE { ?s ?p ?o }", "PREFIX ckg: <x>", "ASK { ?s ?p ?o }", "select * where {"):
        assert QUERY_TEXT.search(text), text
    for text in ("only SELECT and ASK queries are answered here", "a SELECT whose rows are findings"):
        assert not QUERY_TEXT.search(text), text


def test_the_module_map_names_every_module() -> None:
    """`kg/__init__.py` is the map a newcomer reads first: every module and package of the library is on it."""
    package = ROOT / "src" / "kg"
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    modules = {p.stem for p in package.glob("*.py")}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    named = set(re.findall(r"`kg\.(\w+)`", doc))
    assert modules - {"__init__"} - named == set()
    assert named <= modules


DOCTESTED = sorted(p for p in (ROOT / "src" / "kg").rglob("*.py") if ">>> " in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", DOCTESTED, ids=lambda p: p.stem)
def test_the_doctests_hold(path: Path) -> None:
    """The examples in docstrings are run, so they stay true."""
    import doctest
    import importlib

    name = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
    outcome = doctest.testmod(importlib.import_module(name))
    assert outcome.attempted and not outcome.failed
