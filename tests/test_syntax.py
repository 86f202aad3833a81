"""kg.syntax: SPARQL syntax errors for people. Each case marks, by hand, where the error is (`⟦`, removed
before the query runs) and a few words the message must hold; the line and column the tool reports are
compared with the marker's, the expectation must be short and free of the parser's Unicode ranges, and the
positions are the author's whatever was added to the text (predeclared prefixes, bound parameters, the
`#+` header of a stored file)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.errors import KgError
from kg.graph import PREFIXES
from kg.query import LocalEngine, RemoteEngine
from kg.sparql import SparqlSyntaxError
from kg.syntax import excerpt, file_line
from tests.servers import free_port

MARK = "⟦"
EMPTY = LocalEngine(ox.Store())

# (query with the error's place marked, words the message holds)
CASES = [
    ("SELECT ?x WHERE { ?x ?y ⟦}",
     "expected a variable, an IRI, a prefixed name, a literal or a blank node, found '}'"),
    ("SELECT ?x WHERE { ?x ?y ⟦} LIMIT 5", "found '}'"),
    ("SELECT ?x WHERE {\n  ?x rdfs:label ?l .\n  ?x ckg:basedIn\n⟦}", "found '}'"),
    ("SELECT ?x WHERE { ?x <http://x/a> ?y . FILTER(?y > ⟦) }", "found ')'"),
    ("ASK { FILTER(1 > ⟦) } # a comment", "found ')'"),
    ("SELECT ?x WHERE { ?x <http://x/a> ?y } LIMIT ⟦x", "expected a number, found 'x'"),
    ("SELECT ⟦WHERE { ?x <http://x/a> ?y }", "expected a variable, found 'WHERE'"),
    ("SELECT ?x WHERE { ?x a ?y . OPTIONAL ⟦?x }", "expected '{', found '?x'"),
    ("SELECT ?x WHERE { ?x <http://x/a> ?y ⟦", "found the end of the query"),
    ("SELECT ?x WHERE { ?x <http://x/a> ?y } ⟦extra", "unexpected 'extra' after the end of the query"),
    ("SELECT ?x WHERE { ?x <http://x/a> ?y } LIMIT 1 ⟦LIMIT 2", "unexpected 'LIMIT' after the end of the query"),
    ("SELECT (COUNT(?x) ⟦?n) WHERE { ?x <http://x/a> ?y }", "expected an operator, found '?n'"),
    ("CONSTRUCT { ?x <http://x/a> ?y ⟦WHERE { ?x <http://x/a> ?y }", "found 'WHERE'"),
    ("SELECT * WHERE { ?x ⟦<a> ?y }", "'<a>' is a relative IRI"),
    ('ASK { ?x <http://x/a> ⟦"not closed }', "a string that is not closed"),
    ("SELECT * WHERE { ?s ⟦acter:x ?o }", "unknown prefix 'acter:' (did you mean 'actor:'?)"),
    ('SELECT * WHERE { ?s ?p "x"⟦@toolongtagxx . }', "expected a valid language tag, found '@toolongtagxx'"),
    ("SELECT * WHERE { ?s ?p ⟦<http://[x/> }", "expected a valid IRI, found '<http://[x/>'"),
    ("⟦SELEC * WHERE { ?s ?p ?o }", "'SELEC' starts no query: expected SELECT, ASK, CONSTRUCT or DESCRIBE"),
    ("SELECT * WHERE { ?s ?p ?o ⟦` }", "unexpected character '`'"),
]


def marked(case: str) -> tuple[str, int, int]:
    """The query without its marker, and the marker's line and column (from 1), counted here by hand."""
    text = case.replace(MARK, "")
    before = case[: case.index(MARK)]
    return text, before.count("\n") + 1, len(before.split("\n")[-1]) + 1


def error_of(text: str, bindings=None, engine=EMPTY) -> SparqlSyntaxError:  # type: ignore[no-untyped-def]
    """The error `engine` gives for `text`, asked for rows or for a graph as its form says (`kg sparql`'s way)."""
    with pytest.raises(SparqlSyntaxError) as caught:
        prepared = engine.prepare(text, bindings, prefixes=PREFIXES)
        engine.graph(prepared) if prepared.form in ("CONSTRUCT", "DESCRIBE") else engine.rows(prepared)
    return caught.value


