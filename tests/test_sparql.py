"""kg.sparql, the gate in front of the engines: query or update is decided by tokens, not lines; SERVICE
and deep nesting are refused; parameters bind where a FILTER sees them; GROUP_CONCAT lists are found.

The verdicts are checked against two independent parsers: rdflib's SPARQL 1.1 grammar (query or update)
and pyoxigraph's (the texts that pass the gate parse as queries)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

from kg import sparql
from kg.catalog import load_catalog
from kg.errors import KgError, LimitExceeded, Refused
from kg.sparql import analyse, bind_values, require_query

ROOT = Path(__file__).resolve().parents[1]

UPDATES = [
    "PREFIX ex: <http://ex/> DROP ALL",
    "PREFIX ex: <http://ex/>\nDELETE WHERE { ?s ?p ?o }",
    "INSERT DATA { <a:b> <a:c> <a:d> }",
    "# a comment\nCLEAR ALL",
    "LOAD <http://127.0.0.1:1/x>",
    "BASE <http://ex/> PREFIX : <http://ex/> WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "prefix ex: <http://ex/> drop silent graph <http://ex/g>",
    "CREATE GRAPH <http://ex/g>",
    "COPY DEFAULT TO <http://ex/g>",
    "MOVE <http://ex/a> TO <http://ex/b>",
    "ADD <http://ex/a> TO <http://ex/b>",
    "DELETE DATA { <a:b> <a:c> <a:d> } ; INSERT DATA { <a:b> <a:c> <a:e> }",
]
QUERIES = [
    "SELECT ?delete WHERE { ?delete ?p ?o }",
    'SELECT * WHERE { ?s ?p "DROP ALL" }',
    'SELECT * WHERE { ?s ?p """\nINSERT\n""" }',
    "PREFIX drop: <http://ex/> SELECT * WHERE { ?s drop:all ?o }",
    "SELECT * WHERE { ?s ?p ?o } # DELETE WHERE { ?s ?p ?o }",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE <http://ex/a>",
    "select ?clear where { ?clear ?p ?o }",
    "PREFIX SERVICE: <http://ex/> SELECT * WHERE { ?s SERVICE:p ?o }",
]


@pytest.mark.parametrize("text", UPDATES)
def test_updates_are_refused_as_rdflib_reads_them(text: str) -> None:
    parseUpdate(text)  # an update indeed, by an independent SPARQL 1.1 grammar
    with pytest.raises(Refused, match="updates"):
        require_query(text, embedded=False)


@pytest.mark.parametrize("text", QUERIES)
def test_queries_a_line_regex_refused_are_accepted(text: str) -> None:
    parseQuery(text)
    assert require_query(text, embedded=True).is_query


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . { SERVICE ?endpoint { ?s ?p ?o } } }",
])
def test_service_is_refused_embedded_and_passed_to_endpoints(text: str) -> None:
    with pytest.raises(Refused, match="SERVICE"):
        require_query(text, embedded=True)
    assert require_query(text, embedded=False).calls_service


def test_deep_nesting_is_a_limit_not_a_crash() -> None:
    deep = "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000
    with pytest.raises(LimitExceeded) as caught:
        analyse(deep)
    assert caught.value.limit == "query_depth" and "5000 levels" in str(caught.value)
    analyse("SELECT * WHERE " + "{" * 50 + " ?s ?p ?o " + "}" * 50)


def test_query_size_is_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_LIMIT_QUERY_CHARS", "100")
    with pytest.raises(LimitExceeded, match="limit is 100"):
        analyse("SELECT * WHERE { ?s ?p ?o } " + "#" * 200)


def test_characters_that_start_no_token_are_a_syntax_error() -> None:
    with pytest.raises(KgError, match="line 2"):
        analyse("SELECT * WHERE {\n ?s ?p ?o ` }")


STORE = ox.Store()
STORE.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/label"), ox.Literal("Khimprom")))
STORE.add(ox.Quad(ox.NamedNode("http://ex/b"), ox.NamedNode("http://ex/label"), ox.Literal("Other")))


@pytest.mark.parametrize("text", [
    "SELECT ?thing ?name WHERE { ?thing <http://ex/label> ?l FILTER(STR(?l) = ?name) }",
    "SELECT ?thing ?name { ?thing <http://ex/label> ?l . FILTER(STR(?l) = ?name) }",
    "SELECT * WHERE { SELECT ?thing ?name WHERE { ?thing <http://ex/label> ?name } }",
])
def test_a_parameter_is_seen_by_filters_as_with_sep_0007_substitution(text: str) -> None:
    value = ox.Literal("Khimprom")
    bound = bind_values(text, analyse(text), {"name": str(value)})
    parseQuery(bound)
    ours, native = STORE.query(bound), STORE.query(text, substitutions={ox.Variable("name"): value})
    assert sorted(map(str, ours)) == sorted(map(str, native)) != []


@pytest.mark.parametrize(("value", "expected"), [("Khimprom", True), ("Nobody", False)])
def test_a_parameter_binds_in_ask_queries(value: str, expected: bool) -> None:
    """SEP-0007 substitution needs a projection, so ASK cannot use it; the VALUES block works for ASK too."""
    text = "ASK { ?thing <http://ex/label> ?l FILTER(STR(?l) = ?name) }"
    assert bool(STORE.query(bind_values(text, analyse(text), {"name": str(ox.Literal(value))}))) is expected


def test_lists_are_found_through_tidying_and_renaming() -> None:
    text = """SELECT (COALESCE(?place_list, "") AS ?places) (GROUP_CONCAT(?x) AS ?words) WHERE {
      { SELECT (REPLACE(GROUP_CONCAT(DISTINCT ?p; separator="; "), "^; ", "") AS ?place_list)
        WHERE { ?s ?q ?p } } }"""
    assert analyse(text).lists == {"place_list": "; ", "places": "; "}


CATALOG = load_catalog(ROOT / "queries").questions


@pytest.mark.parametrize("stored", CATALOG, ids=[q.name for q in CATALOG])
def test_every_stored_question_passes_the_gate_with_its_lists_seen(stored) -> None:  # type: ignore[no-untyped-def]
    """Every list a question builds with GROUP_CONCAT must be one the gate can put in order (the bytes are
    compared across engines in test_query)."""
    analysis = require_query(stored.sparql, embedded=True)
    concats = stored.sparql.upper().count("GROUP_CONCAT")
    assert not concats or analysis.lists, f"{stored.name} builds lists the gate cannot see"


FRAGMENTS = st.sampled_from([
    "SELECT", "ASK", "DELETE", "INSERT", "DROP", "CLEAR", "LOAD", "WHERE", "{", "}", "(", ")", "?s", "$p",
    "<http://ex/a>", '"DROP ALL"', "'''x\nDELETE'''", "# DELETE\n", "PREFIX ex: <http://ex/>", "ex:a", ".", ";",
    "SERVICE", "VALUES", "FILTER", "=", "1", "@en", "^^", "\n", " ", "GROUP_CONCAT", "SEPARATOR", "AS",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=30).map(" ".join))
def test_fuzz_the_gate_never_lets_an_update_through(text: str) -> None:
    """Whatever the text, the gate answers with an analysis or a KgError; and a text it lets through is
    never one that rdflib's grammar reads as an update."""
    try:
        analysis = require_query(text, embedded=True)
    except KgError:
        return
    assert analysis.is_query
    try:
        parseUpdate(text)
    except Exception:
        return
    # rdflib's update grammar accepts the empty update; anything else it accepts must not have passed.
    assert not text.strip() or text.strip().startswith("#"), text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_any_text_gives_an_analysis_or_a_kg_error(text: str) -> None:
    with contextlib.suppress(KgError):
        analyse(text)


