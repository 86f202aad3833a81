"""Fuzzing the `kg` command in-process (Click's CliRunner) against its contract.

The contract: every command exits 0, 1 or 2 and nothing else; on exit 2 standard error is exactly one line
starting `kg: `; never a `Traceback` and never `internal error` (an unexpected exception the CLI caught);
a reading command writes nothing except the cache under `$KG_CACHE_DIR`; `-o FILE` writes only FILE.
Where a command exits 0 with `--format json`, its standard output parses as JSON.

Positional arguments that come from the fuzzer follow `--`, so Click never reads them as options (a usage
error is printed by the `kg` entry point, `kg.cli.run`, which CliRunner does not go through).

Cases:

- `test_parameter_values_keep_the_contract`: `kg query NAME -p KEY=VALUE --format json|csv|tsv` for every
  stored question with parameters, VALUE drawn from arbitrary text (control characters, no NUL and no lone
  surrogates, which argv cannot carry), very long strings, IRIs with spaces, `<…>`, CURIEs with known and
  unknown prefixes, numbers; KEY sometimes unknown, sometimes the whole `-p` argument is arbitrary text. On a
  `--data` copy of the bundled folder with only the entities' data (`entities_root`: the same questions and
  prefixes, a fifth of the triples to load per example).
- `test_typed_parameter_values_keep_the_contract`: the same for a stored question of a `--data` copy whose
  parameters have every declared type (iri, string, integer, decimal, date, year, boolean).
- `test_why_terms_keep_the_contract`: `kg why --format json -- TERM` with the same values as TERM.
- `test_adhoc_sparql_keeps_the_contract`: `kg sparql --format json -- QUERY` on a five-triple `--data` graph
  (so no fuzzed cross product can run for long), QUERY built from SPARQL fragments (query and update
  keywords, SERVICE, braces, parentheses, variables, IRIs including `<http://127.0.0.1:9/x>`, strings with
  quotes and newlines, comments, PREFIX lines, VALUES, FILTER, GROUP_CONCAT), as structured queries with
  mutations, as a soup of fragments, and as arbitrary text. Besides the contract: a SERVICE keyword token
  → exit 2; rdflib's `parseQuery` accepts the text and finds a SERVICE pattern → exit 2 and 'SERVICE' in
  the message; rdflib's `parseUpdate` accepts the text → exit 2.
- `test_stored_file_headers_keep_the_contract[KIND]`: `DIR/queries/x.rq` with a fuzzed `#+` YAML header and a
  valid body, then `kg --data DIR queries [--format json]` and `kg --data DIR query x --format json`:
  [yamlish] random YAML-ish lines (contract only); [schema] headers that break the documented schema (wrong
  types, unknown keys, missing keys) → exit 2; [deep] nesting `[[[[…` / `{a: {a: …` / `- - - …` → exit 2;
  [bytes] non-UTF-8 bytes → exit 2; [escapes] schema-valid headers whose strings are YAML double-quoted
  with escapes (`\\ud800`, `\\0`, `\\x85`, `\\u2028`, ANSI…) → exit 0 or a clean exit 2 (contract only);
  [size] files over `KG_LIMIT_STORED_FILE_BYTES=1000` (up to 5 MB) → exit 2, at or under it → exit 0.
- `test_a_yaml_alias_bomb_in_a_header_stays_small`: a parameter default made of nested YAML aliases (a few
  hundred bytes, within every limit) → exit 2, or `kg queries --format json` under 1000 × the file's size.
- `test_reading_commands_write_nothing`: (path, size, mtime_ns) of the test's tmp tree (the working
  directory and TMPDIR are in it) and of the repository's data/, queries/ and ontology/ before and after
  `stats`, `stats --format json`, `stats --by-section`, `queries`, `queries --format json`, `query NAME`,
  `query NAME -p …`, `sparql`, `sparql -f FILE`, `why TERM`, `audit`, `validate` (once; the bundled graph's
  pyshacl report comes from the run's shared validation, `validate_bundled_once`, and a real pyshacl run is
  `kg --data SMALL validate` on the ontology and shapes with one small data file): only $KG_CACHE_DIR changed;
  then the same kind of commands with `-o FILE`: only those files (and their folder's mtime) changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from kg.cli import main
from tests.conftest import ROOT, copy_layout

BASE = settings(deadline=None, database=None, phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz(examples: int, shrink: bool = True) -> settings:
    """Bounded fuzzing; `shrink=False` where one failing example can take minutes to shrink (huge inputs)."""
    if shrink:
        return settings(BASE, max_examples=examples)
    return settings(BASE, max_examples=examples, phases=(Phase.explicit, Phase.generate))


# ---------------------------------------------------------------------------------------------------
# The contract


def check_contract(result, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Exit 0, 1 or 2 only; on 2 exactly one `kg: ` line on stderr; no traceback, no internal error."""
    shown = f"kg {' '.join(repr(a)[:200] for a in args)[:2000]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(result.exception))[-3000:]
        raise AssertionError(f"{shown}: an exception escaped the CLI:\n{trace}")
    stderr = result.stderr
    assert result.exit_code in (0, 1, 2), f"{shown}: exit {result.exit_code}, stderr {stderr[:500]!r}"
    assert "Traceback" not in result.output, f"{shown}: {result.output[-1000:]!r}"
    assert "internal error" not in stderr, f"{shown}: {stderr[:1000]!r}"
    if result.exit_code == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1 and stderr.endswith("\n") and stderr.startswith("kg: "), \
            f"{shown}: exit 2 but stderr is not one `kg: ` line: {stderr[:1000]!r}"


