"""The ontology: it parses, carries its header metadata, every term is labelled and defined
(checks in the spirit of ROBOT's report, as SPARQL), and HermiT finds it consistent."""

from __future__ import annotations

import shutil

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from kg.reason import reason

CKG = "https://w3id.org/crossroads-kg/ontology#"
ONTOLOGY = rdflib.URIRef("https://w3id.org/crossroads-kg/ontology")


@pytest.fixture(scope="module")
def ontology(layout):  # type: ignore[no-untyped-def]
    graph = rdflib.Graph()
    for path in layout.ontology_files():
        graph.parse(path, format="turtle")
    return graph


@pytest.mark.parametrize(
    "prop",
    ["owl:versionIRI", "dcterms:license", "dcterms:title", "dcterms:creator", "dcterms:description"],
)
def test_header_has(ontology, prop: str) -> None:  # type: ignore[no-untyped-def]
    prefix, local = prop.split(":")
    namespace = {"owl": str(OWL), "dcterms": "http://purl.org/dc/terms/"}[prefix]
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY, rdflib.URIRef(namespace + local)) is not None, f"ontology header lacks {prop}"


MISSING = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term WHERE {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty skos:Concept
                 skos:ConceptScheme }
  ?term a ?kind .
  FILTER (STRSTARTS(STR(?term), "%s"))
  FILTER NOT EXISTS { ?term %s ?value }
} ORDER BY ?term
"""


@pytest.mark.parametrize("annotation", ["rdfs:label", "skos:definition"])
def test_every_term_is_annotated(ontology, annotation: str) -> None:  # type: ignore[no-untyped-def]
    missing = [str(row.term) for row in ontology.query(MISSING % (CKG, annotation))]
    assert missing == [], f"terms without {annotation}: {missing}"


def test_every_class_and_property_used_by_shapes_is_declared(layout, ontology) -> None:  # type: ignore[no-untyped-def]
    shapes = rdflib.Graph()
    for path in layout.shapes_files():
        shapes.parse(path, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    used = {o for o in shapes.objects(None, sh.targetClass)} | {o for o in shapes.objects(None, sh["class"])}
    used |= {o for o in shapes.objects(None, sh.path) if isinstance(o, rdflib.URIRef)}
    declared = set(ontology.subjects(RDF.type, None))
    undeclared = sorted(str(t) for t in used - declared if str(t).startswith(CKG))
    assert undeclared == []


def test_no_duplicate_labels_among_terms(ontology) -> None:  # type: ignore[no-untyped-def]
    rows = ontology.query(
        f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?label (COUNT(DISTINCT ?t) AS ?n) WHERE {{
          ?t rdfs:label ?label . FILTER (STRSTARTS(STR(?t), "{CKG}"))
          FILTER NOT EXISTS {{ ?t a <http://www.w3.org/2004/02/skos/core#ConceptScheme> }}
        }} GROUP BY ?label HAVING (COUNT(DISTINCT ?t) > 1)"""
    )
    assert [(str(r.label), int(r.n)) for r in rows] == []


java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime")


@java
def test_hermit_finds_the_graph_with_its_data_consistent(layout) -> None:  # type: ignore[no-untyped-def]
    """The ontology with every individual of the data (its dates given as xsd:dateTime, kg.reason)."""
    report = reason(layout)
    assert report.consistent, report.explanation
    assert report.unsatisfiable == []
    assert report.classes > 50
    assert report.individuals > 1500  # by hand: 1,800 named things typed with an ontology class


PLANTED_IN_DATA = {
    # a value with a language tag where the range is xsd:string (52 descriptions were so, and HermiT and
    # Konclude found the graph inconsistent)
    "a tagged string for an xsd:string range": 'actor:khimprom ckg:description "a network"@en .',
    # an individual of the data typed with a class disjoint from its own
    "an actor that is also a seizure": "actor:khimprom a ckg:Seizure .",
    # a date where the range is a string: still a contradiction after dates are given as xsd:dateTime
    "a date for a string": 'actor:khimprom ckg:ethnicity "2023-03-01"^^xsd:date .',
}


@java
@pytest.mark.parametrize("planted", sorted(PLANTED_IN_DATA))
def test_hermit_finds_a_planted_data_level_inconsistency(layout, tmp_path, planted: str) -> None:  # type: ignore[no-untyped-def]
    """On the ontology and a small data file (the bundled data's reasoning is the test above; ~2 s a run)."""
    fixture = tmp_path / "planted.ttl"
    fixture.write_text(
        f"@prefix ckg: <{CKG}> .\n@prefix actor: <https://w3id.org/crossroads-kg/id/actor/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "actor:khimprom a ckg:CriminalNetwork .\n" + PLANTED_IN_DATA[planted] + "\n",
        encoding="utf-8",
    )
    report = reason(layout, extra_files=[fixture], with_data=False)
    assert not report.consistent, planted


def test_dates_are_given_to_the_reasoner_as_the_instant_they_begin() -> None:
    from rdflib import URIRef

    from kg.validate import lexical_forms_kept

    s, p = URIRef("urn:x:s"), URIRef("urn:x:p")
    with lexical_forms_kept():  # as kg.reason builds the graph: literals as written
        _check_dates(s, p)


def _check_dates(s, p) -> None:  # type: ignore[no-untyped-def]
    from rdflib import XSD, Literal

    from kg.reason import for_the_reasoner

    given = {
        Literal("2023", datatype=XSD.gYear): Literal("2023-01-01T00:00:00", datatype=XSD.dateTime),
        Literal("2023-03", datatype=XSD.gYearMonth): Literal("2023-03-01T00:00:00", datatype=XSD.dateTime),
        Literal("2023-03-15+05:00", datatype=XSD.date): Literal("2023-03-15T00:00:00+05:00", datatype=XSD.dateTime),
        Literal("--02-29", datatype=XSD.gMonthDay): Literal("--02-29"),
        Literal("abc", datatype=XSD.date): Literal("abc"),  # ill-typed: kg validate reports it
        Literal("7", datatype=XSD.integer): Literal("7", datatype=XSD.integer),
    }
    for before, after in given.items():
        graph = rdflib.Graph()
        graph.add((s, p, before))
        assert set(for_the_reasoner(graph)) == {(s, p, after)}, before


@java
def test_hermit_finds_a_planted_inconsistency(layout, tmp_path) -> None:  # type: ignore[no-untyped-def]
    planted = tmp_path / "planted.ttl"
    planted.write_text(
        f"@prefix ckg: <{CKG}> .\n"
        "<https://w3id.org/crossroads-kg/id/fixture/both> a ckg:Person , ckg:Seizure .\n",
        encoding="utf-8",
    )
    report = reason(layout, extra_files=[planted])
    assert not report.consistent


@java
def test_hermit_finds_an_unsatisfiable_class(layout, tmp_path) -> None:  # type: ignore[no-untyped-def]
    planted = tmp_path / "planted.ttl"
    planted.write_text(
        f"@prefix ckg: <{CKG}> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "ckg:PlaceThatActs a owl:Class ; rdfs:subClassOf ckg:Place , ckg:Actor .\n",
        encoding="utf-8",
    )
    report = reason(layout, extra_files=[planted])
    assert report.consistent
    assert report.unsatisfiable == ["ckg:PlaceThatActs"]
