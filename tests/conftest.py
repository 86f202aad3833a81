"""Shared fixtures: the bundled layout, the report text (tests needing it skip without it), a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.layout import Layout, resolve

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPORT = ROOT.parent / "shared" / "report" / "crossroads-kazakhstan-2023.txt"


@pytest.fixture(scope="session")
def layout() -> Layout:
    return resolve()


@pytest.fixture(scope="session")
def report_text() -> str:
    """The report's text from ../shared/report/, or a skip where it is absent (it is not redistributed)."""
    if not REPORT.is_file():
        pytest.skip(f"report text not found at {REPORT}")
    return REPORT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def store(layout: Layout):  # type: ignore[no-untyped-def]
    from kg.graph import oxigraph_store

    return oxigraph_store(layout.graph_files(), use_cache=False)


@pytest.fixture(scope="session")
def data_graph(layout: Layout):  # type: ignore[no-untyped-def]
    """The bundled ontology and data parsed by rdflib's own Turtle parser (an engine independent of kg's)."""
    import rdflib

    graph = rdflib.Graph()
    for path in layout.graph_files():
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    return CliRunner()


def copy_layout(tmp_path: Path, layout: Layout) -> Path:
    """A writable copy of the bundled graph folder, for tests that plant flaws in it."""
    import shutil

    root = tmp_path / "graph"
    shutil.copytree(layout.ontology_dir, root / "ontology")
    shutil.copytree(layout.data_dir, root / "data" / "triples")
    shutil.copytree(layout.queries_dir, root / "queries")
    return root


def installed_bundle(tmp_path: Path, layout: Layout) -> Path:
    """A copy of the bundled graph where an installer puts it: `.../site-packages/kg/_bundle`."""
    import shutil

    root = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "kg" / "_bundle"
    shutil.copytree(layout.ontology_dir, root / "ontology")
    shutil.copytree(layout.data_dir, root / "data" / "triples")
    shutil.copytree(layout.queries_dir, root / "queries")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content, to prove nothing was written."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
