"""Running SPARQL queries on the embedded pyoxigraph store or on a SPARQL 1.1 endpoint.

Both engines run the very same text: `prepare` checks it (`kg.sparql`: a query, not an update; no SERVICE
on the embedded store; nesting within the limit; every prefix declared or predeclared, the predeclared ones
it needs written before it) and binds parameters with one VALUES block at the head of the top-level group.
SELECT and ASK give the same `Result` of pyoxigraph terms, with GROUP_CONCAT lists put in a deterministic
order; CONSTRUCT and DESCRIBE give the same `kg.graph_answer.Graph`; so the same question gives the same
bytes cold, warm and remote. A syntax error is a `kg.sparql.SparqlSyntaxError` in the author's text
(`kg.syntax`): its line and column do not count the predeclared prefixes or the bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TypeVar

import pyoxigraph as ox

from kg.errors import KgError, LimitExceeded
from kg.graph_answer import ACCEPT, GRAPH_FORMS, Graph, collect, parse_graph
from kg.limits import int_limit, limit
from kg.remote import MAX_TRIES, USER_AGENT, Answer, exchange, query_request, redact
from kg.sparql import Analysis, SparqlSyntaxError, bind_values, prologue, require_query

__all__ = ["USER_AGENT", "Binding", "Bindings", "Engine", "Graph", "LocalEngine", "Prepared", "RemoteEngine",
           "Result", "Row", "Term", "bound", "parse_answer", "prepare", "records", "run_local"]

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Binding = Term | Sequence[Term]  # one value, or the values a variable ranges over
Bindings = Mapping[str, Binding]
T = TypeVar("T")
RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
MEDIA_FORMATS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/tab-separated-values": "tsv",
    "text/csv": "csv",
}


@dataclass(frozen=True)
class Result:
    """An answer: the variables and rows of a SELECT, or (`boolean` not None) the truth of an ASK."""

    variables: list[str]
    rows: list[list[Term | None]]
    boolean: bool | None = None
    lists: dict[str, str] = field(default_factory=dict)  # GROUP_CONCAT columns and their separators


Row = dict[str, Term | None]


def records(result: Result) -> list[Row]:
    """The rows of `result` as {variable: term or None}."""
    return [dict(zip(result.variables, row, strict=True)) for row in result.rows]


def bound(row: Row, name: str) -> Term:
    """The value of `?name` in `row`; an answer without it (an endpoint may send one) is an error, not a guess."""
    term = row.get(name)
    if term is None:
        raise KgError(f"the answer has no value for ?{name} in a row where the query always binds it")
    return term


@dataclass(frozen=True)
class Prepared:
    """A checked query text with its parameters bound, ready for any engine: `text` is what runs, `source`
    the author's text and `prologue` the declarations of predeclared prefixes put before it."""

    text: str
    analysis: Analysis
    source: str = ""
    prologue: str = ""

    @property
    def form(self) -> str:
        return self.analysis.form

    def syntax_error(self, message: str) -> SparqlSyntaxError:
        """The parser's `message` about `text` as an error in the author's text (positions are found again in
        the text before its parameters were bound, where they differ)."""
        from kg.syntax import from_parser, parse_error

        unbound = self.prologue + self.source
        if self.text != unbound:
            message = parse_error(unbound) or message
        return from_parser(unbound, message, len(self.prologue), self.source)


def prepare(sparql: str, bindings: Bindings | None, embedded: bool,
            prefixes: Mapping[str, str] | None = None) -> Prepared:
    """`sparql` checked by the gate, with the declarations it needs of the predeclared `prefixes` (none for
    stored questions, which declare their own and so stay portable) and `bindings` bound."""
    analysis = require_query(sparql, embedded=embedded)
    declarations = prologue(sparql, analysis, prefixes or {})
    text = declarations + sparql
    if declarations:
        analysis = analysis.shifted(len(declarations))
    terms: dict[str, str | list[str]] = {
        name: str(value) if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal) else [str(t) for t in value]
        for name, value in (bindings or {}).items()
    }
    bound_text = bind_values(text, analysis, terms)
    return Prepared(bound_text, require_query(bound_text, embedded=embedded) if terms else analysis, sparql,
                    declarations)


def _row_cap(limit_rows: int | None) -> int:
    cap = int_limit("answer_rows")
    return cap if limit_rows is None else min(cap, limit_rows)