def invoke(runner, args: list[str]):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, args)
    check_contract(result, args)
    with contextlib.suppress(InvalidArgument):  # outside a @given test
        event(f"{args[2] if args[0] == '--data' else args[0]}: exit {result.exit_code}")
    return result


def check_output(result, fmt: str, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    if result.exit_code == 0 and fmt == "json":
        try:
            json.loads(result.stdout)
        except ValueError as err:
            raise AssertionError(f"kg {args!r}: exit 0 but the output is not JSON ({err}): "
                                 f"{result.stdout[:500]!r}") from None


# ---------------------------------------------------------------------------------------------------
# Values for parameters and terms

NO_NUL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
CONTROL = st.characters(min_codepoint=1, max_codepoint=0x9F)
SPECIAL = st.sampled_from(["\u2028", "\u2029", "\u202e", "\u2066", "\ufeff", "\u0085", "\x1b[31m", "\r\n", "\t"])
CURIES = st.sampled_from([
    "actor:khimprom", "place:shymkent", "route:northern-route", "route:caspian-ferry-route-via-kyrgyzstan",
    "place:kazakhstan", "nope:thing", "unknownprefix:x", "ckg:Claim", "xsd:integer", ":x", "a:b:c", "actor:",
    "actor:khim prom", "actor:<x>", "http:foo", "https:", "_:b0", "actor:khimprom#frag", "ACTOR:khimprom",
    "route:uzbekistan-kazakhstan-route", "actor:no-such-actor", "http://127.0.0.1:9/nothing-here", "Khimprom",
    "Shymkent", "Kazakh", "Kordai",
])
IRIS = st.sampled_from([
    "<http://127.0.0.1:9/x>", "http://127.0.0.1:9/x y", "<http://127.0.0.1:9/x y>", "<https://w3id.org/crossroads-kg/id/actor/khimprom>",
    "https://w3id.org/crossroads-kg/id/actor/khimprom", "<>", "<<x>>", "<x>", "urn:x:a", "file:///etc/passwd",
    "javascript:alert(1)", "http://", "http://a b/", "http://x/\"}", "http://x/>", "http://[::1", "<http://x/",
    "http://x/> } DROP ALL { <http://y/", "http://x/%zz", "http://\u00e9xample.org/\u00fc",
])
NUMBERS = st.one_of(
    st.integers().map(str), st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.decimals(allow_nan=True).map(str),
    st.sampled_from(["0", "-0", "+1", "1e3", "1.", ".5", "0x10", "1_000", "٣", "1\n", " 1", "2023-02-30",
                     "2023-13-01", "0000-00-00", "99999-01-01", "2023", "-2023", "true", "false", "TRUE", "1"]),
)
# Terms of the entities-only graph below (a term that is not in the graph is exit 2 with suggestions; the
# routes and the unknown terms are among the other values)
GOOD = ["actor:khimprom", "actor:kg-mvd", "actor:unodc", "place:shymkent", "place:pakistan", "place:central-asia",
        "substance:synthetic-drugs", "<https://w3id.org/crossroads-kg/id/actor/khimprom>",
        "https://w3id.org/crossroads-kg/id/place/pakistan"]
GOOD_TERMS = st.sampled_from(GOOD)


def half_good(values):  # type: ignore[no-untyped-def]
    """A valid term half the time, else one of `values` (one_of would flatten and weigh each branch alike)."""
    return st.tuples(st.booleans(), GOOD_TERMS, values).map(lambda t: t[1] if t[0] else t[2])


VALUES = st.one_of(
    st.text(NO_NUL, max_size=60),
    st.text(CONTROL, max_size=20),
    st.builds(lambda a, b, c: a + b + c, st.text(NO_NUL, max_size=8), SPECIAL, st.text(NO_NUL, max_size=8)),
    CURIES, IRIS, NUMBERS,
    st.builds(lambda t: f"<{t}>", st.text(NO_NUL, max_size=30)),
    st.builds(lambda c, t: c + t, CURIES, st.text(NO_NUL, max_size=10)),
    st.builds(lambda n, c: c * n, st.integers(1_000, 200_000), st.sampled_from(["a", "é", " ", "<", "\U0001f600"])),
    st.just(""),
    # what Python makes of argv bytes that are not UTF-8 (surrogateescape): `kg query … -p route=$'\xff'`
    st.sampled_from(["\udcff", "actor:\udc80", "<http://127.0.0.1:9/\udcff>", "route:caf\udce9"]),
)


def parametrized_questions() -> list[tuple[str, str]]:
    """(question, parameter) for every parameter of every stored question, as `kg queries --format json` lists them."""
    from click.testing import CliRunner

    listing = CliRunner().invoke(main, ["queries", "--format", "json"])
    try:
        catalog = json.loads(listing.stdout)
    except ValueError:
        return []
    return [(q["name"], p["name"]) for q in catalog for p in q.get("parameters", [])]


QUESTIONS = parametrized_questions()


@pytest.fixture(scope="module")
def entities_root(tmp_path_factory: pytest.TempPathFactory, layout) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the bundled folder (ontology, every stored question) whose data is the entities and report.ttl
    only: each fuzzed `kg query` that gets as far as the engine loads ~3k triples instead of 15k (5 times
    cheaper), and the parameter handling under test is the same; every GOOD term still answers (exit 0)."""
    root = copy_layout(tmp_path_factory.mktemp("entities"), layout)
    for part in ("links", "sections", "sources"):
        shutil.rmtree(root / "data" / "triples" / part)
    return root


def test_the_catalog_has_parametrized_questions() -> None:
    assert QUESTIONS, "no stored question with parameters: the parameter fuzzing below tests nothing"


@fuzz(150)
@given(question=st.sampled_from(QUESTIONS or [("route-legs", "route")]),
       mode=st.sampled_from(["value"] * 6 + ["key", "raw", "repeat"]),
       key=st.one_of(st.sampled_from(["nope", "Route", "", "route ", "route=x", "entity\n"]),
                     st.text(NO_NUL, max_size=10)),
       value=half_good(VALUES), raw=st.text(NO_NUL, max_size=40),
       fmt=st.sampled_from(["json", "json", "csv", "tsv"]))
def test_parameter_values_keep_the_contract(runner, entities_root: Path, question, mode: str, key: str, value: str,  # type: ignore[no-untyped-def]
                                            raw: str, fmt: str) -> None:
    name, param = question
    assignment = raw if mode == "raw" else f"{key if mode == 'key' else param}={value}"
    args = ["--data", str(entities_root), "query", name, "--format", fmt, "-p", assignment]
    if mode == "repeat":
        args += ["-p", assignment]
    result = invoke(runner, args)
    check_output(result, fmt, args)
    if mode == "repeat":
        assert result.exit_code == 2, f"kg {args!r}: a parameter given twice was accepted"
    if mode == "value" and value in GOOD:
        assert result.exit_code == 0, f"kg {args!r}: a valid term refused: {result.stderr!r}"


TYPED_QUESTION = """\
#+ title: Every parameter type
#+ question: Do typed parameters bind as typed literals?
#+ description: Echoes each parameter back as a column.
#+ tags: [fuzz]
#+ params:
#+   - name: thing
#+     type: iri
#+     default: actor:khimprom
#+     description: An IRI.
#+   - name: text
#+     type: string
#+     default: x
#+     description: A string.
#+   - name: count
#+     type: integer
#+     default: 3
#+     description: An integer.
#+   - name: share
#+     type: decimal
#+     default: 0.5
#+     description: A decimal.
#+   - name: day
#+     type: date
#+     default: 2023-01-01
#+     description: A date.
#+   - name: year
#+     type: year
#+     default: 2023
#+     description: A year.
#+   - name: flag
#+     type: boolean
#+     default: "true"
#+     description: A boolean.
SELECT ?thing ?text ?count ?share ?day ?year ?flag ?sum
WHERE { BIND(?count + ?share AS ?sum) FILTER(?flag || !?flag) }
"""
TYPES = {"thing": "iri", "text": "string", "count": "integer", "share": "decimal", "day": "date", "year": "year",
         "flag": "boolean"}


@pytest.fixture()
def typed_root(tmp_path: Path, layout) -> Path:  # type: ignore[no-untyped-def]
    root = copy_layout(tmp_path, layout)
    for stored in (root / "queries").glob("*.rq"):
        stored.unlink()
    (root / "queries" / "typed.rq").write_text(TYPED_QUESTION, encoding="utf-8")
    return root


def test_the_typed_question_answers_with_its_defaults(runner, typed_root: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, ["--data", str(typed_root), "query", "typed", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]["bindings"]) == 1


@fuzz(60)
@given(param=st.sampled_from(sorted(TYPES)), value=VALUES, fmt=st.sampled_from(["json", "tsv"]))
def test_typed_parameter_values_keep_the_contract(runner, typed_root: Path, param: str, value: str,  # type: ignore[no-untyped-def]
                                                  fmt: str) -> None:
    args = ["--data", str(typed_root), "query", "typed", "--format", fmt, "-p", f"{param}={value}"]
    result = invoke(runner, args)
    check_output(result, fmt, args)


@fuzz(20)
@given(term=half_good(st.one_of(VALUES, st.sampled_from(["Khimprom", "khimprom", "claim:", "Shymkent", "UNODC"]))))
def test_why_terms_keep_the_contract(runner, term: str) -> None:  # type: ignore[no-untyped-def]
    args = ["why", "--format", "json", "--", term]
    check_output(invoke(runner, args), "json", args)


# ---------------------------------------------------------------------------------------------------
# Ad-hoc SPARQL

TINY_DATA = """\
<urn:x:a> <urn:x:b> "c" .
<urn:x:a> <urn:x:p> <urn:x:d> .
<urn:x:d> <http://www.w3.org/2000/01/rdf-schema#label> "d label"@en .
<urn:x:d> <urn:x:n> 5 .
<http://127.0.0.1:9/x> <urn:x:p> <urn:x:a> .
"""

SERVICE_FRAGMENTS = {
    "SERVICE", "service", "SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o }",
    "SERVICE SILENT <http://127.0.0.1:9/x> { ?s ?p ?o }", "Service ?s { ?s ?p ?o }",
    "SERVICE :x { ?s ?p ?o }", "{ SERVICE <http://127.0.0.1:9/x> { } }",
}
FRAGMENTS = [
    *sorted(SERVICE_FRAGMENTS),
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "INSERT", "DELETE", "DATA", "WHERE", "DROP", "ALL", "LOAD", "CLEAR",
    "SILENT", "DEFAULT", "GRAPH", "INTO", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING", "NAMED", "FROM",
    "PREFIX ex: <urn:x:>", "PREFIX : <http://127.0.0.1:9/>", "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>",
    "BASE <http://127.0.0.1:9/>", "PREFIX", "BASE",
    "{", "}", "{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "=", "!=", "<", ">", "<=", "&&", "||", "!", "+", "-",
    "/", "^^", "|", "^",
    "?s", "?p", "?o", "$o", "?n", "?delete", "?service", "?list",
    "<urn:x:a>", "<urn:x:b>", "<urn:x:p>", "<http://127.0.0.1:9/x>", "<>", "ex:a", "ex:b", "rdfs:label",
    "nope:thing", ":x", "a", "_:b0", "[]",
    '"c"', "'c'", '"""multi\nline "quoted" """', "'''it''s\nthree\nlines'''", '"with \\"escapes\\" and \\n"',
    '"DROP ALL"', '"SERVICE"', '"\\uD800"', '"\\U0010FFFF"', '"\udcff"', "<http://127.0.0.1:9/\\u0020>",
    "'INSERT DATA { <a:b> <c:d> 1 }'", '"x"@en', '"d label"@en',
    '"5"^^<http://www.w3.org/2001/XMLSchema#integer>', "5", "-1.5e3", "true", "UNDEF",
    "# comment SERVICE DROP ALL }\n", "#+ title: x\n", "#\n",
    "VALUES ?s { <urn:x:a> }", "VALUES (?s ?o) { (<urn:x:a> UNDEF) }", "VALUES", "FILTER", 'FILTER(?o = "c")',
    "FILTER NOT EXISTS { ?s <urn:x:z> ?o }", "BIND", "AS", "OPTIONAL", "UNION", "MINUS", "NOT", "EXISTS",
    "GROUP_CONCAT", '(GROUP_CONCAT(?o; SEPARATOR="; ") AS ?list)', "(GROUP_CONCAT(DISTINCT ?s) AS ?all)",
    "SEPARATOR", "COUNT", "(COUNT(*) AS ?n)", "GROUP BY ?s", "ORDER BY ?o", "LIMIT 3", "OFFSET 1", "DISTINCT",
    "REGEX", "STR", "LANG", "?s ?p ?o .", "<urn:x:a> <urn:x:b> ?o .", "?s <urn:x:p>* ?o .",
]
FORMS = [
    "SELECT *", "SELECT ?s ?o", "select distinct ?s", '(GROUP_CONCAT(?o; SEPARATOR="|") AS ?list)',
    'SELECT ?s (GROUP_CONCAT(?o; SEPARATOR="; ") AS ?list)', "SELECT (COUNT(*) AS ?n)", "ASK", "CONSTRUCT",
    "CONSTRUCT { ?s ?p ?o }", "DESCRIBE ?s", "DESCRIBE <urn:x:a>", "INSERT DATA", "INSERT { ?s ?p 1 }", "DELETE",
    "DELETE WHERE", "DELETE { ?s ?p ?o }", "DROP ALL", "DROP SILENT GRAPH <urn:x:g>", "LOAD <http://127.0.0.1:9/x>",
    "LOAD SILENT <http://127.0.0.1:9/x> INTO GRAPH <urn:x:g>", "CLEAR DEFAULT", "CLEAR ALL", "CREATE GRAPH <urn:x:g>",
    "WITH <urn:x:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 2 }", "SERVICE", "",
]
ELEMENTS = [
    "?s ?p ?o .", "<urn:x:a> ?p ?o .", "?s <urn:x:p> ?o .", "?s <urn:x:p>+ ?o .", 'FILTER(?o != "zz")',
    'FILTER(REGEX(STR(?o), "^d", "i"))', "VALUES ?s { <urn:x:a> <urn:x:d> }", "VALUES (?s) { (UNDEF) }",
    "OPTIONAL { ?s <urn:x:n> ?n }", "MINUS { ?s <urn:x:z> ?o }", "{ ?s ?p ?o } UNION { ?o ?p ?s }",
    "BIND(STR(?s) AS ?label)", "SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o }",
    "SERVICE SILENT <http://127.0.0.1:9/x> { ?s ?p ?o }",
    '{ SELECT ?s (GROUP_CONCAT(?o; SEPARATOR=", ") AS ?list) WHERE { ?s ?p ?o } GROUP BY ?s }',
    "# a comment with } and SERVICE\n", 'FILTER(?o = """a\n"quoted"\nliteral""")', "GRAPH ?g { ?s ?p ?o }",
]
MODIFIERS = ["GROUP BY ?s", "ORDER BY DESC(?o)", "LIMIT 3", "OFFSET 1", "VALUES ?s { <urn:x:a> }",
             "HAVING(COUNT(*) > 0)", "LIMIT -1", "LIMIT 99999999999999999999999"]
PROLOGUES = ["PREFIX ex: <urn:x:>", "PREFIX : <http://127.0.0.1:9/>", "BASE <http://127.0.0.1:9/>",
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>", "# leading comment\n", "PREFIX bad <x>",
             "PREFIX dup: <urn:a:>\nPREFIX dup: <urn:b:>"]
SEPARATORS = st.sampled_from([" ", " ", "\n", "\t", " \r\n ", "  "])


@st.composite
def structured_queries(draw) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """A query skeleton with up to three mutations; returns (text, has a SERVICE keyword token)."""
    tokens = [*draw(st.lists(st.sampled_from(PROLOGUES), max_size=2)), draw(st.sampled_from(FORMS)),
              draw(st.sampled_from(["WHERE", "where", ""])), "{",
              *draw(st.lists(st.sampled_from(ELEMENTS), max_size=3)), "}",
              *draw(st.lists(st.sampled_from(MODIFIERS), max_size=2))]
    for kind, where, fragment in draw(st.lists(st.tuples(st.sampled_from(["drop", "dup", "insert", "swap"]),
                                                         st.integers(0, 1000), st.sampled_from(FRAGMENTS)),
                                               max_size=3)):
        i = where % (len(tokens) or 1)
        if kind == "insert" or not tokens:
            tokens.insert(i, fragment)
        elif kind == "drop":
            del tokens[i]
        elif kind == "dup":
            tokens.insert(i, tokens[i])
        else:
            tokens[i] = fragment
    return join(draw, tokens), any(t in SERVICE_FRAGMENTS or t.startswith("SERVICE") for t in tokens)


@st.composite
def fragment_soups(draw) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    tokens = draw(st.lists(st.sampled_from(FRAGMENTS), max_size=25))
    return join(draw, tokens), any(t in SERVICE_FRAGMENTS for t in tokens)


@st.composite
def texts_with_junk(draw) -> tuple[str, None]:  # type: ignore[no-untyped-def]
    """Fragments with arbitrary text spliced in (whether SERVICE is a keyword is then unknown)."""
    tokens = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(NO_NUL, max_size=12)), max_size=15))
    return join(draw, tokens), None


def join(draw, tokens: list[str]) -> str:  # type: ignore[no-untyped-def]
    return "".join(token + draw(SEPARATORS) for token in tokens)


@st.composite
def clean_queries(draw) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """Mostly well-formed SELECT and ASK queries (so the exit-0 path, and the JSON, are fuzzed too)."""
    elements = draw(st.lists(st.sampled_from(CLEAN_ELEMENTS), min_size=1, max_size=3))
    tokens = [*draw(st.lists(st.sampled_from(PROLOGUES[:4]), max_size=2)), draw(st.sampled_from(CLEAN_FORMS)),
              "WHERE {", *elements, "}", *draw(st.lists(st.sampled_from(["ORDER BY ?s", "LIMIT 3", "OFFSET 1"]),
                                                        max_size=2, unique=True))]
    return join(draw, tokens), any(t.startswith("SERVICE") for t in elements)


CLEAN_FORMS = ["SELECT *", "SELECT DISTINCT *", "SELECT (COUNT(*) AS ?n)", "ASK",
               'SELECT (GROUP_CONCAT(STR(?o); SEPARATOR="; ") AS ?list)', "SELECT (SAMPLE(?s) AS ?s)"]
CLEAN_ELEMENTS = [e for e in ELEMENTS if not e.startswith(("{ SELECT", "GRAPH"))] + [
    "?s ?p ?o .", "?s ?p ?o .", 'VALUES ?o { "c" 5 "d label"@en }', 'FILTER(LANG(?o) = "en")',
]
SPARQL_TEXTS = st.one_of(
    clean_queries(), clean_queries(), structured_queries(), structured_queries(), fragment_soups(), texts_with_junk(),
    st.text(NO_NUL, max_size=200).map(lambda t: (t, None)),
    st.builds(lambda n, c: (c[0] * n + c[1] * n, False), st.integers(50, 5000),
              st.sampled_from([("{", "}"), ("(", ")"), ("[", "]"), ("SELECT * {", "}")])),
    st.just(("", False)), st.just(("# only a comment\n", False)), st.just(("PREFIX ex: <urn:x:>", False)),
)


def _rdflib(function: str, text: str):  # type: ignore[no-untyped-def]
    """rdflib's parse of `text` (an independent parser), or None where it refuses it or cannot tell."""
    if len(text) > 3000:
        return None
    from rdflib.plugins.sparql import parser

    try:
        return getattr(parser, function)(text)
    except Exception:  # ParseException, RecursionError, whatever: not accepted
        return None


def _has_service(node, depth: int = 0) -> bool:  # type: ignore[no-untyped-def]
    if depth > 200:
        return False
    if getattr(node, "name", None) == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_has_service(v, depth + 1) for v in node.values())
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return any(_has_service(v, depth + 1) for v in node)
    return False


