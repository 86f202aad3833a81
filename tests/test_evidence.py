"""The claims behind an entity (kg.evidence, kg.why): one definition, the stored question evidence-for-entity,
shared by `kg why`, `kg query evidence-for-entity`, the claim counts of the other questions and `--why`.

The expected claims are computed here with rdflib over the data files, by the definition written out in
Python (not with the code under test): a claim is behind an entity when it is about the entity (as a whole or
one of its triples), backs a triple whose object the entity is, is a whole-node claim on a fact (not an actor,
place or substance, whose whole-node claims back only themselves) that names the entity directly or through
a quantity or a route leg, or is a whole-node claim on a leg of the entity (a route).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, RDFS, BNode, URIRef

from kg.cli import main
from kg.layout import Layout
from kg.query import Engine, LocalEngine

CKG = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
ID = "https://w3id.org/crossroads-kg/id/"
CLAIM = ID + "claim/"
# "Khimprom obtains lab equipment and precursor chemicals from China; acids are obtained from Russia." (the
# Khimprom section, note 61): two flows and two roles that named Khimprom only in their labels.
SUPPLY_CHAIN = {CLAIM + name for name in ("khim-equipment-precursors-from-china", "khim-acids-from-russia",
                                          "khim-china-source-of-precursors", "khim-russia-source-of-acids")}


def _instances(graph: rdflib.Graph, top: URIRef) -> set[URIRef]:
    classes, todo = {top}, [top]
    while todo:
        for sub in graph.subjects(RDFS.subClassOf, todo.pop()):
            if isinstance(sub, URIRef) and sub not in classes:
                classes.add(sub)
                todo.append(sub)
    return {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}


@pytest.fixture(scope="module")
def expected(data_graph: rdflib.Graph) -> dict[str, set[str]]:
    """The claims behind each IRI, by the definition in the module's docstring (rdflib, in Python)."""
    g = data_graph
    claims = set(g.subjects(RDF.type, CKG.Claim))
    registry = _instances(g, CKG.Actor) | _instances(g, CKG.Place) | _instances(g, CKG.Substance) | claims
    behind: dict[str, set[str]] = defaultdict(set)
    for claim in claims:
        if g.value(claim, OA.hasSelector) is None:  # (a claim without a quote is not evidence; the shapes
            continue                                # forbid it, and the test would show it as a mismatch)
        subject, predicate, obj = (g.value(claim, CKG[p]) for p in ("subject", "predicate", "object"))
        behind[str(subject)].add(str(claim))
        if predicate is not None:
            if isinstance(obj, URIRef):
                behind[str(obj)].add(str(claim))
            continue
        for route in g.subjects(CKG.leg, subject):
            behind[str(route)].add(str(claim))
        if subject in registry:
            continue
        for link, value in g.predicate_objects(subject):
            if link == RDF.type:
                continue
            if isinstance(value, URIRef):
                behind[str(value)].add(str(claim))
            if isinstance(value, BNode) or link == CKG.leg:
                for inner, named in g.predicate_objects(value):
                    if inner != RDF.type and isinstance(named, URIRef):
                        behind[str(named)].add(str(claim))
    return behind


@pytest.fixture(scope="module")
def mentioned(data_graph: rdflib.Graph) -> list[str]:
    """Every entity of the graph that a claim mentions, as the MentionShape reads 'mentions': the subject or
    object of a claim, or a value on the node a claim is about (directly or through a blank node)."""
    g = data_graph
    world = _instances(g, CKG.WorldEntity)
    found: set[URIRef] = set()
    for claim in g.subjects(RDF.type, CKG.Claim):
        subject = g.value(claim, CKG.subject)
        found |= {x for x in (subject, g.value(claim, CKG.object)) if isinstance(x, URIRef)}
        for value in g.objects(subject, None):
            found |= {value} if isinstance(value, URIRef) else set()
            if isinstance(value, BNode):
                found |= {x for x in g.objects(value, None) if isinstance(x, URIRef)}
    return sorted(str(e) for e in found & world)


@pytest.fixture(scope="module")
def engine(store: ox.Store) -> Engine:
    return LocalEngine(store)


@pytest.fixture(scope="module")
def stored_rows(engine: Engine, layout: Layout, mentioned: list[str]) -> dict[str, set[str]]:
    """The distinct claims of `kg query evidence-for-entity` for every mentioned entity (one query)."""
    from kg.catalog import find
    from kg.query import bound, records

    question = find(layout.queries_dir, "evidence-for-entity")
    rows = records(engine.select(question.sparql, {"entity": [ox.NamedNode(e) for e in mentioned]}))
    claims: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        claims[bound(row, "entity").value].add(bound(row, "claim").value)
    return claims


