"""Shared fixtures: the bundled layout, the report text (tests needing it skip without it), a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner

from kg.layout import Layout, resolve

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPORT = ROOT.parent / "shared" / "report" / "crossroads-kazakhstan-2023.txt"
T = TypeVar("T")


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


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[], T]) -> T:
    """`compute()` once for the whole test run, even with pytest-xdist: the first worker to ask computes it
    under an exclusive lock on a file in the run's shared temp folder and leaves the result there (pickled);
    the others wait for the lock and read it. (xdist's `--dist loadgroup` would keep such tests on one worker,
    but it does not group under pytest 9.2.) Where file locks do not exist, each process computes its own."""
    import pickle

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run
    try:
        import fcntl
    except ImportError:
        return compute()
    result = root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if result.is_file():
            return pickle.loads(result.read_bytes())  # type: ignore[no-any-return]
        value = compute()
        result.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def bundled_validation(layout: Layout, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The full SHACL validation of the bundled graph (the suite's costliest call, ~8 s), run once for the
    whole test run and shared by the tests that need its report."""
    from kg.validate import validate_files

    return once_per_run(tmp_path_factory, "bundled-validation", lambda: validate_files(layout))


@pytest.fixture()
def validate_bundled_once(bundled_validation, layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`kg.validate.validate_files` answers a validation of exactly the bundled graph (same ontology, shapes and
    data files, which no test changes) with the session's report; any other validation runs as usual. For
    tests of what a command does with a report (`kg validate`'s output and exit code), not of validation."""
    import kg.validate

    real = kg.validate.validate_files
    bundled = (layout.ontology_files(), layout.shapes_files(), layout.data_files())

    def validate_files(lay: Layout, data_files: list[Path] | None = None):  # type: ignore[no-untyped-def]
        if data_files is None and (lay.ontology_files(), lay.shapes_files(), lay.data_files()) == bundled:
            return bundled_validation
        return real(lay, data_files)

    monkeypatch.setattr(kg.validate, "validate_files", validate_files)


@pytest.fixture(scope="session", autouse=True)
def rdflib_prepared_queries() -> Iterator[None]:
    """rdflib parses a SPARQL text on every `Graph.query` (pyparsing; ~50 ms for one of the shapes' SHACL-AF
    target queries), and pyshacl sends the same texts on every validation, so the ~60 small validations of the
    suite spent most of their time re-parsing them. In the test process each text is parsed and translated
    once and the prepared query reused, which is rdflib's own `prepareQuery` use: evaluation is unchanged.

    pyshacl writes its PREFIX lines in set order, which varies; a key puts them in order when no prefix name
    repeats (a repeated name would make the order matter)."""
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.evaluate import evalQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query
    prepared: dict[tuple[object, ...], object] = {}

    def key(text: str, base: str | None, namespaces: object) -> tuple[object, ...]:
        lines = text.split("\n")
        head = 0
        while head < len(lines) and lines[head].startswith("PREFIX "):
            head += 1
        names = [line.split(":", 1)[0] for line in lines[:head]]
        prologue = sorted(lines[:head]) if len(set(names)) == len(names) else lines[:head]
        spaces = tuple(sorted(namespaces.items())) if isinstance(namespaces, dict) else namespaces
        return (tuple(prologue), "\n".join(lines[head:]), base, spaces)

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # type: ignore[no-untyped-def]
        if isinstance(strOrQuery, str):
            name = key(strOrQuery, base, initNs)
            if name not in prepared:
                prepared[name] = translateQuery(parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[name]
        return evalQuery(self.graph, strOrQuery, initBindings, base)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


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
