"""Running questions: embedded and on a real Oxigraph server (same answers), safe parameters against
injection, output formats that parse back, and one-line errors for bad endpoints."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.sparql import prepareQuery

from kg.catalog import load_catalog
from kg.cli import main
from kg.errors import KgError
from kg.params import bind, examples
from kg.query import LocalEngine, RemoteEngine, prepare
from tests.servers import free_port, oxigraph_binary, oxigraph_server, slow_server

needs_oxigraph = pytest.mark.skipif(oxigraph_binary() is None, reason="oxigraph server not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory, layout):  # type: ignore[no-untyped-def]
    """A real Oxigraph server on 127.0.0.1 loaded with the bundled graph by `kg load`."""
    if oxigraph_binary() is None:
        pytest.skip("oxigraph server not installed")
    from click.testing import CliRunner

    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        result = CliRunner().invoke(main, ["load", "--endpoint", f"{base}/store"])
        assert result.exit_code == 0, result.output
        yield base


CATALOG = load_catalog(Path(__file__).resolve().parents[1] / "queries").questions
CHECKS = load_catalog(Path(__file__).resolve().parents[1] / "queries").of_kind("check")


@pytest.fixture(scope="module")
def cold_and_warm(tmp_path_factory, layout):  # type: ignore[no-untyped-def]
    """The embedded store built from Turtle (and written to an empty cache), then read back from the cache."""
    import os

    from kg.graph import oxigraph_store

    before = os.environ.get("KG_CACHE_DIR")
    os.environ["KG_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        return oxigraph_store(layout.graph_files()), oxigraph_store(layout.graph_files())
    finally:
        if before is None:
            del os.environ["KG_CACHE_DIR"]
        else:
            os.environ["KG_CACHE_DIR"] = before


@needs_oxigraph
@pytest.mark.parametrize("stored", CATALOG + CHECKS,
                         ids=[q.name for q in CATALOG] + [f"audit-{c.name}" for c in CHECKS])
def test_same_bytes_cold_warm_and_remote(server: str, cold_and_warm, stored) -> None:  # type: ignore[no-untyped-def]
    """One binding semantics and lists in a fixed order: the same question gives the same bytes on every path."""
    from kg.output import to_json

    cold, warm = cold_and_warm
    bindings = bind(stored, examples(stored)) if hasattr(stored, "params") else {}
    answers = [to_json(LocalEngine(cold).select(stored.sparql, bindings)),  # cold: built from Turtle
               to_json(LocalEngine(warm).select(stored.sparql, bindings)),
               to_json(RemoteEngine(f"{server}/query", timeout=30).select(stored.sparql, bindings))]
    assert answers[0] == answers[1] == answers[2]


FILTERED = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?thing ?name WHERE { ?thing rdfs:label ?label FILTER(STR(?label) = ?name) }"""


@needs_oxigraph
def test_a_parameter_inside_a_filter_answers_alike_embedded_and_remote(server: str, store) -> None:  # type: ignore[no-untyped-def]
    """A trailing VALUES block joined after the FILTER and answered 0 rows remotely where the embedded
    engine answered 1; the VALUES block at the head of the group gives both the same answer."""
    bindings = {"name": ox.Literal("Khimprom")}
    local = LocalEngine(store).select(FILTERED, bindings)
    remote = RemoteEngine(f"{server}/query").select(FILTERED, bindings)
    assert [str(t) for t in local.rows[0]] == [str(t) for t in remote.rows[0]]
    assert [r[0].value for r in local.rows] == ["https://w3id.org/crossroads-kg/id/actor/khimprom"]


@needs_oxigraph
def test_load_twice_replaces(server: str, runner, data_graph) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["load", "--endpoint", f"{server}/store"])
    assert result.exit_code == 0
    count = RemoteEngine(f"{server}/query").select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(count.rows[0][0].value) == len(data_graph)


