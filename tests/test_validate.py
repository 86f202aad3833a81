"""SHACL validation: the bundled data conforms; every shape catches its hand-written broken fixture with
the expected message; a small clean fixture passes every shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.validate import validate_files

SHAPES_FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def node_shapes(layout) -> list[str]:  # type: ignore[no-untyped-def]
    graph = rdflib.Graph()
    for path in layout.shapes_files():
        graph.parse(path, format="turtle")
    return sorted(str(s).rsplit("#", 1)[-1] for s in graph.subjects(rdflib.RDF.type, SH.NodeShape))


def header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines()[:2]:
        key, _, value = line.lstrip("# ").partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_bundled_data_conforms(bundled_validation) -> None:  # type: ignore[no-untyped-def]
    report = bundled_validation  # validate_files(layout), run once for the suite (tests/conftest.py)
    assert report.violations == [], report.to_text()
    assert report.conforms


def test_every_shape_has_a_broken_fixture(layout) -> None:  # type: ignore[no-untyped-def]
    missing = [name for name in node_shapes(layout) if not (SHAPES_FIXTURES / f"{name}.ttl").is_file()]
    assert missing == []


def test_no_shape_writes_to_the_data(layout) -> None:  # type: ignore[no-untyped-def]
    """kg.validate lets pyshacl work on its data graph in place (no copy); that is right only while no shape
    holds a SHACL rule (sh:rule), the one thing that adds triples to the data."""
    graph = rdflib.Graph()
    for path in layout.shapes_files():
        graph.parse(path, format="turtle")
    rules = sorted({str(s) for s in graph.subjects(SH.rule, None)}
                   | {str(s) for kind in (SH.TripleRule, SH.SPARQLRule) for s in graph.subjects(rdflib.RDF.type, kind)})
    assert rules == [], f"shapes with SHACL rules: {rules}; validate a copy of the data (inplace=False)"


def test_validation_leaves_the_data_graph_as_it_was(layout, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The data graph pyshacl validated in place holds, afterwards, exactly the triples it was given."""
    import kg.validate

    fixture = SHAPES_FIXTURES / "ActorShape.ttl"
    seen: list[tuple[rdflib.Graph, set[object]]] = []
    real = kg.validate.rdflib_graph

    def recording(paths):  # type: ignore[no-untyped-def]
        graph = real(paths)
        if fixture in paths:  # the data graph (pyshacl adds a few triples to the shapes graph, copy or not)
            seen.append((graph, set(graph)))
        return graph

    monkeypatch.setattr(kg.validate, "rdflib_graph", recording)
    report = validate_files(layout, data_files=[fixture])
    assert not report.conforms
    assert len(seen) == 1 and set(seen[0][0]) == seen[0][1]


@pytest.mark.parametrize(
    "fixture", sorted(p.name for p in SHAPES_FIXTURES.glob("*.ttl") if p.name != "clean.ttl")
)
def test_shape_catches_its_fixture(layout, fixture: str) -> None:  # type: ignore[no-untyped-def]
    path = SHAPES_FIXTURES / fixture
    expected = header(path)
    assert expected.get("shape") == f"ckgsh:{path.stem}", "first line must be '# shape: ckgsh:<file stem>'"
    report = validate_files(layout, data_files=[path])
    assert not report.conforms
    caught = [f for f in report.violations if f.shape == expected["shape"]]
    assert caught, f"{expected['shape']} did not fire; findings: {[(f.shape, f.message) for f in report.findings]}"
    assert any(expected["expect"] in f.message for f in caught), [f.message for f in caught]


def test_clean_fixture_conforms(layout) -> None:  # type: ignore[no-untyped-def]
    report = validate_files(layout, data_files=[SHAPES_FIXTURES / "clean.ttl"])
    assert report.conforms, report.to_text()


# --- Ill-typed literals, no shapes, no data, nested details ------------------------------------------------

PREFIXES = "@prefix ex: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def graph_folder(tmp_path: Path, data: str | None, shapes: str | None) -> Path:
    """A graph folder with its own ontology/ (empty but for the shapes given), data/triples/data.ttl and an
    empty queries/, so that nothing falls back to the bundled graph (and no note is printed)."""
    root = tmp_path / "graph"
    (root / "queries").mkdir(parents=True)
    (root / "ontology").mkdir(parents=True)
    if shapes is not None:
        write(root / "ontology" / "shapes" / "shapes.ttl", shapes)
    (root / "data" / "triples").mkdir(parents=True)
    if data is not None:
        write(root / "data" / "triples" / "data.ttl", data)
    return root