@pytest.fixture()
def tiny_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tiny"
    (root / "ontology").mkdir(parents=True)
    (root / "data" / "triples").mkdir(parents=True)
    (root / "queries").mkdir()
    (root / "ontology" / "tiny.ttl").write_text("<urn:x:o> <urn:x:b> <urn:x:c> .\n", encoding="utf-8")
    (root / "data" / "triples" / "tiny.ttl").write_text(TINY_DATA, encoding="utf-8")
    monkeypatch.setenv("KG_LIMIT_ANSWER_ROWS", "20000")
    return root


def test_the_tiny_graph_answers(runner, tiny_root: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, ["--data", str(tiny_root), "sparql", "--format", "json", "--", "SELECT * { ?s ?p ?o }"])
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]["bindings"]) == 6


@fuzz(300)
@given(case=SPARQL_TEXTS)
def test_adhoc_sparql_keeps_the_contract(runner, tiny_root: Path, case) -> None:  # type: ignore[no-untyped-def]
    text, service_token = case
    args = ["--data", str(tiny_root), "sparql", "--format", "json", "--", text]
    result = invoke(runner, args)
    check_output(result, "json", args)
    if service_token:
        assert result.exit_code == 2, f"kg sparql {text!r}: a SERVICE keyword, yet exit {result.exit_code}"
    query = _rdflib("parseQuery", text)
    if query is not None:
        event("rdflib reads a query" + (" with SERVICE" if _has_service(query) else ""))
    if query is not None and _has_service(query):
        assert result.exit_code == 2 and "SERVICE" in result.stderr, \
            f"kg sparql {text!r}: a query with SERVICE: exit {result.exit_code}, {result.stderr!r}"
    if _rdflib("parseUpdate", text) is not None:
        event("rdflib reads an update")
        assert result.exit_code == 2, f"kg sparql {text!r}: rdflib reads an update, yet exit {result.exit_code}"