INJECTIONS = [
    '" } ; DROP ALL ; #',
    "x' } UNION { ?s ?p ?o } #",
    "> . ?s ?p ?o . <",
    "line\nbreak } SELECT * WHERE { ?s ?p ?o }",
    "# comment",
    "}}}}",
]
ANSWER = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?thing ?name WHERE { ?thing rdfs:label ?name }"""


@pytest.mark.parametrize("payload", INJECTIONS)
def test_string_parameter_is_a_plain_value_locally(store, payload: str) -> None:  # type: ignore[no-untyped-def]
    assert LocalEngine(store).select(ANSWER, {"name": ox.Literal(payload)}).rows == []


@needs_oxigraph
@pytest.mark.parametrize("payload", INJECTIONS)
def test_string_parameter_is_a_plain_value_remotely(server: str, payload: str) -> None:
    remote = RemoteEngine(f"{server}/query").select(ANSWER, {"name": ox.Literal(payload)})
    assert remote.rows == []
    still_there = RemoteEngine(f"{server}/query").select("ASK { ?s ?p ?o }")
    assert still_there.boolean is True


def test_string_parameter_matches_exactly(store) -> None:  # type: ignore[no-untyped-def]
    rows = LocalEngine(store).select(ANSWER, {"name": ox.Literal("Khimprom", language="en")}).rows
    assert [r[0].value for r in rows] == ["https://w3id.org/crossroads-kg/id/actor/khimprom"]


@pytest.mark.parametrize("payload", ["actor:x> . ?s ?p ?o . <y", "http://a b", 'x" ; drop', "<>", "no-colon", ""])
def test_bad_iri_parameter_is_rejected(payload: str) -> None:
    from kg.catalog import Param
    from kg.params import to_term

    with pytest.raises(KgError, match=r"expects an IRI|not a valid IRI"):
        to_term(Param("entity", "iri", "an entity"), payload)


@pytest.mark.parametrize(("kind", "payload"), [("integer", "1; DROP"), ("date", "2023-13-45x"), ("year", "20234")])
def test_typed_parameters_are_checked(kind: str, payload: str) -> None:
    from kg.catalog import Param
    from kg.params import to_term

    with pytest.raises(KgError, match=f"expects a {kind}"):
        to_term(Param("p", kind, "a value"), payload)


def test_values_block_serializes_terms_safely() -> None:
    text = prepare("SELECT * WHERE { ?s ?p ?name }", {"name": ox.Literal('a"} #\nb')}, embedded=True).text
    assert 'VALUES (?name) { ("a\\"} #\\nb") }' in text
    prepareQuery(text)  # still one well-formed query


def test_unknown_and_missing_parameters_exit_2(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "claims-by-section", "-p", "nope=1"])
    assert result.exit_code == 2 and "has no parameter nope" in result.output
    result = runner.invoke(main, ["query", "claims-by-section", "-p", "novalue"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_unreachable_endpoint_is_one_line_exit_2(runner) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}/query"
    result = runner.invoke(main, ["query", "claims-by-section", "--endpoint", url, "--timeout", "3"])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"kg: {url} unreachable")
    assert len(result.output.strip().splitlines()) == 1


def test_slow_endpoint_times_out_within_the_timeout(runner) -> None:  # type: ignore[no-untyped-def]
    with slow_server(delay=6) as url:
        started = time.monotonic()
        result = runner.invoke(main, ["query", "claims-by-section", "--endpoint", url, "--timeout", "1"])
        elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert elapsed < 4


@needs_oxigraph
def test_a_syntax_error_is_reported_before_anything_is_sent(server: str, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", "SELECT ?x WHERE { ?x ?y }", "--endpoint", f"{server}/query"])
    assert result.exit_code == 2
    assert "SPARQL syntax error" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("update", ["INSERT DATA { <a:b> <a:c> <a:d> }", "PREFIX x: <a:>\nDELETE WHERE { ?s ?p ?o }",
                                    "DROP ALL", "LOAD <http://example.org/>"])
def test_sparql_refuses_updates(runner, update: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", update])
    assert result.exit_code == 2
    assert "refused" in result.output


def test_formats_parse_back(runner) -> None:  # type: ignore[no-untyped-def]
    name = "claims-by-section"
    as_json = runner.invoke(main, ["query", name, "--format", "json"]).output
    parsed = rdflib.query.Result.parse(io.StringIO(as_json), format="json")
    as_csv = list(csv.reader(io.StringIO(runner.invoke(main, ["query", name, "--format", "csv"]).output)))
    as_tsv = runner.invoke(main, ["query", name, "--format", "tsv"]).output
    parsed_tsv = rdflib.query.Result.parse(io.StringIO(as_tsv), format="tsv")
    assert [str(v) for v in parsed.vars] == as_csv[0]
    assert len(parsed) == len(as_csv) - 1 == len(parsed_tsv)
    json_rows = [[("" if row[v] is None else str(row[v])) for v in parsed.vars] for row in parsed]
    assert json_rows == as_csv[1:]
    md = runner.invoke(main, ["query", name, "--format", "md"]).output.splitlines()
    assert md[0].startswith("| section") and len(md) == len(as_csv) + 1


def test_table_fits_80_columns(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "claims-by-section"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "https://" not in result.output


def test_wide_answers_become_records_in_80_columns(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "seizure-timeline"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert result.output.startswith("-[ 1 ]")
    assert "188 kg" in result.output and "mephedrone" in result.output


def test_why_adds_claims_with_quote_and_source(runner) -> None:  # type: ignore[no-untyped-def]
    query = ("SELECT ?seizure WHERE { VALUES ?seizure "
             "{ <https://w3id.org/crossroads-kg/id/event/seizure-2023-03-heroin-100kg> } }")
    result = runner.invoke(main, ["sparql", query, "--why"])
    assert result.exit_code == 0, result.output
    assert "In March 2023, a Tajik national was arrested" in result.output
    assert "note 15" in result.output
    assert "KNB press release, 25 March 2023" in result.output
    as_json = json.loads(runner.invoke(main, ["sparql", query, "--why", "--format", "json"]).output)
    binding = as_json["results"]["bindings"][0]
    assert binding["why_footnotes"]["value"] == "15"
    assert binding["why_grade"]["value"] == "B"


READ_COMMANDS = [
    ["stats"], ["stats", "--format", "json"], ["stats", "--by-section"], ["stats", "--by-section", "--format", "json"],
    ["why", "actor:khimprom"], ["why", "Khimprom", "--format", "json"], ["why", "event:seizure-2023-03-heroin-100kg"],
    ["audit", "--format", "json"], ["audit", "--check", "conflicting-claims"],
    ["query", "criminal-groups", "--why", "--format", "json"],
    ["search", "heroin"], ["search", "Kordai", "--format", "json"],
    ["search", "almaty", "--class", "Claim", "--format", "csv"],
    ["why", "Burkin"], ["query", "place-activities", "-p", "place=Almaty", "--format", "tsv"],
    # the claims behind an entity (the stored question evidence-for-entity), and the evidence as columns
    ["why", "Uzbekistan", "--format", "json"],
    ["query", "actor-facts", "-p", "actor=Khimprom", "--why", "--format", "csv"],
    # a workbook, byte for byte (kg.spreadsheet dates it 1980-01-01 wherever openpyxl would write the time)
    ["query", "actor-facts", "-p", "actor=actor:khimprom", "--why", "--format", "xlsx", "-o", "-"],
    # ad-hoc SPARQL with predeclared prefixes; CONSTRUCT and DESCRIBE as graphs (blank nodes, typed literals)
    ["sparql", "SELECT ?group ?label WHERE { ?group a ckg:CriminalGroup . ?group rdfs:label ?label } ORDER BY ?group"],
    ["sparql", "DESCRIBE claim:cad-kazakhstan-transit-role"],
    ["sparql", "--format", "jsonld", "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }"],
    ["sparql", "--format", "nt", "CONSTRUCT { ?c ckg:quote [ oa:exact ?q ] . ?c ckg:confidence ?n } WHERE { "
     "?c oa:hasSelector/oa:exact ?q . OPTIONAL { ?c ckg:confidence ?n } }"],
    ["sparql", "--limit", "7", "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }"],
    ["sparql", "SELECT ?x WHERE {\n  ?x rdfs:label ?l .\n  ?x ckg:basedIn }"],  # exit 2: the same error and position
]


@needs_oxigraph
@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_every_read_command_answers_the_same_on_an_endpoint(server: str, runner, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    """One engine interface: the same command gives the same bytes, exit code and message on the embedded graph
    and on a SPARQL server holding the same graph."""
    embedded = runner.invoke(main, command)
    remote = runner.invoke(main, [*command, "--endpoint", f"{server}/query"])
    assert embedded.exit_code in ((0, 1) if "basedIn }" not in command[-1] else (2,)), embedded.output
    assert (remote.exit_code, remote.stdout_bytes, remote.stderr) == (
        embedded.exit_code, embedded.stdout_bytes, embedded.stderr)  # bytes: a workbook is not text


@pytest.mark.parametrize("command", [["stats"], ["stats", "--by-section"], ["why", "actor:khimprom"], ["audit"],
                                     ["search", "heroin"], ["why", "Almaty"]], ids=" ".join)
def test_every_read_command_goes_to_the_endpoint_it_is_given(runner, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The other half of the test above: with an endpoint where nothing listens, the command fails with one
    `kg:` line — it did not quietly answer from the embedded graph."""
    result = runner.invoke(main, [*command, "--endpoint", f"http://127.0.0.1:{free_port()}/query", "--timeout", "2"])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.startswith("kg: ") and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("command", [["why", "caf\udce9"], ["sparql", "SELECT ?x WHERE { ?x ?p \"\udcff\" }"]],
                         ids=["why", "sparql"])
