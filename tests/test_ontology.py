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
def test_hermit_finds_the_ontology_consistent(layout) -> None:  # type: ignore[no-untyped-def]
    report = reason(layout)
    assert report.consistent, report.explanation
    assert report.unsatisfiable == []
    assert report.classes > 50


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