def negated_class(positive: str) -> str:
    """`[^…]`: the complement of the complement of a positive class, as `kg.sparql.NEGATED_CLASSES` holds it
    (print this to regenerate one after a change to the grammar's classes)."""
    compiled = re.compile(positive)
    ranges, start = [], None
    for code in range(0x110001):
        outside = code <= 0x10FFFF and compiled.fullmatch(chr(code)) is None
        if outside and start is None:
            start = code
        elif not outside and start is not None:
            ranges.append((start, code - 1))
            start = None

    def escape(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return "[^" + "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges) + "]"


@pytest.mark.parametrize("name", sorted(sparql.POSITIVE_CLASSES))
def test_each_negated_class_holds_exactly_the_grammars_characters(name: str) -> None:
    """The tokenizer's fast `[^…]` classes against the grammar's own (§19.8), over every Unicode code point."""
    assert sparql.NEGATED_CLASSES[name] == negated_class(sparql.POSITIVE_CLASSES[name])


# --- Prefixes: predeclared for ad-hoc queries, declared by stored ones -----------------------------------------

PREDECLARED = {"rdfs": "http://www.w3.org/2000/01/rdf-schema#", "ckg": "https://w3id.org/crossroads-kg/ontology#",
               "skos": "http://www.w3.org/2004/02/skos/core#"}


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * { ?s rdfs:label ?l }", "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"),
    ("SELECT * { ?s ckg:x ?o ; rdfs:label ?l }",  # in the order of the predeclared prefixes
     "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>\n"),
    ("PREFIX rdfs: <urn:mine#> SELECT * { ?s rdfs:label ?l }", ""),  # the author's declaration wins
    ("SELECT * { ?s <http://x/p> 'rdfs:label' } # skos:x", ""),  # in a string or a comment: no use
    ("SELECT * { ?s ?p ?o }", ""),
])
def test_the_prologue_declares_only_the_predeclared_prefixes_used_and_not_declared(text: str, expected: str) -> None:
    prologue = sparql.prologue(text, analyse(text), PREDECLARED)
    assert prologue == expected
    parseQuery(prologue + text)  # rdflib reads the result as a query