@pytest.mark.parametrize(("datatype", "lexical"), [
    ("date", "abc"),
    ("date", "2023-02-30"),
    ("integer", "x1"),
    ("integer", "1.5"),
    ("decimal", "1.2.3"),
    ("decimal", "ten"),
    ("gYear", "19x"),
    ("gYear", "2023-01"),
    ("gYearMonth", "2023-13"),
    ("boolean", "maybe"),
    ("boolean", "yes"),
    ("dateTime", "2020-13-45T99:00:00"),
    ("dateTime", "2020-01-01"),
])
def test_an_ill_typed_literal_is_a_violation(layout, tmp_path: Path, datatype: str, lexical: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "bad.ttl", PREFIXES + f'ex:thing ex:when "{lexical}"^^xsd:{datatype} .\n')
    report = validate_files(layout, data_files=[path])
    assert not report.conforms
    assert [(f.severity, f.focus, f.path, f.value, f.message, f.shape) for f in report.findings] == [
        ("Violation", "http://example.org/thing", "http://example.org/when", f'"{lexical}"',
         f'ill-typed literal: "{lexical}" is not a valid xsd:{datatype}', "kg:well-typed-literals")
    ]
    assert "does not conform: 1 violation(s)" in report.to_text()


@pytest.mark.parametrize(("datatype", "lexical"), [
    ("date", "2024-02-29"), ("date", "2023-01-05Z"), ("integer", "-12"), ("integer", " 7 "), ("decimal", "1.50"),
    ("decimal", "-.5"), ("gYear", "2023"), ("gYear", "-0044"), ("gYearMonth", "2023-12"), ("boolean", "true"),
    ("boolean", "0"), ("dateTime", "2020-01-01T12:30:00+05:00"), ("double", "1e3"), ("gMonthDay", "--02-29"),
])
def test_a_well_typed_literal_is_not(layout, tmp_path: Path, datatype: str, lexical: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "good.ttl", PREFIXES + f'ex:thing ex:when "{lexical}"^^xsd:{datatype} .\n')
    report = validate_files(layout, data_files=[path])
    assert report.findings == [] and report.conforms, report.to_text()


def test_one_violation_per_ill_typed_literal(layout, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "bad.ttl", PREFIXES + 'ex:a ex:p "abc"^^xsd:date, "x"^^xsd:integer ; '
                 'ex:q "1"^^xsd:integer .\nex:b ex:p "abc"^^xsd:date .\n')
    report = validate_files(layout, data_files=[path])
    assert sorted((f.focus, f.value) for f in report.violations) == [
        ("http://example.org/a", '"abc"'), ("http://example.org/a", '"x"'), ("http://example.org/b", '"abc"')]


