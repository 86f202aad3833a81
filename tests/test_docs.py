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