@pytest.mark.parametrize(("case", "words"), CASES, ids=[c[0][:40] for c in CASES])
def test_the_error_is_where_it_is_and_said_in_a_few_words(case: str, words: str) -> None:
    text, line, column = marked(case)
    err = error_of(text)
    assert (err.line, err.column) == (line, column), str(err)
    assert str(err).startswith(f"SPARQL syntax error at line {line}, column {column}: ")
    assert words in str(err)
    assert "\\u{" not in str(err) and "[_]" not in str(err) and "\n" not in str(err)
    assert len(err.problem) <= 110 or "unknown prefix" in err.problem, err.problem


def test_an_unknown_prefix_lists_the_known_ones() -> None:
    err = error_of("SELECT * WHERE { ?s rdfs:label ?l . ?s nope:x ?o }")
    assert "unknown prefix 'nope:'" in err.problem
    assert all(name in err.problem for name in PREFIXES)


@pytest.mark.parametrize("case", [c for c, _ in CASES[:5]])
def test_bound_parameters_do_not_move_the_position(case: str) -> None:
    """The VALUES block goes on the line of the WHERE group's `{`: the column is still the author's."""
    text, line, column = marked(case)
    err = error_of(text, {"bound": ox.Literal("a value with ) and } in it")})
    assert (err.line, err.column) == (line, column)


def test_a_prefix_declared_by_the_author_is_not_predeclared_again() -> None:
    text, line, column = marked("PREFIX ckg: <urn:mine#>\nSELECT * WHERE {\n  ?s ckg:x ⟦}")
    err = error_of(text)
    assert (err.line, err.column) == (line, column)


def test_positions_are_the_same_on_an_endpoint_and_nothing_is_sent() -> None:
    """A remote query is parsed before it is sent: the same error, and no request (nothing listens there)."""
    text, line, column = marked("SELECT ?x WHERE {\n  ?x rdfs:label ⟦}")
    remote = RemoteEngine(f"http://127.0.0.1:{free_port()}/query", timeout=2)
    err = error_of(text, engine=remote)
    assert (err.line, err.column) == (line, column) and str(err) == str(error_of(text))


def test_excerpt_puts_the_caret_under_the_column() -> None:
    text, _, _ = marked("SELECT ?x WHERE {\n\t?x rdfs:label ⟦}")
    shown, caret = excerpt(error_of(text), 80)
    assert shown == "  2 |  ?x rdfs:label }"  # the tab shown as one space, so the caret lines up
    assert caret.index("^") == shown.index("}")


@pytest.mark.parametrize("width", [40, 80, 120])
@pytest.mark.parametrize("variables", [1, 60, 150])
def test_a_long_line_is_cut_around_the_column(width: int, variables: int) -> None:
    """A query on one long line: the excerpt fits the width and the caret is under the offending token."""
    selected = " ".join(f"?v{i}" for i in range(variables))
    case = f"SELECT {selected} WHERE {{ ?x <http://x/a> ⟦}} " + "# " + "x" * 400
    text, _, column = marked(case)
    err = error_of(text)
    assert err.column == column
    shown, caret = excerpt(err, width)
    assert len(shown) <= width and len(caret) <= width
    assert shown[caret.index("^")] == "}"


def test_what_a_terminal_would_obey_is_shown_escaped() -> None:
    err = SparqlSyntaxError("unexpected", "SELECT \x1b[31m ?x", 1, 14)
    shown, caret = excerpt(err, 80)
    assert "\x1b" not in shown and "\\x1b" in shown
    assert shown[caret.index("^")] == "?"


@pytest.mark.parametrize(("file_text", "body_line", "expected"), [
    ("#+ title: x\n#+ tags: [a]\nSELECT *\nWHERE {\n}\n", 2, 4),
    ("#+ title: x\nSELECT *\n#+ params: []\n\nWHERE {\n}\n", 4, 6),  # a header line inside the body
    ("PREFIX a: <urn:a>\n#+ title: x\nSELECT * {}\n", 2, 3),  # the header after a first line
    ("#+ title: x\n}\n}\n#+ y: 1\n}\n", 3, 5),  # lines that repeat
])
def test_a_stored_files_lines_are_found_again(file_text: str, body_line: int, expected: int) -> None:
    from kg.catalog import strip_header

    assert file_line(file_text, strip_header(file_text), body_line) == expected


