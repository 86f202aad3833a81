"""The `kg` command end to end: exit codes (0 success, 1 findings, 2 bad input), one-line errors, and
`kg stats --format json` against counts made by rdflib's own SPARQL engine on the same files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.cli import main
from tests.conftest import copy_layout


def test_stats_json_matches_the_data(runner, data_graph) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)

    def count(where: str) -> int:
        query = (
            "PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}"
        )
        return int(next(iter(data_graph.query(query))).n)

    assert stats["triples"] == len(data_graph)
    assert stats["claims"] == count("?x a ckg:Claim")
    assert stats["footnotes"] == 88
    assert stats["citations"] == count("?x a ?c . ?c rdfs:subClassOf* ckg:Citation")
    assert stats["sources"] == count("?x a ckg:Source")
    assert stats["entities_per_class"]["ckg:Seizure"] == count("?x a ckg:Seizure")
    assert stats["entities_per_class"]["ckg:Country"] == count("?x a ckg:Country")
    assert sum(stats["entities_per_class"].values()) >= stats["entities"]


def test_stats_table(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["stats"])
    assert result.exit_code == 0
    assert "claims" in result.output and "ckg:Seizure" in result.output


def test_validate_conforms_exit_0(runner, validate_bundled_once) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["validate", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["conforms"] is True


def test_validate_violation_exit_1(runner, tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    """A copy of the bundled folder with its data cut to report.ttl (the ontology, shapes and sections stay), plus
    one planted claim: the full 15k-triple validation costs ~10 s and proves nothing more about how `kg validate`
    reports a violation (the bundled data's own conformance is test_validate.py::test_bundled_data_conforms)."""
    root = copy_layout(tmp_path, layout)
    for part in ("entities", "links", "sections", "sources"):
        shutil.rmtree(root / "data" / "triples" / part)
    (root / "data" / "triples" / "planted.ttl").write_text(
        "@prefix ckg: <https://w3id.org/crossroads-kg/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/crossroads-kg/id/claim/planted> a ckg:Claim .\n",
        "utf-8",
    )
    result = runner.invoke(main, ["--data", str(root), "validate"])
    assert result.exit_code == 1
    assert "claim:planted" in result.output
    assert "A claim must name exactly one report section" in result.output


LOADING_COMMANDS = [
    (part, command)
    for part in ("data/triples/sections", "ontology")
    for command in (["validate"], ["stats"], ["query", "claims-by-section"], ["sparql", "ASK {}"], ["reason"])
]


@pytest.mark.parametrize(("part", "command"), LOADING_COMMANDS)
def test_malformed_turtle_exit_2(runner, tmp_path: Path, layout, part: str, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    if command == ["reason"] and shutil.which("java") is None:
        pytest.skip("no Java runtime")
    root = copy_layout(tmp_path, layout)
    broken = root / part / "zz-broken.ttl"
    broken.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", "utf-8")
    result = runner.invoke(main, ["--data", str(root), *command])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"kg: {broken}:2: malformed Turtle")


def test_unknown_query_suggests_close_names(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "claims-by-sectoin"])
    assert result.exit_code == 2
    assert "no stored question named 'claims-by-sectoin'" in result.output
    assert "claims-by-section" in result.output


def test_query_runs_on_bundled_graph(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "claims-by-section", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"]["bindings"]


def test_queries_lists_the_catalog(runner, layout) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["queries", "--format", "json"])
    assert result.exit_code == 0
    names = {q["name"] for q in json.loads(result.output)}
    assert names == {p.stem for p in layout.queries_dir.glob("*.rq")}


def test_missing_data_folder_exit_2(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["--data", str(tmp_path / "nope"), "stats"])
    assert result.exit_code == 2
    assert result.output.startswith("kg: graph folder")


def test_installed_console_script_answers(tmp_path: Path) -> None:
    """The real `kg` entry point in a subprocess: no traceback, output on stdout, status 0."""
    kg = Path(sys.executable).parent / "kg"
    if not kg.exists():
        pytest.skip("console script not installed next to this interpreter")
    done = subprocess.run([str(kg), "query", "claims-by-section"], capture_output=True, text=True, timeout=120,
                          env={"KG_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
