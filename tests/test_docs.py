"""Generated documentation is current: docs/queries.md (`kg queries --format md`) and docs/coverage.md
(`kg stats --by-section --format md`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(
    ("document", "command"),
    [("queries.md", ["queries", "--format", "md"]), ("coverage.md", ["stats", "--by-section", "--format", "md"])],
)
def test_generated_document_is_current(runner, document: str, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, command)
    assert result.exit_code == 0, result.output
    on_disk = (DOCS / document).read_text(encoding="utf-8")
    assert on_disk == result.output, f"docs/{document} is stale: regenerate it with `kg {' '.join(command)}`"


RELIABILITY = (DOCS / "reliability.md").read_text(encoding="utf-8")
ROOT = DOCS.parent


def test_reliability_lists_every_limit_with_its_default() -> None:
    """docs/reliability.md is the user's reference for limits: each one, with the default in force."""
    import re

    from kg.limits import DEFAULTS

    listed = dict(re.findall(r"^\| `([a-z_]+)` \| (\d+) \|", RELIABILITY, re.MULTILINE))
    assert set(listed) == set(DEFAULTS)
    assert {name: float(value) for name, value in listed.items()} == DEFAULTS


def _battery() -> list[str]:
    import re

    return re.findall(r"`(tests/[a-z_]+\.py::[a-z0-9_]+)`", RELIABILITY)


@pytest.mark.parametrize("reference", _battery())
def test_every_test_the_battery_names_exists(reference: str) -> None:
    import ast

    path, name = reference.split("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}, reference


def test_every_fault_test_is_in_the_battery() -> None:
    """The battery files hold only cases the table explains."""
    import ast

    named = set(_battery())
    for path in [*sorted((ROOT / "tests").glob("test_faults_*.py")), ROOT / "tests" / "test_cli_contract.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = {f"tests/{path.name}::{node.name}" for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
        assert tests <= named, f"not in docs/reliability.md: {sorted(tests - named)}"