# ---------------------------------------------------------------------------------------------------
# Stored-file headers

VALID_HEADER = {
    "title": "A fuzzed question",
    "question": "Which labels are there?",
    "description": "Labels of things.",
    "tags": "[fuzz]",
}
PARAM_LINES = ["#+ params:", "#+   - name: s", "#+     type: iri", "#+     default: actor:khimprom",
               "#+     description: The subject."]
BODY = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 3\n")
HEADER_KEYS = {"title", "question", "description", "tags", "params", "endpoint_note"}


def valid_text(extra: list[str] | None = None) -> str:
    lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()] + PARAM_LINES + (extra or [])
    return "\n".join(lines) + "\n" + BODY


# Replacements that break the documented schema: (field, bad header lines for it)
BAD_FIELDS = st.one_of(
    st.tuples(st.sampled_from(["title", "question", "description"]),
              st.sampled_from(["5", "[a, b]", "''", "null", "{a: b}", "true", "'   '", "2023-01-01", "[]"])),
    st.tuples(st.just("tags"), st.sampled_from(["fuzz", "[]", "[1, 2]", "[[a]]", "{a: b}", "null", "[a, null]",
                                                "&t [*t]", "5"])),
    st.tuples(st.just("params"), st.sampled_from([
        "x", "{name: s}", "[x]", "[{name: S, type: iri, description: d}]",
        "[{name: s, type: float, description: d}]", "[{name: s, type: iri, description: 5}]", "[{name: s, type: iri}]",
        "[{name: s, type: iri, description: d, x: 1}]",
        "[{name: 1s, type: iri, description: d}]", "[{type: iri, description: d}]", "&p [*p]", "[[a]]", "5",
        "[{name: s, type: [iri], description: d}]", "[{name: s, type: iri, description: ''}]",
    ])),
)