def test_text_that_is_not_utf8_is_one_clear_error(runner, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A command-line argument with bytes that are not UTF-8 (Python's surrogate escapes) is bad input."""
    result = runner.invoke(main, command)
    assert result.exit_code == 2
    assert "not valid UTF-8 text" in result.output and "internal error" not in result.output, result.output


@needs_oxigraph
def test_the_whole_graph_constructed_is_the_same_bytes_on_the_server(server: str, store) -> None:  # type: ignore[no-untyped-def]
    """15,820 triples, 2,402 of them with blank nodes: canonical labels and one order make the same N-Triples."""
    from kg.graph import PREFIXES
    from kg.graph_answer import serialize

    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    local, remote = LocalEngine(store), RemoteEngine(f"{server}/query", timeout=60)
    embedded = serialize(local.graph(local.prepare(query)), "nt", PREFIXES)
    assert serialize(remote.graph(remote.prepare(query)), "nt", PREFIXES) == embedded
    assert embedded.count("\n") == len(store)


def test_a_graph_is_asked_for_in_rdf_and_a_non_rdf_answer_is_refused() -> None:
    """CONSTRUCT and DESCRIBE ask for N-Triples or Turtle; an endpoint answering with HTML or a cut N-Triples
    document is one clear error, not an empty graph."""
    from tests import faultservers as fs

    query = "DESCRIBE <http://ex/a>"
    with fs.html() as url:
        engine = RemoteEngine(url, timeout=5)
        with pytest.raises(KgError, match=r"did not answer with an RDF graph \(it sent text/html"):
            engine.graph(engine.prepare(query))
        assert (url.requests[0].header("Accept") or "").startswith("application/n-triples, text/turtle")
    cut = b'<http://ex/a> <http://ex/p> "unterminated'
    with fs.status(200, cut, content_type="application/n-triples") as url:
        engine = RemoteEngine(url, timeout=5)
        with pytest.raises(KgError, match="malformed or incomplete graph"):
            engine.graph(engine.prepare(query))


def test_a_graph_answer_stops_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.errors import LimitExceeded
    from tests import faultservers as fs

    monkeypatch.setenv("KG_LIMIT_ANSWER_BYTES", "1000")
    body = b"".join(b"<http://ex/s%d> <http://ex/p> <http://ex/o> .\n" % i for i in range(100))
    with fs.status(200, body, content_type="application/n-triples") as url:
        engine = RemoteEngine(url, timeout=5)
        with pytest.raises(LimitExceeded) as caught:
            engine.graph(engine.prepare("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    assert caught.value.limit == "answer_bytes"


def test_predeclared_prefixes_mean_what_rdflibs_initial_namespaces_mean(store, data_graph) -> None:  # type: ignore[no-untyped-def]
    """A query without PREFIX lines answers as rdflib answers it with the project's prefixes as `initNs`."""
    from kg.graph import PREFIXES

    query = ("SELECT ?group ?label WHERE { ?group a ckg:CriminalGroup ; rdfs:label ?label ; "
             "ckg:basedIn place:kazakhstan }")
    ours = LocalEngine(store).select(query, prefixes=PREFIXES)
    theirs = data_graph.query(query, initNs=PREFIXES)
    assert sorted((str(r[0].value), r[1].value) for r in ours.rows) == \
        sorted((str(row[0]), str(row[1])) for row in theirs) != []


def test_a_prefix_the_author_declares_wins_over_the_predeclared_one() -> None:
    from kg.graph import PREFIXES

    local = ox.Store()
    local.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode("urn:mine#label"), ox.Literal("mine")))
    local.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode(PREFIXES["rdfs"] + "label"), ox.Literal("rdfs")))
    query = "PREFIX rdfs: <urn:mine#>\nSELECT ?l WHERE { ?s rdfs:label ?l }"
    assert [r[0].value for r in LocalEngine(local).select(query, prefixes=PREFIXES).rows] == ["mine"]
    assert [r[0].value for r in LocalEngine(local).select(query[25:], prefixes=PREFIXES).rows] == ["rdfs"]