def test_kg_why_explains_every_entity_a_claim_mentions(engine: Engine, mentioned: list[str],
                                                        expected: dict[str, set[str]],
                                                        stored_rows: dict[str, set[str]]) -> None:
    """The walk: every mentioned entity has evidence, and it is the same claims everywhere — kg why (all of them
    at once, through the function `kg why` calls for one), evidence-for-entity and the rdflib reading."""
    from kg.graph import compact
    from kg.why import ENTITY, explain_many

    assert len(mentioned) > 500  # (the bundled graph has 536: a walk that finds nothing must fail)
    explained = explain_many(engine, mentioned)
    failed = [compact(e) for e in mentioned if not explained[e].claims]
    assert failed == []
    for entity in mentioned:
        got = {item.claim for item in explained[entity].claims}
        assert explained[entity].kind == ENTITY, compact(entity)
        assert got == expected[entity], compact(entity)
        assert got == stored_rows[entity], compact(entity)
        grouped = [item.claim for fact in explained[entity].facts for item in fact.claims]
        assert sorted(grouped) == sorted(got)  # every claim under exactly one fact


@pytest.mark.parametrize("term", ["heroin", "Uzbekistan"])
def test_kg_why_answers_for_what_it_refused(runner, term: str, expected: dict[str, set[str]]) -> None:  # type: ignore[no-untyped-def]
    """`kg why heroin` and `kg why Uzbekistan` exited 2 ('not an entity … that any claim backs')."""
    result = runner.invoke(main, ["why", term, "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {c["claim"] for c in answer["claims"]} == expected[answer["term"]]
    assert answer["kind"] == "entity or fact" and answer["facts"]
    text = runner.invoke(main, ["why", term])
    count = len(expected[answer["term"]])
    assert text.exit_code == 0 and f"rests on {count} claims about {len(answer['facts'])} facts" in text.stdout
    # the claims by grade, counted from the JSON (each claim's grade is the weakest of its sources)
    grades = defaultdict(int)
    for claim in answer["claims"]:
        grades[claim["grade"]] += 1
    shown = " · ".join(f"{g} {grades[g]}" for g in sorted(grades))
    assert f"claims by source grade: {shown}" in " ".join(text.stdout.split()), text.stdout[:600]


def test_khimprom_supply_chain_is_linked_and_shown(runner, data_graph: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    khimprom = URIRef(ID + "actor/khimprom")
    facts = {data_graph.value(URIRef(c), CKG.subject) for c in SUPPLY_CHAIN}
    assert all((fact, CKG.participant, khimprom) in data_graph for fact in facts)  # linked in the data
    answer = json.loads(runner.invoke(main, ["why", "actor:khimprom", "--format", "json"]).stdout)
    assert {c["claim"] for c in answer["claims"]} >= SUPPLY_CHAIN
    quotes = {c["quote"] for c in answer["claims"] if c["claim"] in SUPPLY_CHAIN}
    assert "Khimprom obtains lab equipment and precursor chemicals from China; acids are obtained from Russia." in \
        quotes
    roles = {f["fact"]: f["roles"] for f in answer["facts"]}
    assert all(roles[str(fact)] == ["participant"] for fact in facts)
    notes = {cite["note"] for c in answer["claims"] if c["claim"] in SUPPLY_CHAIN for cite in c["citations"]}
    assert notes == {61}


COUNTING = [  # (question, the column naming the entity): each row's n_claims counts the claims behind it
    ("criminal-groups", "group"), ("places", "place"), ("substances", "substance"), ("routes", "route")]


@pytest.mark.parametrize(("name", "column"), COUNTING)
def test_claim_counts_agree_with_the_definition(engine: Engine, layout: Layout, expected: dict[str, set[str]],
                                                name: str, column: str) -> None:
    """`criminal-groups` showed n_claims 0 for a group backed by three quoted claims."""
    from kg.catalog import find
    from kg.params import expand
    from kg.query import bound, records

    rows = records(engine.select(find(layout.queries_dir, name).sparql))
    assert rows
    for row in rows:
        entity = bound(row, column).value
        assert int(bound(row, "n_claims").value) == len(expected[entity]) > 0, entity
        if "claims" in row:
            assert {expand(c) for c in bound(row, "claims").value.split()} == expected[entity], entity


def test_criminal_groups_count_the_arrest_of_the_2022_group(engine: Engine, layout: Layout) -> None:
    """The group of foreign nationals arrested in late 2022 showed 0 claims: its claims are the event's."""
    from kg.catalog import find
    from kg.query import records

    rows = {r["group"].value: r for r in records(engine.select(find(layout.queries_dir, "criminal-groups").sparql))
            if r["group"] is not None}
    assert int(rows[ID + "actor/foreign-nationals-group-2022"]["n_claims"].value) >= 3  # type: ignore[union-attr]


def test_actor_facts_carry_every_claim_behind_the_actor(engine: Engine, layout: Layout, data_graph: rdflib.Graph,
                                                       expected: dict[str, set[str]], mentioned: list[str]) -> None:
    """'Everything about an actor' is everything: its rows together carry the claims behind it, each row some."""
    from kg.catalog import find
    from kg.params import expand
    from kg.query import bound, records

    actors = sorted(set(mentioned) & {str(a) for a in _instances(data_graph, CKG.Actor)})
    question = find(layout.queries_dir, "actor-facts")
    carried: dict[str, set[str]] = defaultdict(set)
    for row in records(engine.select(question.sparql, {"actor": [ox.NamedNode(a) for a in actors]})):
        listed = {expand(c) for c in bound(row, "claims").value.split()}
        assert listed and int(bound(row, "n_claims").value) == len(listed)
        carried[bound(row, "actor").value] |= listed
    assert {a: carried[a] for a in actors} == {a: expected[a] for a in actors}


def test_why_rows_rest_on_the_claims_a_row_lists(runner) -> None:  # type: ignore[no-untyped-def]
    """`--why` shows, for a row with a `claims` column, exactly those claims (what n_claims counts)."""
    result = runner.invoke(main, ["query", "actor-facts", "-p", "actor=actor:khimprom", "--why", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_row: dict[str, set[str]] = defaultdict(set)
    listed: dict[str, set[str]] = {}
    for row in rows:
        by_row[row["why_row"]].add(row["why_claim"])
        listed[row["why_row"]] = set(row["claims"].split())
    assert by_row == listed and len(listed) >= 15


WHY_COLUMNS = ["why_row", "why_claim", "why_claim_iri", "why_quote", "why_section", "why_footnotes",
               "why_citations", "why_sources", "why_source_urls", "why_grade", "why_credibility", "why_status",
               "why_hedge"]


def test_why_columns_carry_quote_section_footnote_source_grade_hedge(runner) -> None:  # type: ignore[no-untyped-def]
    """For spreadsheets: one row per claim, the evidence as columns, one IRI style per column."""
    args = ["query", "actor-facts", "-p", "actor=actor:khimprom", "--why", "--format"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, [*args, "csv"]).stdout)))
    assert list(rows[0])[-len(WHY_COLUMNS):] == WHY_COLUMNS
    for row in rows:
        assert re.fullmatch(r"claim:[a-z0-9-]+", row["why_claim"])  # CURIEs
        assert row["why_claim_iri"] == CLAIM + row["why_claim"].removeprefix("claim:")  # full IRIs
        assert row["why_quote"] and row["why_section"] and row["why_sources"] and row["why_grade"] in "ABCDEF"
    # "Burkin continues to run Khimprom's lucrative business" — according to a Kazakh law enforcement officer
    burkin = next(r for r in rows if r["why_claim"] == "claim:khim-burkin-still-runs-khimprom")
    assert burkin["why_hedge"] == "according to a Kazakh law enforcement officer" and burkin["why_status"] == "reported"
    acids = next(r for r in rows if r["why_claim"] == "claim:khim-acids-from-russia")
    assert acids["why_footnotes"] == "61" and acids["why_citations"] == "Note 61"
    assert acids["why_sources"] == \
        "GI-TOC interview with a Kazakh law enforcement operational-level officer, March 2023"
    # a source with a URL: the KNB press release of note 15
    seizure = runner.invoke(main, ["query", "evidence-for-entity", "-p", "entity=event:seizure-2023-03-heroin-100kg",
                                   "--why", "--format", "csv"])
    urls = {r["why_source_urls"] for r in csv.DictReader(io.StringIO(seizure.stdout))}
    assert any("https://www.gov.kz/memleket/entities/knb/press/news/details/526156?lang=ru" in u for u in urls)
    tsv = runner.invoke(main, [*args, "tsv"]).stdout.splitlines()[0].split("\t")
    assert tsv[-len(WHY_COLUMNS):] == [f"?{c}" for c in WHY_COLUMNS]
    bindings = json.loads(runner.invoke(main, [*args, "json"]).stdout)["results"]["bindings"]
    assert all(b["why_claim_iri"]["type"] == "uri" and b["why_claim"]["type"] == "literal" for b in bindings)


@pytest.mark.parametrize("term", ["heroin", "event:seizure-2023-03-heroin-100kg", "cite:note-15"])
def test_why_text_fits_the_terminal(runner, term: str) -> None:  # type: ignore[no-untyped-def]
    """Lines fit the width (only a URL longer than the line stands alone on a longer one); no CURIE or IRI is
    cut, and the words are those of the unwrapped tree."""
    from kg.graph import compact

    wide = runner.invoke(main, ["why", term], env={"COLUMNS": "1000"}).stdout
    answer = json.loads(runner.invoke(main, ["why", term, "--format", "json"]).stdout)
    curies = {compact(c["claim"]) for c in answer["claims"]} | {compact(f["fact"]) for f in answer["facts"]}
    for width in (80, 60):
        text = runner.invoke(main, ["why", term], env={"COLUMNS": str(width)}).stdout
        for line in text.splitlines():
            assert len(line) <= width or re.fullmatch(r" *https?://\S+", line), line
        assert sorted(text.split()) == sorted(wide.split())
        assert curies <= set(text.split())  # each CURIE whole on one line


def test_the_definition_is_one_file(layout: Layout) -> None:
    """`kg why` runs the stored question itself (from the bundled graph), not a copy of it."""
    from kg.evidence import DEFINITION, definition

    assert DEFINITION == "evidence-for-entity"
    assert definition().path.resolve() == (layout.queries_dir / "evidence-for-entity.rq").resolve()