@st.composite
def bad_headers(draw) -> bytes:  # type: ignore[no-untyped-def]
    header = dict(VALID_HEADER)
    choice = draw(st.sampled_from(["field", "unknown", "missing"]))
    lines: list[str] = []
    if choice == "field":
        key, bad = draw(BAD_FIELDS)
        header[key] = bad
        if key != "params":
            lines = PARAM_LINES
        else:
            lines = [f"#+ params: {bad}"]
            header.pop("params", None)
    elif choice == "unknown":
        unknown = draw(st.one_of(st.sampled_from(["Title", "colour", "param", "tag", "sparql", "_", "titles"]),
                                 st.from_regex(r"\A[a-z_]{1,12}\Z")).filter(lambda k: k not in HEADER_KEYS))
        lines = [*PARAM_LINES, f"#+ {unknown}: {draw(st.sampled_from(['x', '1', '[a]', '{a: b}', 'null']))}"]
    else:
        header.pop(draw(st.sampled_from(sorted(VALID_HEADER))))
        lines = PARAM_LINES
    text = "\n".join([f"#+ {k}: {v}" for k, v in header.items()] + lines) + "\n" + BODY
    return text.encode("utf-8")


@st.composite
def deep_headers(draw) -> bytes:  # type: ignore[no-untyped-def]
    n = draw(st.sampled_from([10, 60, 200, 400, 1000, 5000, 20000]))
    closed = draw(st.booleans())
    shape = draw(st.sampled_from(["list", "map", "dash", "indent"]))
    if shape == "list":
        # PyYAML's composer hits the recursion limit some 500 `[` deep (600 already fail), so a thousand are past
        # it with room to spare; its scanner's time grows faster than quadratically above that (1.5 s at 1500).
        n = min(n, 1000)
        value = "[" * n + ("x" + "]" * n if closed else "")
        lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items() if k != "tags"] + [f"#+ tags: {value}"]
    elif shape == "map":
        value = "{a: " * n + ("x" + "}" * n if closed else "")
        lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()] + [f"#+ params: [{value}]"]
    elif shape == "dash":
        lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()] + ["#+ params:", "#+   " + "- " * n + "x"]
    else:
        n = min(n, 1500)
        lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()] + ["#+ params:"]
        lines += ["#+ " + "  " * i + "- " + ("x" if i == n - 1 else "") for i in range(n)]
    return ("\n".join(lines) + "\n" + BODY).encode("utf-8")


