"""kg.graph_answer and `kg sparql` for CONSTRUCT and DESCRIBE: every format parses back, with rdflib, into the
graph rdflib's own SPARQL engine makes from the same query on the same Turtle (compared up to blank-node
labels, `rdflib.compare.isomorphic`); the output is sorted and safe for a terminal; the limits hold; a form
asked for in the other kind of format is a clear exit 2. (The same bytes on a real Oxigraph server:
tests/test_query.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.cli import main
from kg.errors import LimitExceeded
from kg.graph import PREFIXES
from kg.graph_answer import collect, serialize
from kg.output import printable
from kg.query import LocalEngine

RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
QUERIES = [
    "DESCRIBE actor:khimprom",
    "DESCRIBE claim:cad-kazakhstan-transit-role",  # a claim and its quote selector, a blank node
    "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }",
    "CONSTRUCT { ?s ckg:confidence ?c } WHERE { ?s ckg:confidence ?c }",  # typed literals (decimals)
    "CONSTRUCT { ?s dcterms:date ?d } WHERE { ?s dcterms:date ?d }",
    "CONSTRUCT { ?c ckg:quote [ oa:exact ?q ] } WHERE { ?c ckg:section sec:rise-of-synthetic-drugs ; "
    "oa:hasSelector/oa:exact ?q }",  # a fresh blank node per solution
    "CONSTRUCT { ?x rdfs:label ?l } WHERE { ?x a ckg:City ; rdfs:label ?l }",  # language-tagged labels
]


@pytest.fixture(scope="module")
def references(data_graph) -> dict[str, rdflib.Graph]:  # type: ignore[no-untyped-def]
    """rdflib's answer to each query, with the project's prefixes given as rdflib's initial namespaces."""
    return {query: data_graph.query(query, initNs=PREFIXES).graph for query in QUERIES}


