"""Running SPARQL SELECT and ASK questions on the embedded pyoxigraph store or on a SPARQL 1.1 endpoint.

Both engines run the very same text: `prepare` checks it (`kg.sparql`: a query, not an update; no SERVICE
on the embedded store; nesting within the limit) and binds parameters with one VALUES block at the head of
the top-level group. Both return the same `Result` of pyoxigraph terms, with GROUP_CONCAT lists put in a
deterministic order, so the same question gives the same bytes cold, warm and remote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TypeVar

import pyoxigraph as ox

from kg.errors import KgError, LimitExceeded
from kg.limits import int_limit, limit
from kg.remote import MAX_TRIES, USER_AGENT, Answer, exchange, query_request, redact
from kg.sparql import Analysis, bind_values, require_query

__all__ = ["USER_AGENT", "Binding", "Bindings", "Engine", "LocalEngine", "RemoteEngine", "Result", "Row", "Term",
           "bound", "parse_answer", "prepare", "records", "run_local"]

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
    """A checked query text with its parameters bound, ready for any engine."""

    text: str
    analysis: Analysis


def prepare(sparql: str, bindings: Bindings | None, embedded: bool) -> Prepared:
    analysis = require_query(sparql, embedded=embedded)
    terms: dict[str, str | list[str]] = {
        name: str(value) if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal) else [str(t) for t in value]
        for name, value in (bindings or {}).items()
    }
    text = bind_values(sparql, analysis, terms)
    return Prepared(text, require_query(text, embedded=embedded) if terms else analysis)


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


def syntax_message(err: Exception) -> str:
    """pyoxigraph's parser message in one short line (its 'expected one of' lists run to hundreds of
    characters of Unicode ranges)."""
    text = " ".join(str(err).split())
    text = text.removeprefix("Parser error ")
    if "expected one of" in text:
        text = text.split("expected one of", 1)[0].rstrip(" ,:") + " (unexpected text here)"
    return text[:300]


class Engine:
    """Where questions run: the embedded store or a remote endpoint, behind one `select` method."""

    embedded = True

    def select(self, sparql: str, bindings: Bindings | None = None, limit: int | None = None) -> Result:
        """The answer to `sparql` with `bindings` bound (see kg.sparql.bind_values), at most `limit` rows."""
        prepared = prepare(sparql, bindings, embedded=self.embedded)
        result = self._run(prepared, limit)
        return canonical_lists(Result(result.variables, result.rows, result.boolean, prepared.analysis.lists))

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class LocalEngine(Engine):
    store: ox.Store

    def describe(self) -> str:
        return "the embedded graph"

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        try:
            solutions = self.store.query(prepared.text)
            if isinstance(solutions, ox.QueryBoolean):
                return Result([], [], bool(solutions))
            if not isinstance(solutions, ox.QuerySolutions):
                raise KgError("only SELECT and ASK queries are answered here (CONSTRUCT and DESCRIBE are not)")
            variables = [v.value for v in solutions.variables]
            return Result(variables, _collect(solutions, limit_rows))
        except SyntaxError as err:
            raise KgError(f"SPARQL syntax error: {syntax_message(err)}") from None
        except (RuntimeError, OSError, ValueError) as err:
            raise KgError(f"query failed: {' '.join(str(err).split())[:300]}") from None


def check_syntax(text: str, analysis: Analysis) -> None:
    """Parse `text` with Oxigraph's SPARQL 1.1 query parser before it is sent anywhere (on an empty store,
    which answers at once; a text with SERVICE is not run even there)."""
    if analysis.calls_service:
        return
    try:
        answer = ox.Store().query(text)
        del answer
    except SyntaxError as err:
        raise KgError(f"SPARQL syntax error: {syntax_message(err)}") from None
    except (RuntimeError, OSError, ValueError):
        pass  # parsed; evaluation problems are the endpoint's to report


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

    def send(self, prepared: Prepared, consume: Callable[[Answer], T]) -> T:
        """Send `prepared` and hand the answer to `consume` (the hook for a cache that keeps the raw answer)."""
        check_syntax(prepared.text, prepared.analysis)
        request = query_request(self.endpoint, prepared.text)
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