YAML_ESCAPES = st.sampled_from(["\\ud800", "\\udfff", "\\x85", "\\u2028", "\\0", "\\x1b[31m", "\\e", "\\N", "\\_",
                                "\\L", "\\P", "\\t", "\\r\\n", "\\U0001F600", "\\u202e", "\\x00"])


@st.composite
def escaped_headers(draw) -> bytes:  # type: ignore[no-untyped-def]
    """A header valid by the schema whose strings are YAML double-quoted with escapes (a lone surrogate, NUL,
    line and paragraph separators, ANSI colours…): nothing of the schema is broken, so exit 0 or a clean 2."""
    def quoted() -> str:
        parts = draw(st.lists(st.one_of(YAML_ESCAPES, st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                                                             blacklist_characters='"\\'),
                                                              max_size=5)), min_size=1, max_size=4))
        return '"x' + "".join(parts) + '"'

    field = draw(st.sampled_from(["title", "question", "description", "tags", "param", "default", "name"]))
    header = dict(VALID_HEADER)
    params = list(PARAM_LINES)
    if field == "tags":
        header["tags"] = f"[{quoted()}, fuzz]"
    elif field in header:
        header[field] = quoted()
    elif field == "param":
        params[-1] = f"#+     description: {quoted()}"
    elif field == "default":
        params[-2] = f"#+     default: {quoted()}"
    else:
        params[1] = f"#+   - name: {quoted()}"
    text = "\n".join([f"#+ {k}: {v}" for k, v in header.items()] + params) + "\n" + BODY
    return text.encode("utf-8")