@pytest.fixture()
def broken_graph(tmp_path: Path) -> Path:
    """A graph folder with a stored question whose fourth SPARQL line (file line 9) misses an object."""
    root = tmp_path / "graph"
    for folder in ("ontology", "data/triples", "queries"):
        (root / folder).mkdir(parents=True)
    (root / "ontology" / "o.ttl").write_text("<urn:x:a> <urn:x:b> <urn:x:c> .\n", encoding="utf-8")
    (root / "data" / "triples" / "d.ttl").write_text('<urn:x:a> <urn:x:label> "A" .\n', encoding="utf-8")
    (root / "queries" / "broken.rq").write_text(
        "#+ title: Broken\n#+ question: Is it broken?\n#+ description: An object is missing.\n#+ tags: [test]\n"
        "PREFIX x: <urn:x:>\n\nSELECT ?thing WHERE {\n  ?thing x:label ?l .\n  ?thing x:label\n}\n", encoding="utf-8")
    (root / "queries" / "undeclared.rq").write_text(
        "#+ title: Undeclared\n#+ question: Are its prefixes declared?\n#+ description: rdfs is not.\n"
        "#+ tags: [test]\nSELECT ?x WHERE { ?x rdfs:label ?l }\n", encoding="utf-8")
    return root


def test_a_stored_questions_error_names_the_file_and_its_line(runner, broken_graph: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["--data", str(broken_graph), "query", "broken"])
    assert result.exit_code == 2
    path = broken_graph / "queries" / "broken.rq"
    assert result.stderr == (f"kg: {path}: SPARQL syntax error at line 10, column 1: expected a variable, an IRI, "
                             "a prefixed name, a literal or a blank node, found '}'\n")


def test_a_stored_question_gets_no_predeclared_prefix(runner, broken_graph: Path) -> None:  # type: ignore[no-untyped-def]
    """Stored questions declare their prefixes, so they run in any SPARQL tool: none is predeclared for them."""
    result = runner.invoke(main, ["--data", str(broken_graph), "query", "undeclared"])
    assert result.exit_code == 2
    assert "undeclared.rq: SPARQL syntax error at line 5, column 22: unknown prefix 'rdfs:'" in result.stderr


def test_a_query_files_error_names_the_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    query = tmp_path / "q.rq"
    query.write_text("SELECT ?x\nWHERE { ?x ?y }\n", encoding="utf-8")
    result = runner.invoke(main, ["sparql", "-f", str(query)])
    assert result.exit_code == 2 and result.stderr.startswith(f"kg: {query}: SPARQL syntax error at line 2, column 15")
    assert result.stderr.count("\n") == 1


def test_not_on_a_terminal_the_error_is_one_line(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sparql", "SELECT ?x WHERE {\n ?x ?y }"])
    assert result.exit_code == 2
    assert result.stderr == ("kg: SPARQL syntax error at line 2, column 8: expected a variable, an IRI, a prefixed "
                             "name, a literal or a blank node, found '}'\n")


def test_on_a_terminal_the_line_and_a_caret_follow() -> None:
    """The one `kg:` line, then (for the person at the terminal) the offending line and a caret under it."""
    kg = Path(sys.executable).parent / "kg"
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run([str(kg), "sparql", "SELECT ?x WHERE {\n  ?x rdfs:label ?l .\n  ?x ckg:basedIn }"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary, timeout=60,
                              env={**os.environ, "COLUMNS": "60"})
        os.close(secondary)
        secondary = -1
        shown = b""
        while chunk := _read(primary):
            shown += chunk
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    lines = shown.decode().replace("\r\n", "\n").splitlines()
    assert done.returncode == 2 and done.stdout == b""
    assert lines == ["kg: SPARQL syntax error at line 3, column 18: expected a variable, an IRI, a prefixed name, "
                     "a literal or a blank node, found '}'",
                     "  3 |   ?x ckg:basedIn }",
                     "    |                  ^"]


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the other end closed: Linux says EIO
        return b""


def test_a_library_error_is_a_kg_error() -> None:
    """The kind callers catch: every syntax error is a KgError, so the CLI prints one line and exits 2."""
    assert issubclass(SparqlSyntaxError, KgError)