@pytest.mark.parametrize(("text", "declared", "where"), [
    ("SELECT * { ?s nope:x ?o }", "known prefixes: ckg, rdfs, skos", "line 1, column 15"),
    ("PREFIX ex: <http://ex/>\nSELECT * {\n ?s ex:p ?o .\n ?o rdfx:label ?l }", "did you mean 'rdfs:'?",
     "line 4, column 5"),
])
def test_an_undeclared_prefix_is_an_error_at_its_first_use(text: str, declared: str, where: str) -> None:
    with pytest.raises(sparql.SparqlSyntaxError) as caught:
        sparql.prologue(text, analyse(text), PREDECLARED)
    assert where in str(caught.value) and declared in str(caught.value)


def test_without_predeclared_prefixes_only_the_declared_ones_are_known() -> None:
    text = "PREFIX ex: <http://ex/> SELECT * { ?s ex:p ?o ; rdfs:label ?l }"
    with pytest.raises(sparql.SparqlSyntaxError, match="unknown prefix 'rdfs:'; the query declares: ex"):
        sparql.prologue(text, analyse(text), {})


def test_a_word_that_starts_no_query_is_a_syntax_error_not_an_update() -> None:
    with pytest.raises(sparql.SparqlSyntaxError, match="line 2, column 1: 'SELEC' starts no query"):
        require_query("# a typo\nSELEC * { ?s ?p ?o }", embedded=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS | st.sampled_from(["rdfs:label", "ckg:x", "nope:y", "PREFIX rdfs: <urn:r#>", "BASE <urn:b/>",
                                             "CONSTRUCT { ?s ?p ?o }", "DESCRIBE", "\n\n", "<a>"]),
                max_size=30).map(" ".join))
def test_fuzz_a_syntax_error_is_placed_in_the_authors_text(text: str) -> None:
    """With predeclared prefixes and a parameter bound, a text is answered or refused with a KgError; a syntax
    error's line and column are inside the author's text."""
    from kg.graph import PREFIXES
    from kg.query import LocalEngine

    engine = LocalEngine(ox.Store())
    try:
        prepared = engine.prepare(text, {"s": ox.NamedNode("http://ex/a")}, prefixes=PREFIXES)
        engine.graph(prepared) if prepared.form in ("CONSTRUCT", "DESCRIBE") else engine.rows(prepared)
    except sparql.SparqlSyntaxError as err:
        lines = text.split("\n")
        assert 1 <= err.line <= len(lines), (text, str(err))
        assert 1 <= err.column <= len(lines[err.line - 1]) + 1, (text, str(err))
        assert "\\u{" not in str(err) and "\n" not in str(err)
    except KgError:
        pass


@pytest.mark.parametrize("fmt", ["table", "json", "sparql", "ttl"])
def test_kg_prefixes_lists_every_prefix_in_each_format(runner, fmt: str) -> None:  # type: ignore[no-untyped-def]
    import json

    import rdflib

    from kg.cli import main
    from kg.graph import PREFIXES

    result = runner.invoke(main, ["prefixes", "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        assert json.loads(out) == PREFIXES
    elif fmt == "sparql":  # a prologue rdflib reads, declaring each prefix
        parsed = parseQuery(out + "SELECT * WHERE { ?s ?p ?o }")
        assert {str(d["prefix"]): str(d["iri"]) for d in parsed[0] if "prefix" in d} == PREFIXES
    elif fmt == "ttl":  # a Turtle document rdflib reads, binding each prefix
        graph = rdflib.Graph(bind_namespaces="none").parse(data=out, format="turtle")
        assert {p: str(ns) for p, ns in graph.namespaces() if p in PREFIXES} == PREFIXES
    else:
        assert [line.split()[0] for line in out.splitlines()] == [f"{p}:" for p in PREFIXES]
        assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(("query", "absent"), [
    ("SELECT ?x WHERE { ?x a ckg:Claimm }", ["ckg:Claimm"]),
    ("SELECT ?x WHERE { ?x ckg:basedInn ?y . FILTER (DATATYPE(?y) = xsd:integer) }", ["ckg:basedInn"]),
    ("ASK { actor:khimprom ckg:basedIn place:mars }", ["place:mars"]),
    ("SELECT ?x WHERE { ?x a ckg:Claim ; ckg:section sec:nowhere }", ["sec:nowhere"]),
    ("SELECT ?x WHERE { ?x a ckg:Seizure ; ckg:place place:china }", []),  # real terms, no such seizure
])
def test_an_empty_answer_names_the_terms_the_graph_does_not_hold(runner, query: str, absent: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A misspelled class or property is no error in SPARQL, only an empty answer: kg says which terms occur
    nowhere in the graph (a note on stderr; the answer and exit 0 are unchanged)."""
    from kg.cli import main

    result = runner.invoke(main, ["sparql", query, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "occur" in line and "nowhere in the graph" in line]
    if absent:
        assert len(notes) == 1 and all(term in notes[0] for term in absent), result.stderr
    else:
        assert notes == [], result.stderr