@st.composite
def non_utf8_files(draw) -> bytes:  # type: ignore[no-untyped-def]
    data = valid_text().encode("utf-8")
    bad = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80",
                                b"\xf8\x88\x80\x80\x80", "Caf\u00e9".encode("latin-1")]))
    at = draw(st.integers(0, len(data)))
    return data[:at] + bad + data[at:]


YAMLISH_KEYS = st.one_of(st.sampled_from([*sorted(HEADER_KEYS), "name", "type", "default", "- name", "  - name",
                                          "    type", "    default", "? complex", "<<"]),
                         st.text(NO_NUL, max_size=8))
YAMLISH_VALUES = st.one_of(
    st.sampled_from(["x", "", "5", "-1.5", "null", "~", "true", "[a, b]", "[", "]", "{", "{a: 1}", "|", ">-",
                     "&a x", "*a", "*nope", "!!binary eA==", "!!python/object/apply:os.system ['true']", "!!str 5",
                     '"unterminated', "'it''s'", "a: b: c", "- x", "iri", "actor:khimprom", "\t", "%YAML 1.1", "---",
                     "...", "2023-01-01", "0x1F", ".inf", "[fuzz]", "&r [*r]", "{&m a: *m}", "'\\x00'", '"\\x00"',
                     '"\\ud800"', '"\\x85"', '"a\\u2028b"']),
    st.text(NO_NUL, max_size=20),
)
YAMLISH_LINES = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", YAMLISH_KEYS, YAMLISH_VALUES),
    st.builds(lambda i, v: " " * i + f"- {v}", st.integers(0, 8), YAMLISH_VALUES),
    st.text(NO_NUL, max_size=30),
)


@st.composite
def yamlish_headers(draw) -> bytes:  # type: ignore[no-untyped-def]
    lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()] if draw(st.booleans()) else []
    lines += [draw(st.sampled_from(["#+ ", "#+", "#+\t", "#+  "])) + line for line in
              draw(st.lists(YAMLISH_LINES, max_size=10))]
    order = draw(st.permutations(lines))
    return ("\n".join(order) + "\n" + BODY).encode("utf-8", "surrogatepass")


@pytest.fixture()
def header_root(tmp_path: Path, layout) -> Path:  # type: ignore[no-untyped-def]
    """A full graph copy (so nothing falls back to the bundle) whose queries/ holds only x.rq."""
    root = copy_layout(tmp_path, layout)
    for stored in (root / "queries").glob("*.rq"):
        stored.unlink()
    return root


def run_stored(runner, root: Path, fmt: str):  # type: ignore[no-untyped-def]
    listing_args = ["--data", str(root), "queries", "--format", fmt]
    listing = invoke(runner, listing_args)
    check_output(listing, fmt, listing_args)
    query_args = ["--data", str(root), "query", "x", "--format", "json"]
    answer = invoke(runner, query_args)
    check_output(answer, "json", query_args)
    return listing, answer


def test_the_valid_stored_file_answers(runner, header_root: Path) -> None:  # type: ignore[no-untyped-def]
    (header_root / "queries" / "x.rq").write_text(valid_text(), encoding="utf-8")
    listing, answer = run_stored(runner, header_root, "json")
    assert listing.exit_code == 0 and answer.exit_code == 0, listing.stderr + answer.stderr


HEADER_CASES = {
    "yamlish": yamlish_headers(), "schema": bad_headers(), "deep": deep_headers(), "bytes": non_utf8_files(),
    "escapes": escaped_headers(), "size": st.one_of(st.integers(300, 60_000), st.sampled_from([1000, 1001, 5_000_000])),
}


@pytest.mark.parametrize("kind", sorted(HEADER_CASES))
@fuzz(18, shrink=False)
@given(data=st.data(), fmt=st.sampled_from(["table", "json"]))
def test_stored_file_headers_keep_the_contract(runner, header_root: Path, kind: str, data, fmt: str) -> None:  # type: ignore[no-untyped-def]
    case = (kind, data.draw(HEADER_CASES[kind], label=kind))
    kind, payload = case
    stored = header_root / "queries" / "x.rq"
    if kind == "size":
        text = valid_text()
        size = payload
        padding = max(size - len(text.encode("utf-8")), 0)
        content = text.encode("utf-8") + b"#" * max(padding - 1, 0) + (b"\n" if padding else b"")
        stored.write_bytes(content)
        old = os.environ.get("KG_LIMIT_STORED_FILE_BYTES")
        os.environ["KG_LIMIT_STORED_FILE_BYTES"] = "1000"
        try:
            listing, answer = run_stored(runner, header_root, fmt)
        finally:
            if old is None:
                os.environ.pop("KG_LIMIT_STORED_FILE_BYTES", None)
            else:
                os.environ["KG_LIMIT_STORED_FILE_BYTES"] = old
        expected = 2 if len(content) > 1000 else 0
        assert listing.exit_code == expected and answer.exit_code == expected, \
            f"x.rq of {len(content)} bytes with KG_LIMIT_STORED_FILE_BYTES=1000: `queries` exit {listing.exit_code} " \
            f"{listing.stderr!r}, `query x` exit {answer.exit_code} {answer.stderr!r}"
        return
    stored.write_bytes(payload)
    listing, answer = run_stored(runner, header_root, fmt)
    if kind not in ("yamlish", "escapes"):
        assert listing.exit_code == 2 and answer.exit_code == 2, \
            f"{kind} header {payload[:300]!r}: `queries` exit {listing.exit_code}, `query x` exit {answer.exit_code}"
    assert listing.exit_code in (0, 2) and answer.exit_code in (0, 2)


