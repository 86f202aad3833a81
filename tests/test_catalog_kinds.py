"""One loader for every stored SPARQL file (kg.catalog): the kinds table, one name rule, names unique across
kinds, lookups with suggestions, and the library queries the commands run.

The stored questions themselves are checked in test_catalog; the checks in test_audit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.catalog import KINDS, LIBRARY_DIR, NAME, check_header, find, library, load_catalog, load_query
from kg.errors import KgError, NotFound
from kg.query import LocalEngine, prepare

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted(LIBRARY_DIR.glob("*.rq"))
HEADER = "#+ title: T\n#+ question: Q?\n#+ description: D\n#+ tags: [cq1]\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_catalog_holds_each_kind_and_each_name_once() -> None:
    catalog = load_catalog(ROOT / "queries")
    names = [q.name for q in catalog.entries]
    assert len(names) == len(set(names))
    assert len(catalog.questions) == 43
    assert len(catalog.checks) == 15
    assert {q.name for q in catalog.federated} == {"lab-places-wikidata", "seized-substances-chebi"}
    both = [q.name for q in catalog.questions if q.is_check]
    assert both, "a question that is also an audit check is one file with a severity"


@pytest.mark.parametrize("name", ["a", "claims-by-section", "cq1-x2"])
def test_good_names(name: str) -> None:
    assert NAME.match(name)


@pytest.mark.parametrize("name", ["A", "1a", "a_b", "a--b", "-a", "a-", "a.b", "a b", ""])
def test_bad_names(name: str) -> None:
    assert not NAME.match(name)


@pytest.mark.parametrize(("kind", "header", "problem"), [
    ("question", {"title": "T", "description": "D", "tags": ["x"]}, "'question' must be a non-empty string"),
    ("question", {"title": "T", "question": "Q", "description": "D", "tags": ["x"], "join": "x"},
     "unknown key 'join'"),
    ("question", {"title": "T", "question": "Q", "description": "D", "tags": ["x"], "severity": "fatal"},
     "'severity' must be one of"),
    ("check", {"title": "T", "description": "D", "severity": "info", "tags": ["x"], "question": "Q"},
     "unknown key 'question'"),
    ("federated", {"title": "T", "question": "Q", "description": "D", "tags": ["x"]},
     "'join' must name the variable both parts share"),
    ("federated", {"title": "T", "question": "Q", "description": "D", "tags": ["x"], "join": "k",
                   "endpoint": "ftp://x"}, "'endpoint' must be an http(s) URL"),
    ("library", {"title": "T", "description": "D", "severity": "error"}, "unknown key 'severity'"),
    ("library", {"description": "D"}, "'title' must be a non-empty string"),
])
def test_each_kind_takes_its_own_keys(kind: str, header: dict, problem: str) -> None:
    problems = check_header(header, kind)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_requires_a_title_and_a_description(kind: str) -> None:
    assert {"title", "description"} <= KINDS[kind].required


def test_a_name_defined_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "twice.rq", HEADER + "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n")
    write(tmp_path / "audits" / "twice.rq",
          "#+ title: T\n#+ description: D\n#+ severity: info\n#+ tags: [x]\nSELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(KgError, match=r"'twice' is defined twice .*each stored query exists once"):
        load_catalog(tmp_path)


def test_a_file_name_outside_the_rule_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "Bad_Name.rq", HEADER + "SELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(KgError, match="must be lower-case words joined by hyphens"):
        load_query(path)


def test_a_question_with_a_severity_is_a_check(tmp_path: Path) -> None:
    write(tmp_path / "both.rq", HEADER + "#+ severity: warning\nSELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n")
    write(tmp_path / "only-asked.rq", HEADER + "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n")
    catalog = load_catalog(tmp_path)
    assert [q.name for q in catalog.checks] == ["both"]
    assert [q.name for q in catalog.questions] == ["both", "only-asked"]


@pytest.mark.parametrize(("wanted", "kind", "suggested"), [
    ("claims-by-sectoin", "question", "claims-by-section"),
    ("lab-places-wikidat", "federated", "lab-places-wikidata"),
    ("zzzzzzzz", "question", None),
    ("Claims_By_Section", "question", "claims-by-section"),  # a name outside the rule is never a path
])
def test_an_unknown_name_is_not_found_with_suggestions(wanted: str, kind: str, suggested: str | None) -> None:
    with pytest.raises(NotFound) as caught:
        find(ROOT / "queries", wanted, kind)
    suggestions = caught.value.suggestions
    assert (suggestions[0] if suggestions else None) == suggested
    assert str(caught.value).startswith(f"no {KINDS[kind].noun} named '{wanted}'")


def test_a_check_only_file_is_not_a_question() -> None:
    with pytest.raises(NotFound):
        find(ROOT / "queries", "claims-without-quote")
    assert find(ROOT / "queries", "claims-without-quote", "check").severity == "error"


def test_federated_parts_are_split_and_a_placeholder_is_refused(tmp_path: Path) -> None:
    head = "#+ title: t\n#+ question: q?\n#+ description: d\n#+ tags: [x]\n#+ join: key\n"
    good = write(tmp_path / "good.rq", head + "#@ local\nSELECT ?key WHERE { ?key ?p ?o }\n#@ remote\n"
                 "SELECT ?key ?item WHERE { ?item ?p ?key }\n")
    question = load_query(good, "federated")
    assert question.sparql.strip() == "SELECT ?key WHERE { ?key ?p ?o }"
    assert question.remote.strip() == "SELECT ?key ?item WHERE { ?item ?p ?key }"
    bad = write(tmp_path / "bad.rq", head + "#@ local\nSELECT ?key WHERE { ?key ?p ?o }\n#@ remote\n"
                "SELECT ?key WHERE { VALUES ?key {} ?item ?p ?key }\n")
    with pytest.raises(KgError, match="placeholder"):
        load_query(bad, "federated")
    reversed_parts = write(tmp_path / "rev.rq", head + "#@ remote\nSELECT ?key WHERE { }\n#@ local\n"
                           "SELECT ?key WHERE { }\n")
    with pytest.raises(KgError, match="in that order"):
        load_query(reversed_parts, "federated")


# --- Library queries: the commands' own SPARQL ------------------------------------------------------------

@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_query_loads_and_is_a_select(path: Path) -> None:
    stored = library(path.stem)
    assert stored.kind == "library" and stored.title and stored.description
    assert re.search(r"^\s*SELECT\b", stored.sparql, re.IGNORECASE | re.MULTILINE)
    prepare(stored.sparql, None, embedded=False)  # a query, no update, no SERVICE, parses


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_prefix_a_library_query_uses_is_declared(path: Path) -> None:
    from tests.test_catalog import strip_sparql

    body = library(path.stem).sparql
    declared = set(re.findall(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<", body, re.IGNORECASE))
    used = set(re.findall(r"(?<![\w?$:.-])([A-Za-z][\w-]*)?:(?=[\w])", strip_sparql(body))) - {""}
    assert used == declared


def test_library_queries_are_never_read_from_a_graph_folder(tmp_path: Path) -> None:
    """A graph folder with a `stats-totals.rq` of its own changes neither the file used nor its text."""
    write(tmp_path / "queries" / "stats-totals.rq", "#+ title: T\n#+ description: D\nSELECT ?x WHERE {}\n")
    assert library("stats-totals").path == LIBRARY_DIR / "stats-totals.rq"


def test_an_unknown_library_query_is_not_found() -> None:
    with pytest.raises(NotFound, match="no library query named 'stats-total'; did you mean stats-totals"):
        library("stats-total")


# --- Binding: one way, a term or the terms a variable ranges over -----------------------------------------

@pytest.fixture(scope="module")
def tiny() -> LocalEngine:
    store = ox.Store()
    for s in "abc":
        store.add(ox.Quad(ox.NamedNode(f"http://ex/{s}"), ox.NamedNode("http://ex/p"), ox.Literal(s)))
    return LocalEngine(store)


@pytest.mark.parametrize(("bindings", "expected"), [
    ({}, ["a", "b", "c"]),
    ({"s": ox.NamedNode("http://ex/b")}, ["b"]),
    ({"s": [ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/c")]}, ["a", "c"]),
    ({"s": []}, []),  # no values: no rows, never every row
    ({"s": [ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/b")], "o": ox.Literal("b")}, ["b"]),
    ({"s": [ox.NamedNode("http://ex/a")], "o": [ox.Literal("b")]}, []),
])
def test_a_binding_is_a_term_or_a_sequence_of_terms(tiny: LocalEngine, bindings: dict, expected: list[str]) -> None:
    result = tiny.select("SELECT ?o WHERE { ?s <http://ex/p> ?o } ORDER BY ?o", bindings)
    assert [row[0].value for row in result.rows] == expected


def test_the_example_of_adding_a_question_runs(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """docs/adding-a-question.md's example, saved in a graph folder's queries/, answers for a country given by
    name or CURIE, and refuses to run without one (what a question is about has no default)."""
    import shutil

    from kg.cli import main

    page = (ROOT / "docs" / "adding-a-question.md").read_text(encoding="utf-8")
    example = re.search(r"```sparql\n(.*?)```", page, re.DOTALL)
    assert example is not None
    graph = tmp_path / "graph"
    for part in ("ontology", "data"):
        shutil.copytree(ROOT / part, graph / part)
    write(graph / "queries" / "groups-active-in.rq", example.group(1))
    missing = runner.invoke(main, ["--data", str(graph), "query", "groups-active-in", "--format", "json"])
    assert missing.exit_code == 2 and "needs the parameter country" in missing.stderr, missing.output
    result = runner.invoke(main, ["--data", str(graph), "query", "groups-active-in", "-p", "country=Kazakhstan",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "kg: note: country='Kazakhstan' is place:kazakhstan (Kazakhstan)\n"
    import json

    labels = {b["groupLabel"]["value"] for b in json.loads(result.stdout)["results"]["bindings"]}
    assert "Netherlands-based drug trafficking group" in labels  # active in Kazakhstan
    uzbekistan = runner.invoke(main, ["--data", str(graph), "query", "groups-active-in", "-p",
                                      "country=place:uzbekistan", "--format", "csv"])
    assert uzbekistan.exit_code == 0, uzbekistan.output


# --- Found by trying the catalog as a new user -----------------------------------------------------------

PARAM = "#+ params:\n#+   - name: section\n#+     type: iri\n#+     description: A section.\n"


def test_a_name_in_two_folders_is_refused_by_the_lookup_too(tmp_path: Path) -> None:
    write(tmp_path / "twice.rq", HEADER + "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n")
    head = "#+ title: t\n#+ question: q?\n#+ description: d\n#+ tags: [x]\n#+ join: s\n"
    write(tmp_path / "federated" / "twice.rq", head + "#@ local\nSELECT ?s WHERE { ?s ?p ?o }\n#@ remote\n"
          "SELECT ?s WHERE { ?s ?p ?o }\n")
    for kind in ("question", "federated"):
        with pytest.raises(KgError, match="'twice' is defined twice"):
            find(tmp_path, "twice", kind)
    with pytest.raises(KgError, match="'twice' is defined twice"):
        load_catalog(tmp_path)


def test_a_question_with_a_severity_needs_a_default_for_every_parameter(tmp_path: Path) -> None:
    path = write(tmp_path / "needs-one.rq", HEADER + "#+ severity: info\n" + PARAM +
                 "SELECT ?c WHERE { ?c <http://ex/section> ?section } ORDER BY ?c\n")
    with pytest.raises(KgError, match="every parameter needs a default"):
        load_query(path)


def test_a_check_that_is_a_question_with_a_parameter_answers_as_the_question(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """`kg audit --check NAME` binds the parameters' defaults, as `kg query NAME` does: one answer."""
    import json
    import shutil

    from kg.cli import main

    graph = tmp_path / "graph"
    for part in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / part, graph / part)
    write(graph / "queries" / "claims-in-section.rq", HEADER + "#+ severity: info\n" + PARAM +
          "#+     default: sec:politicization\n"
          "PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>\n"
          "SELECT ?claim WHERE { ?claim ckg:section ?section } ORDER BY ?claim\n")
    asked = runner.invoke(main, ["--data", str(graph), "query", "claims-in-section", "--format", "json"])
    audited = runner.invoke(main, ["--data", str(graph), "audit", "--check", "claims-in-section", "--format", "json"])
    assert asked.exit_code == 0 and audited.exit_code == 0, asked.output + audited.output
    rows = [b["claim"]["value"] for b in json.loads(asked.stdout)["results"]["bindings"]]
    findings = [f["claim"] for f in json.loads(audited.stdout)["checks"][0]["findings"]]
    assert findings == rows and 0 < len(rows) < 693  # one section's claims, not every claim of the graph


def test_a_name_outside_the_rule_is_said_to_be_one(tmp_path: Path) -> None:
    write(tmp_path / "My_Query.rq", HEADER + "SELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(NotFound) as caught:
        find(tmp_path, "My_Query")
    assert "did you mean My_Query" not in str(caught.value)
    assert str(caught.value).endswith("names are lower-case words joined by hyphens")
