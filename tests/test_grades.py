"""Grades: source reliability by type and record, information credibility by independent corroboration.

Expected grades are worked by hand from the rules in the docstring of kg.grades (and docs/audit.md), never
computed by the code under test; the corroboration fixture states its expectations in its header.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.cli import main
from kg.grades import (
    Credibility,
    credibility,
    credibility_by_claim,
    reliability,
    source_reliability,
    weakest,
    weakest_credibility,
    weakest_grade,
)
from kg.query import LocalEngine

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grades"
CLAIM = "https://w3id.org/crossroads-kg/id/claim/"


@pytest.mark.parametrize(("source_type", "grade"), [
    ("OfficialDocument", "B"), ("LegalAct", "B"), ("AcademicPaper", "B"), ("ResearchReport", "B"),
    ("InterviewWithOfficial", "C"), ("MediaArticle", "C"), ("FieldExperience", "C"),
    ("PersonalCommunication", "D"), ("SocialMediaPost", "D"), ("ThisReport", "F"), ("", "F"), ("Rumour", "F"),
])
def test_reliability_by_type(source_type: str, grade: str) -> None:
    assert reliability(source_type) == grade
    assert source_reliability(source_type) == grade


@pytest.mark.parametrize(("source_type", "dated", "locatable", "grade"), [
    ("OfficialDocument", False, False, "C"),    # a press release nobody can find or date
    ("OfficialDocument", True, False, "B"),     # a date is enough to look it up
    ("OfficialDocument", False, True, "B"),     # so is an address
    ("MediaArticle", False, False, "D"),
    ("SocialMediaPost", False, False, "D"),     # never below D by the record rule
    ("InterviewWithOfficial", False, False, "C"),  # unpublished sources are not graded by their record
    ("PersonalCommunication", False, False, "D"),
    ("ThisReport", False, False, "F"),
])
def test_reliability_by_record(source_type: str, dated: bool, locatable: bool, grade: str) -> None:
    assert source_reliability(source_type, dated=dated, locatable=locatable) == grade


def test_weakest_grades() -> None:
    assert weakest(["OfficialDocument", "PersonalCommunication"]) == "D"
    assert weakest([]) == "F"
    assert weakest_grade(["B", "C", "B"]) == "C"
    assert weakest_grade([]) == "F"
    assert weakest_credibility(["1", "3", "2"]) == "3"
    assert weakest_credibility([]) == "6"


@pytest.mark.parametrize(("grades", "conflict", "expected"), [
    ([], False, "6"),
    ([], True, "6"),                 # nothing to judge by: a conflict does not make it judgeable
    (["B"], True, "5"),
    (["B", "B"], True, "5"),         # corroborated, but contradicted: never better than 5
    (["B", "B"], False, "1"),
    (["B", "C"], False, "1"),
    (["C", "C"], False, "2"),        # two independent sources, none documentary
    (["B", "D"], False, "2"),        # only one graded A-C
    (["C", "C", "D"], False, "2"),
    (["B"], False, "3"),
    (["C"], False, "3"),
    (["D"], False, "4"),
    (["F"], False, "4"),
])
def test_credibility_rules(grades: list[str], conflict: bool, expected: str) -> None:
    result = credibility(grades, conflict)
    assert result.grade == expected
    assert result.independent == len(grades)
    assert result.reason


def test_credibility_label() -> None:
    assert Credibility("5", 1, "contradicted").label == "5: improbable"


def _expected_from_header(path: Path) -> dict[str, str]:
    expected = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#   claim:"):
            claims, grade = line[4:].split("->")
            for claim in claims.split(","):
                expected[CLAIM + claim.strip().removeprefix("claim:")] = grade.split()[0]
    return expected


def test_credibility_on_hand_written_graph(layout) -> None:  # type: ignore[no-untyped-def]
    from kg.graph import oxigraph_store

    fixture = FIXTURES / "corroboration.ttl"
    expected = _expected_from_header(fixture)
    assert len(expected) == 14
    store = oxigraph_store([*layout.ontology_files(), fixture], use_cache=False)
    found = credibility_by_claim(LocalEngine(store))
    assert {claim: c.grade for claim, c in found.items()} == expected
    assert found[CLAIM + "fixture-c2"].independent == 1  # 'Ibid.' is not a second source
    assert found[CLAIM + "fixture-d1"].independent == 1  # nor is a newspaper relaying the press release
    assert found[CLAIM + "fixture-a1"].independent == 2


def test_every_bundled_claim_is_graded(store, data_graph) -> None:  # type: ignore[no-untyped-def]
    import rdflib

    ckg = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
    claims = {str(c) for c in data_graph.subjects(rdflib.RDF.type, ckg.Claim)}
    found = credibility_by_claim(LocalEngine(store))
    assert set(found) == claims
    in_conflict = {str(c) for pair in data_graph.subject_objects(ckg.conflictsWith) for c in pair}
    assert in_conflict
    assert {found[c].grade for c in in_conflict} <= {"5", "6"}
    assert found[CLAIM + "cad-seizure-2023-03-heroin-100kg"].grade == "5"


def test_why_carries_the_weakest_credibility(runner) -> None:  # type: ignore[no-untyped-def]
    query = ("SELECT ?seizure WHERE { VALUES ?seizure "
             "{ <https://w3id.org/crossroads-kg/id/event/seizure-2023-03-heroin-100kg> } }")
    result = runner.invoke(main, ["sparql", query, "--why", "--format", "json"])
    assert result.exit_code == 0, result.output
    binding = json.loads(result.output)["results"]["bindings"][0]
    assert binding["why_credibility"]["value"] == "5"  # the seizure's claim is in conflict
    text = runner.invoke(main, ["sparql", query, "--why"]).output
    assert "credibility 5" in text