def alias_bomb(levels: int) -> str:
    """A stored file whose parameter default is YAML aliases nested `levels` deep, ten to a level: a few hundred
    bytes that stand for 10**(levels + 1) strings once expanded."""
    parts = ["&a0 [" + ", ".join(["lol"] * 10) + "]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    lines = [f"#+ {k}: {v}" for k, v in VALID_HEADER.items()]
    lines += ["#+ params:", "#+   - name: s", "#+     type: string", "#+     description: d",
              f"#+     default: [{', '.join(parts)}]"]
    return "\n".join(lines) + "\n" + BODY


def test_a_yaml_alias_bomb_in_a_header_stays_small(runner, header_root: Path) -> None:  # type: ignore[no-untyped-def]
    """Within the stored-file size limit, a header must not expand into an answer a thousand times its size
    (six levels: about 550 bytes → 80 MB of `kg queries --format json` and 260 MB of memory; seven: ten times that)."""
    text = alias_bomb(4)
    (header_root / "queries" / "x.rq").write_text(text, encoding="utf-8")
    args = ["--data", str(header_root), "queries", "--format", "json"]
    result = invoke(runner, args)
    assert result.exit_code == 2 or len(result.stdout) < 1000 * len(text), \
        f"kg {' '.join(args)}: a {len(text)}-byte x.rq (a parameter default made of nested YAML aliases) " \
        f"gave exit {result.exit_code} and {len(result.stdout):,} bytes of output"


# ---------------------------------------------------------------------------------------------------
# Nothing written outside the targets


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file and folder under `roots` (folders too: a file made and removed again
    changes its folder's mtime)."""
    seen: dict[str, tuple[int, int]] = {}
    for root in roots:
        if not root.exists():
            continue
        for folder, dirs, files in os.walk(root):
            for name in [*dirs, *files, ""]:
                path = os.path.join(folder, name) if name else folder
                info = os.lstat(path)
                seen[path] = (info.st_size if not name or name in files else 0, info.st_mtime_ns)
    return seen


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def test_reading_commands_write_nothing(runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout,  # type: ignore[no-untyped-def]
                                        validate_bundled_once) -> None:
    cache = Path(os.environ["KG_CACHE_DIR"])
    small = tmp_path / "small"  # the bundled ontology and shapes with one small data file: pyshacl really runs
    shutil.copytree(layout.ontology_dir, small / "ontology")
    (small / "data" / "triples").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "shapes" / "clean.ttl", small / "data" / "triples" / "clean.ttl")
    (small / "queries").mkdir()
    work, temp, out = tmp_path / "cwd", tmp_path / "tmp", tmp_path / "out"
    for folder in (work, temp, out):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    query_file = tmp_path / "q.rq"
    query_file.write_text("SELECT ?s WHERE { ?s a ?c } LIMIT 2\n", encoding="utf-8")
    repo = [ROOT / "data", ROOT / "queries", ROOT / "ontology"]
    assert invoke(runner, ["stats"]).exit_code == 0  # the cache, and its folder, exist from here on
    reading = [
        ["stats"], ["stats", "--format", "json"], ["stats", "--by-section"], ["queries"],
        ["queries", "--format", "json"],
        ["query", "claims-by-section"], ["query", "route-legs", "-p", "route=route:northern-route", "--format", "json"],
        ["query", "evidence-for-entity", "-p", "entity=actor:khimprom", "--why"],
        ["sparql", "--", "SELECT * WHERE { ?s ?p ?o } LIMIT 3"],
        ["sparql", "-f", str(query_file), "--format", "csv"], ["why", "actor:khimprom"], ["audit"],
        ["audit", "--format", "json"], ["validate"], ["--data", str(small), "validate"],
    ]
    before = snapshot(tmp_path, *repo)
    for args in reading:
        result = invoke(runner, args)
        assert result.exit_code in (0, 1), f"kg {args}: exit {result.exit_code}: {result.stderr!r}"
    after = snapshot(tmp_path, *repo)
    outside = {p for p in changed(before, after) if not Path(p).is_relative_to(cache)}
    assert not outside, f"reading commands wrote outside $KG_CACHE_DIR: {sorted(outside)}"

    targets = {
        "stats.json": ["stats", "--format", "json"], "sections.md": ["stats", "--by-section", "--format", "md"],
        "queries.md": ["queries", "--format", "md"], "routes.tsv": ["query", "routes", "--format", "tsv"],
        "sparql.json": ["sparql", "--format", "json", "--", "SELECT * WHERE { ?s ?p ?o } LIMIT 3"],
        "why.json": ["why", "--format", "json", "actor:khimprom"], "audit.html": ["audit", "--format", "html"],
    }
    before = snapshot(tmp_path, *repo)
    for name, args in targets.items():
        result = invoke(runner, [args[0], "-o", str(out / name), *args[1:]])
        assert result.exit_code in (0, 1), f"kg {args} -o {out / name}: exit {result.exit_code}: {result.stderr!r}"
        assert result.stdout == "", f"kg {args} -o FILE also printed {result.stdout[:200]!r}"
    after = snapshot(tmp_path, *repo)
    outside = {p for p in changed(before, after) if not Path(p).is_relative_to(cache)}
    assert outside == {str(out)} | {str(out / name) for name in targets}, \
        f"-o FILE wrote more (or less) than FILE: {sorted(outside)}"
    assert sorted(os.listdir(out)) == sorted(targets), f"left beside the outputs: {sorted(os.listdir(out))}"
