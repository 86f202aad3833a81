"""The SPARQL-target shapes run on pyoxigraph (kg.shacl_sparql) give pyshacl's own findings.

The oracle is pyshacl validating with every shape, on rdflib's engine, as kg.validate did before; the
findings of `kg.validate.validate_files` (pyshacl for the other shapes, pyoxigraph for these) must equal its
findings on every shape fixture, on all of them at once (where focus nodes of different shapes meet), and on
the clean fixture. The bundled graph is compared in the benchmark (benchmarks/validate.py), as it costs pyshacl
alone ~6 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import shacl_sparql
from kg.graph import rdflib_graph
from kg.validate import (
    Finding,
    _findings,
    _sorted,
    ill_typed_findings,
    lexical_forms_kept,
    quiet_rdflib,
    validate_files,
)

SHAPES_FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
FIXTURES = sorted(SHAPES_FIXTURES.glob("*.ttl"))


def pyshacl_alone(layout, data_files: list[Path]) -> tuple[bool, list[Finding]]:  # type: ignore[no-untyped-def]
    import pyshacl

    with quiet_rdflib():
        with lexical_forms_kept():
            data = rdflib_graph(layout.ontology_files() + data_files)
        shapes = rdflib_graph(layout.shapes_files())
        ill_typed = ill_typed_findings(data)
        conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                                allow_warnings=True)
        return bool(conforms) and not ill_typed, _sorted(_findings(results, data, shapes) + ill_typed)


def test_the_sparql_target_shapes_are_taken_and_the_others_left(layout) -> None:  # type: ignore[no-untyped-def]
    shapes = rdflib_graph(layout.shapes_files())
    taken, others = shacl_sparql.split(shapes)
    names = sorted(str(s.node).rsplit("#", 1)[-1] for s in taken)
    assert names == ["ClaimTripleShape", "ConflictNoteShape", "DatatypeRangeShape", "DateShape", "FactBackingShape",
                     "HedgeCueShape", "HedgeInQuoteShape", "LinkBackingShape", "LinkTripleShape", "MentionShape",
                     "PeriodShape", "QuantityNumberShape"]
    import rdflib

    node_shape = rdflib.URIRef(shacl_sparql.SH + "NodeShape")
    left = {str(s).rsplit("#", 1)[-1] for s in others.subjects(rdflib.RDF.type, node_shape)}
    assert "ActorShape" in left and not left & set(names)
    assert len(others) < len(shapes)


# the fixtures of the shapes kg.shacl_sparql runs, each alone, and every fixture at once (where the other shapes'
# fixtures meet these shapes); pyshacl alone costs ~0.4 s a fixture, so the others are not validated one by one
SPARQL_FIXTURES = [p for p in FIXTURES if p.stem in {
    "ClaimTripleShape", "ConflictNoteShape", "DateShape", "DatatypeRangeShape", "FactBackingShape", "HedgeCueShape",
    "HedgeInQuoteShape",
    "LinkBackingShape", "LinkTripleShape", "MentionShape", "PeriodShape", "QuantityNumberShape", "clean"}]


def test_every_sparql_shape_has_its_fixture() -> None:
    assert len(SPARQL_FIXTURES) == 13


@pytest.mark.parametrize("group", [[p] for p in SPARQL_FIXTURES] + [FIXTURES],
                         ids=[p.stem for p in SPARQL_FIXTURES] + ["all"])
def test_findings_are_pyshacls(layout, group: list[Path]) -> None:  # type: ignore[no-untyped-def]
    expected_conforms, expected = pyshacl_alone(layout, group)
    report = validate_files(layout, data_files=group)
    assert report.findings == expected
    assert report.conforms == expected_conforms


def test_a_message_names_the_values_of_its_solution(layout) -> None:  # type: ignore[no-untyped-def]
    """Stated by hand from the HedgeInQuoteShape fixture: the cue that is not in the quote is in the message."""
    report = validate_files(layout, data_files=[SHAPES_FIXTURES / "HedgeInQuoteShape.ttl"])
    messages = [f.message for f in report.findings if f.shape == "ckgsh:HedgeInQuoteShape"]
    assert messages and all(m.startswith('Hedge cue "') and m.endswith('" does not occur in the claim\'s quote: '
                                                                       'a cue must be words of the quote.')
                            for m in messages), messages


SHORT_NAMES = '''
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
ex:ShortNameShape a sh:NodeShape ;
  sh:target [ a sh:SPARQLTarget ; sh:prefixes ex: ;
              sh:select """SELECT ?this WHERE { ?s ex:name ?this . FILTER (STRLEN(?this) < 3) }""" ] ;
  sh:sparql [ a sh:SPARQLConstraint ; sh:prefixes ex: ; sh:message "name {$this} is too short" ;
              sh:select """SELECT $this WHERE { }""" ] .
'''


def test_a_literal_the_target_selects_is_a_focus_node_as_for_pyshacl() -> None:
    import pyshacl
    import rdflib

    shapes = rdflib.Graph().parse(data=SHORT_NAMES, format="turtle")
    data = rdflib.Graph().parse(data='@prefix ex: <http://example.org/> . ex:a ex:name "xy" . ex:b ex:name "long" .',
                                format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, advanced=True)
    expected = {str(m) for m in report.objects(None, rdflib.URIRef(shacl_sparql.SH + "resultMessage"))}
    taken, _ = shacl_sparql.split(shapes)
    found = shacl_sparql.evaluate(shacl_sparql.store_of(data), taken, data)
    assert expected == {"name xy is too short"} == {r.message for r in found}
    assert [r.focus for r in found] == [rdflib.Literal("xy")]