@pytest.mark.parametrize("fmt", sorted(RDFLIB_FORMATS))
@pytest.mark.parametrize("query", QUERIES, ids=[q[:40] for q in QUERIES])
def test_each_format_parses_back_into_rdflibs_answer(store, references, query: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    engine = LocalEngine(store)
    text = serialize(engine.graph(engine.prepare(query, prefixes=PREFIXES)), fmt, PREFIXES)
    back = rdflib.Graph().parse(data=text, format=RDFLIB_FORMATS[fmt])
    assert len(references[query]) > 0
    assert isomorphic(back, references[query]), f"{query} as {fmt}: {len(back)} triples, {len(references[query])}"


def test_the_command_answers_describe_in_turtle_with_the_projects_prefixes(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", "DESCRIBE actor:khimprom"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("@prefix ckg: <https://w3id.org/crossroads-kg/ontology#> .\n")
    assert "actor:khimprom a ckg:CriminalNetwork ;" in result.stdout
    assert "https://w3id.org/crossroads-kg/id/actor/" not in result.stdout.split(" .\n", 4)[-1]  # CURIEs after the head
    graph = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert (rdflib.URIRef(PREFIXES["actor"] + "khimprom"), rdflib.RDFS.label, rdflib.Literal("Khimprom", lang="en")) \
        in graph


def test_jsonld_is_compacted_with_the_prefixes(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", "--format", "jsonld", "DESCRIBE actor:khimprom"])
    document = json.loads(result.stdout)
    assert document["@context"]["actor"] == PREFIXES["actor"]
    assert document["@graph"][0]["@id"] == "actor:khimprom"
    assert document["@graph"][0]["@type"] == ["ckg:CriminalNetwork"]


def test_n_triples_are_sorted_and_limit_keeps_the_first(runner) -> None:  # type: ignore[no-untyped-def]
    query = "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }"
    whole = runner.invoke(main, ["sparql", "--format", "nt", query]).stdout.splitlines()
    assert len(whole) == 79 and whole == sorted(whole, key=lambda line: line.split(" ", 2))
    first = runner.invoke(main, ["sparql", "--format", "nt", "--limit", "5", query])
    assert first.exit_code == 0 and first.stdout.splitlines() == whole[:5]


def test_an_empty_graph_says_so(runner) -> None:  # type: ignore[no-untyped-def]
    query = 'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p "no such value" }'
    assert runner.invoke(main, ["sparql", query]).stdout == "# (0 triples)\n"
    assert json.loads(runner.invoke(main, ["sparql", "--format", "jsonld", query]).stdout)["@graph"] == []


def test_more_triples_than_the_row_limit_is_an_error(runner, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_LIMIT_ANSWER_ROWS", "50")
    result = runner.invoke(main, ["sparql", "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "more than 50 triples" in result.stderr and "KG_LIMIT_ANSWER_ROWS" in result.stderr
    assert result.stderr.count("\n") == 1
    monkeypatch.setenv("KG_LIMIT_ANSWER_ROWS", "79")
    assert runner.invoke(main, ["sparql", "DESCRIBE ?group WHERE { ?group a ckg:CriminalGroup }"]).exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "ttl", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"], "a SELECT query answers with rows: --format table"),
    (["--format", "jsonld", "ASK { ?s ?p ?o }"], "an ASK query answers with rows"),
    (["--format", "csv", "DESCRIBE actor:khimprom"], "a DESCRIBE query answers with a graph: --format ttl, nt, jsonld"),
    (["--format", "table", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"], "a CONSTRUCT query answers with a graph"),
    (["--why", "DESCRIBE actor:khimprom"], "--why adds evidence to rows"),
])
def test_a_format_of_the_other_kind_is_a_clear_error(runner, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("kg: ") and result.stderr.count("\n") == 1
    assert message.replace("an ASK", "a ASK") in result.stderr or message in result.stderr, result.stderr


HOSTILE = ["esc \x1b[31m red", "bidi \u202e override", "line\u2028separator", "next\x85line", "del\x7f", "tab\there",
           'quote " and \\ backslash', "new\nline"]


@pytest.fixture()
def hostile_root(tmp_path: Path) -> Path:
    """A graph whose literals hold what a terminal would obey, an IRI whose scheme is a project prefix (`geo:`)
    and one outside every prefix."""
    root = tmp_path / "hostile"
    (root / "ontology").mkdir(parents=True)
    (root / "data" / "triples").mkdir(parents=True)
    (root / "ontology" / "o.ttl").write_text("<urn:x:o> <urn:x:b> <urn:x:c> .\n", encoding="utf-8")
    lines = [f"<{PREFIXES['actor']}a> <{PREFIXES['rdfs']}label> {ox.Literal(value)} ." for value in HOSTILE]
    lines.append(f"<{PREFIXES['actor']}a> <{PREFIXES['geo']}lat> <geo:43.2,76.9> .")
    lines.append(f"<{PREFIXES['actor']}a> <http://example.org/p> \"1.5\"^^<{PREFIXES['xsd']}decimal> .")
    (root / "data" / "triples" / "d.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("fmt", sorted(RDFLIB_FORMATS))
def test_hostile_literals_are_escaped_and_read_back_exactly(runner, hostile_root: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["--data", str(hostile_root), "sparql", "--format", fmt,
                                  "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?s = actor:a) }"])
    assert result.exit_code == 0, result.output
    assert printable(result.stdout) == result.stdout  # nothing a terminal would obey
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", result.stdout)
    back = rdflib.Graph().parse(data=result.stdout, format=RDFLIB_FORMATS[fmt])
    expected = rdflib.Graph().parse(hostile_root / "data" / "triples" / "d.ttl", format="turtle")
    assert isomorphic(back, expected)
    labels = {str(o) for o in back.objects(rdflib.URIRef(PREFIXES["actor"] + "a"), rdflib.RDFS.label)}
    assert labels == set(HOSTILE)


def test_collect_canonicalizes_blank_nodes_whatever_their_labels() -> None:
    p, q = ox.NamedNode("http://ex/p"), ox.NamedNode("http://ex/q")

    def graph(first: str, second: str) -> list[ox.Triple]:
        a, b = ox.BlankNode(first), ox.BlankNode(second)
        return [ox.Triple(a, p, b), ox.Triple(b, q, ox.Literal("x")), ox.Triple(ox.NamedNode("http://ex/s"), p, a)]

    one, other = collect(graph("zz", "aa")), collect(list(reversed(graph("b1", "b0"))))
    assert serialize(one, "nt", {}) == serialize(other, "nt", {})


def test_collect_refuses_more_than_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_LIMIT_ANSWER_ROWS", "3")
    p = ox.NamedNode("http://ex/p")
    triples = [ox.Triple(ox.NamedNode(f"http://ex/{i}"), p, ox.Literal("v")) for i in range(4)]
    with pytest.raises(LimitExceeded) as caught:
        collect(triples)
    assert caught.value.limit == "answer_rows"
    assert len(collect(triples[:3]).triples) == 3