def _collect(solutions: ox.QuerySolutions, limit_rows: int | None) -> list[list[Term | None]]:
    """Rows up to `limit_rows`; more rows than the `answer_rows` limit is an error, never a cut answer."""
    cap = _row_cap(limit_rows)
    rows: list[list[Term | None]] = []
    if cap <= 0:
        return rows
    try:
        for solution in solutions:
            rows.append(list(solution))  # values in `variables` order; 4x cheaper than solution[name] per value
            if len(rows) >= cap:
                if limit_rows is not None and cap == limit_rows:
                    break
                raise LimitExceeded(f"the answer has more than {cap:,} rows, the row limit", "answer_rows")
    finally:  # a traceback must not carry the solutions to another thread (pyoxigraph's are bound to this one)
        del solutions
    return rows


def canonical_lists(result: Result) -> Result:
    """GROUP_CONCAT leaves the order of items undefined (engines and cache states differ), so each list is
    sorted: the same question then gives the same bytes everywhere (only lists with an explicit separator
    are known to `kg.sparql`, so a list's items are never confused with the words of one value)."""
    columns = {result.variables.index(v): sep for v, sep in result.lists.items() if v in result.variables}
    if not columns:
        return result
    rows = []
    for row in result.rows:
        row = list(row)
        for i, separator in columns.items():
            term = row[i]
            if isinstance(term, ox.Literal) and separator in term.value:
                value = separator.join(sorted(term.value.split(separator)))
                row[i] = ox.Literal(value, language=term.language) if term.language else \
                    ox.Literal(value, datatype=term.datatype)
        rows.append(row)
    return Result(result.variables, rows, result.boolean, result.lists)


class Engine:
    """Where questions run: the embedded store or a remote endpoint, behind one `select` method for rows and
    one `graph` method for the graphs CONSTRUCT and DESCRIBE make."""

    embedded = True

    def prepare(self, sparql: str, bindings: Bindings | None = None,
                prefixes: Mapping[str, str] | None = None) -> Prepared:
        """`sparql` checked and bound for this engine (see `prepare`)."""
        return prepare(sparql, bindings, self.embedded, prefixes)

    def select(self, sparql: str, bindings: Bindings | None = None, limit: int | None = None,
               prefixes: Mapping[str, str] | None = None) -> Result:
        """The answer to a SELECT or ASK `sparql` with `bindings` bound (see kg.sparql.bind_values) and the
        predeclared `prefixes` it uses declared, at most `limit` rows."""
        return self.rows(self.prepare(sparql, bindings, prefixes), limit)

    def rows(self, prepared: Prepared, limit: int | None = None) -> Result:
        """The answer to a prepared SELECT or ASK query."""
        if prepared.form in GRAPH_FORMS:
            raise KgError(f"a {prepared.form} query answers with a graph, not with rows")
        result = self._run(prepared, limit)
        return canonical_lists(Result(result.variables, result.rows, result.boolean, prepared.analysis.lists))

    def graph(self, prepared: Prepared, limit: int | None = None) -> Graph:
        """The graph a prepared CONSTRUCT or DESCRIBE query makes, at most `limit` triples (the first in the
        graph's canonical order, see kg.graph_answer)."""
        if prepared.form not in GRAPH_FORMS:
            raise KgError(f"a {prepared.form} query answers with rows, not with a graph")
        return self._run_graph(prepared, limit)

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        raise NotImplementedError

    def _run_graph(self, prepared: Prepared, limit: int | None) -> Graph:
        raise KgError(f"{self.describe()} does not answer with graphs here")

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class LocalEngine(Engine):
    store: ox.Store

    def describe(self) -> str:
        return "the embedded graph"

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        solutions = self._query(prepared)
        try:
            if isinstance(solutions, ox.QueryBoolean):
                return Result([], [], bool(solutions))
            if not isinstance(solutions, ox.QuerySolutions):
                raise KgError("the store answered a SELECT or ASK query with a graph")
            variables = [v.value for v in solutions.variables]
            return Result(variables, _collect(solutions, limit_rows))
        except (RuntimeError, OSError, ValueError) as err:
            raise KgError(f"query failed: {' '.join(str(err).split())[:300]}") from None
        finally:
            del solutions

    def _run_graph(self, prepared: Prepared, limit: int | None) -> Graph:
        triples = self._query(prepared)
        try:
            if not isinstance(triples, ox.QueryTriples):
                raise KgError("the store answered a CONSTRUCT or DESCRIBE query with rows")
            return collect(triples, limit)
        except (RuntimeError, OSError, ValueError) as err:
            raise KgError(f"query failed: {' '.join(str(err).split())[:300]}") from None
        finally:
            del triples

    def _query(self, prepared: Prepared) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        try:
            return self.store.query(prepared.text)
        except SyntaxError as err:
            raise prepared.syntax_error(str(err)) from None
        except (RuntimeError, OSError, ValueError) as err:
            raise KgError(f"query failed: {' '.join(str(err).split())[:300]}") from None


