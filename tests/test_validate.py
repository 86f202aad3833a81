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


def test_bundled_data_conforms(layout) -> None:  # type: ignore[no-untyped-def]
    report = validate_files(layout)
    assert report.violations == [], report.to_text()
    assert report.conforms


def test_every_shape_has_a_broken_fixture(layout) -> None:  # type: ignore[no-untyped-def]
    missing = [name for name in node_shapes(layout) if not (SHAPES_FIXTURES / f"{name}.ttl").is_file()]
    assert missing == []


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