def test_ill_typed_literals_log_and_warn_nothing(layout, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """rdflib logs a traceback per ill-typed literal and warns about a "weird boolean": neither gets out, and
    its loggers are left as they were."""
    import logging
    import warnings

    path = write(tmp_path / "bad.ttl", PREFIXES + 'ex:a ex:p "abc"^^xsd:date, "maybe"^^xsd:boolean .\n')
    before = (logging.getLogger("rdflib.term").level, logging.getLogger("rdflib").level)
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = validate_files(layout, data_files=[path])
    assert len(report.violations) == 2
    assert [r.getMessage() for r in caplog.records if r.name.startswith("rdflib")] == []
    assert [str(w.message) for w in caught] == []
    assert (logging.getLogger("rdflib.term").level, logging.getLogger("rdflib").level) == before
    assert rdflib.NORMALIZE_LITERALS is True


def test_ill_typed_literal_through_the_cli_prints_no_traceback(tmp_path: Path) -> None:
    """A real `kg` process (the pytest log capture would hide rdflib's stderr): findings on stdout, exit 1,
    and stderr free of rdflib's tracebacks and warnings."""
    import os
    import subprocess
    import sys

    root = tmp_path / "graph"
    write(root / "data" / "triples" / "bad.ttl",
          PREFIXES + 'ex:a ex:p "abc"^^xsd:date, "maybe"^^xsd:boolean, "x1"^^xsd:integer .\n')
    env = {**os.environ, "KG_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", "from kg.cli import run; run()", "--data", str(root), "validate"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Failed to convert" not in done.stderr
    assert "weird boolean" not in done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("kg: note: ")] == [], done.stderr
    assert done.stdout.count("ill-typed literal") == 3
    assert "does not conform: 3 violation(s)" in done.stdout


@pytest.mark.parametrize("case", ["missing folder", "empty folder", "no shape in the file"])
def test_no_shapes_is_an_error_not_conformance(tmp_path: Path, case: str) -> None:
    from kg.errors import KgError
    from kg.layout import resolve

    shapes = {"missing folder": None, "empty folder": None,
              "no shape in the file": PREFIXES + "ex:note ex:says \"not a shape\" .\n"}[case]
    root = graph_folder(tmp_path, PREFIXES + "ex:a ex:p 1 .\n", shapes)
    if case == "empty folder":
        (root / "ontology" / "shapes").mkdir()
    with pytest.raises(KgError, match=r"^no SHACL shapes in .*shapes: nothing to validate against$"):
        validate_files(resolve(root))


def test_no_data_files_is_an_error(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    from kg.errors import KgError
    from kg.layout import resolve

    root = tmp_path / "graph"
    (root / "data" / "triples").mkdir(parents=True)
    with pytest.raises(KgError, match=r"^no data files in .*triples: nothing to validate$"):
        validate_files(resolve(root))
    with pytest.raises(KgError, match=r"^no data files given: nothing to validate$"):
        validate_files(layout, data_files=[])


def test_no_shapes_through_the_cli_is_exit_2_and_one_line(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kg.cli import main

    root = graph_folder(tmp_path, PREFIXES + "ex:a ex:p 1 .\n", None)
    result = runner.invoke(main, ["--data", str(root), "validate"])
    assert result.exit_code == 2
    assert result.stderr == f"kg: no SHACL shapes in {root / 'ontology' / 'shapes'}: nothing to validate against\n"
    assert "conforms" not in result.stdout


DETAIL_SHAPES = PREFIXES + """@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:PersonShape a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:property [ sh:path ex:address ; sh:node ex:AddressShape ] .
ex:AddressShape a sh:NodeShape ;
  sh:property [ sh:path ex:city ; sh:minCount 1 ] ;
  sh:property [ sh:path ex:street ; sh:minCount 1 ] .
"""
DETAIL_DATA = PREFIXES + """ex:alice a ex:Person ; ex:address ex:a1 .
ex:bob a ex:Person ; ex:address ex:a2 .
ex:a1 ex:street "x" .
ex:a2 ex:postcode "y" .
"""


def test_nested_details_are_not_counted_as_violations(tmp_path: Path) -> None:
    """Two persons with a bad address are two violations (pyshacl's own report says "Results (2)"), however
    many sh:detail results pyshacl nests under them (three here)."""
    import re

    import pyshacl

    from kg.layout import resolve

    root = graph_folder(tmp_path, DETAIL_DATA, DETAIL_SHAPES)
    _, graph, text = pyshacl.validate(rdflib.Graph().parse(data=DETAIL_DATA, format="turtle"),
                                      shacl_graph=rdflib.Graph().parse(data=DETAIL_SHAPES, format="turtle"),
                                      inference="none", advanced=True, allow_warnings=True)
    expected = int(re.search(r"^Results \((\d+)\):", text, re.M).group(1))  # type: ignore[union-attr]
    assert expected == 2
    assert len(list(graph.objects(None, SH.detail))) == 3  # the fixture does produce nested results
    report = validate_files(resolve(root))
    assert len(report.violations) == expected
    assert sorted(f.focus for f in report.violations) == ["http://example.org/alice", "http://example.org/bob"]
    assert "does not conform: 2 violation(s)" in report.to_text()
    bob = next(f for f in report.violations if f.focus.endswith("bob"))
    assert "Less than 1 values on" in bob.message and "-><http://example.org/city>" in bob.message, bob.message