def check_syntax(prepared: Prepared) -> None:
    """Parse the prepared text with Oxigraph's SPARQL 1.1 query parser before it is sent anywhere (on an empty
    store, which answers at once; a text with SERVICE is not run even there)."""
    if prepared.analysis.calls_service:
        return
    from kg.syntax import parse_error

    message = parse_error(prepared.text)
    if message is not None:
        raise prepared.syntax_error(message)


@dataclass(frozen=True)
class RemoteEngine(Engine):
    endpoint: str
    timeout: float = 30.0
    retries: int = MAX_TRIES - 1  # 429 and 503 are asked again this often (after Retry-After, else backoff × 2^n s)
    backoff: float = 1.0

    embedded = False

    def describe(self) -> str:
        return redact(self.endpoint)

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        return self.send(prepared, lambda answer: parse_answer(self.endpoint, answer.media_type, answer.stream(),
                                                               limit_rows))

    def _run_graph(self, prepared: Prepared, limit: int | None) -> Graph:
        return self.send(prepared, lambda answer: parse_graph(self.endpoint, answer.media_type, answer.stream(),
                                                              limit), accept=ACCEPT)

    def send(self, prepared: Prepared, consume: Callable[[Answer], T],
             accept: str = "application/sparql-results+json") -> T:
        """Send `prepared` and hand the answer to `consume` (the hook for a cache that keeps the raw answer)."""
        check_syntax(prepared)
        request = query_request(self.endpoint, prepared.text, accept)
        return exchange(request, consume, timeout=min(self.timeout, limit("time_seconds")), tries=self.retries + 1,
                        backoff=self.backoff)


def parse_answer(endpoint: str, media_type: str, body: IO[bytes], limit_rows: int | None = None) -> Result:
    """An endpoint's SPARQL results (JSON, XML, CSV or TSV, by `media_type`) read from `body`: the one parser
    of remote answers, whether they arrive over HTTP or from a cache of raw answers."""
    fmt = MEDIA_FORMATS.get(media_type)
    if fmt is None:
        raise KgError(f"{redact(endpoint)} did not answer with SPARQL results "
                      f"(it sent {media_type or 'no media type'})")
    parsed: ox.QuerySolutions | ox.QueryBoolean | None = None
    try:
        parsed = ox.parse_query_results(body, format=RESULT_FORMATS[fmt])
        if isinstance(parsed, ox.QueryBoolean):
            return Result([], [], bool(parsed))
        variables = [v.value for v in parsed.variables]
        return Result(variables, _collect(parsed, limit_rows))
    except SyntaxError as err:
        message = " ".join(str(err).split())[:200]
        raise KgError(f"{redact(endpoint)} sent a malformed or incomplete answer: {message}") from None
    finally:  # dropped here, in the thread that read the answer: pyoxigraph's results are bound to it
        del parsed


def run_local(store: ox.Store, sparql: str, bindings: Bindings | None = None,
              limit: int | None = None) -> Result:
    """`LocalEngine(store).select(…)`: a question on an in-memory store."""
    return LocalEngine(store).select(sparql, bindings, limit)



def absent_terms(engine: Engine, text: str, predeclared: dict[str, str]) -> list[str]:
    """The IRIs the query `text` names (kg.sparql.iris_named) that occur nowhere in the graph `engine` answers
    from: what to say when an answer is empty, for a misspelled class or property gives no rows and no error."""
    from kg.catalog import library
    from kg.sparql import iris_named

    named = iris_named(text, predeclared)
    if not named:
        return []
    found = engine.select(library("terms-present").sparql, {"node": [ox.NamedNode(iri) for iri in named]})
    present = {row[0].value for row in found.rows if row[0] is not None}
    return [iri for iri in named if iri not in present]
