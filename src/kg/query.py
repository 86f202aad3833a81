"""Running SPARQL SELECT questions on the embedded pyoxigraph store or on a remote SPARQL 1.1 endpoint.

Both paths return the same `Result` of pyoxigraph terms, so every output format and every test compares
like with like. Parameters arrive as RDF terms: locally they are pyoxigraph substitutions; remotely they are
serialized in N-Triples syntax into a trailing VALUES block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError

Term = ox.NamedNode | ox.BlankNode | ox.Literal
BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
USER_AGENT = f"crossroads-kg/{__version__} (https://w3id.org/crossroads-kg; kg command-line tool)"
UPDATE = re.compile(
    r"^\s*(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class Result:
    variables: list[str]
    rows: list[list[Term | None]]


def run_local(store: ox.Store, sparql: str, bindings: dict[str, Term] | None = None,
              limit: int | None = None) -> Result:
    substitutions = {ox.Variable(k): v for k, v in (bindings or {}).items()}
    try:
        solutions = store.query(sparql, substitutions=substitutions)
    except SyntaxError as err:
        raise KgError(f"SPARQL syntax error: {' '.join(str(err).split())}") from None
    except RuntimeError as err:  # e.g. a parameter that is not a projected variable
        raise KgError(f"query failed: {' '.join(str(err).split())}") from None
    except OSError as err:
        raise KgError(f"query failed: {err}") from None
    if isinstance(solutions, ox.QueryBoolean):
        return Result(["ask"], [[ox.Literal(str(bool(solutions)).lower(), datatype=BOOLEAN)]])
    if not isinstance(solutions, ox.QuerySolutions):
        raise KgError("only SELECT and ASK queries are answered here (CONSTRUCT and DESCRIBE are not)")
    variables = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        rows.append(list(solution))  # values in `variables` order; 4x cheaper than solution[name] per value
        if limit is not None and len(rows) >= limit:
            break
    return Result(variables, rows)


def with_values(sparql: str, bindings: dict[str, Term]) -> str:
    """Append a VALUES block binding each parameter (SPARQL 1.1 §18.2.4.3 trailing ValuesClause).

    The block joins after grouping, so — exactly as for pyoxigraph substitutions — a parameter must be a
    projected (and, in an aggregate query, grouped) variable of the question."""
    if not bindings:
        return sparql
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"{sparql.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"


def run_remote(endpoint: str, sparql: str, bindings: dict[str, Term] | None = None, timeout: float = 30.0,
               limit: int | None = None) -> Result:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(endpoint, agent=USER_AGENT)
    client.setQuery(with_values(sparql, bindings or {}))
    client.setReturnFormat(JSON)
    client.setMethod(POST)
    client.setTimeout(int(max(1, timeout)))
    try:
        answer = client.queryAndConvert()
    except SPARQLWrapperException as err:
        message = " ".join(str(err).split())
        raise KgError(f"endpoint {endpoint} answered with an error: {message[:400]}") from None
    except (OSError, ValueError) as err:  # URLError, socket.timeout, http.client errors
        reason = getattr(err, "reason", err)
        raise KgError(f"endpoint {endpoint} unreachable: {reason}") from None
    except Exception as err:  # http.client.RemoteDisconnected and friends
        raise KgError(f"endpoint {endpoint} failed: {type(err).__name__}: {err}") from None
    if isinstance(answer, dict) and "boolean" in answer:
        return Result(["ask"], [[ox.Literal(str(bool(answer["boolean"])).lower(), datatype=BOOLEAN)]])
    if not isinstance(answer, dict) or "results" not in answer:
        raise KgError(f"endpoint {endpoint} did not return SPARQL JSON results (only SELECT and ASK are answered)")
    variables = list(answer["head"].get("vars", []))
    rows = [[_from_json(binding.get(v)) for v in variables] for binding in answer["results"]["bindings"]]
    return Result(variables, rows[:limit] if limit is not None else rows)


def _from_json(value: dict | None) -> Term | None:
    if value is None:
        return None
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        return ox.BlankNode(value["value"])
    if "xml:lang" in value:
        return ox.Literal(value["value"], language=value["xml:lang"])
    if "datatype" in value:
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])


class Engine:
    """Where questions run: the embedded store or a remote endpoint, behind one `select` method."""

    def select(self, sparql: str, bindings: dict[str, Term] | None = None, limit: int | None = None) -> Result:
        raise NotImplementedError


@dataclass(frozen=True)
class LocalEngine(Engine):
    store: ox.Store

    def select(self, sparql: str, bindings: dict[str, Term] | None = None, limit: int | None = None) -> Result:
        return run_local(self.store, sparql, bindings, limit=limit)


@dataclass(frozen=True)
class RemoteEngine(Engine):
    endpoint: str
    timeout: float = 30.0

    def select(self, sparql: str, bindings: dict[str, Term] | None = None, limit: int | None = None) -> Result:
        return run_remote(self.endpoint, sparql, bindings, timeout=self.timeout, limit=limit)


def is_update(sparql: str) -> bool:
    """True when the text is a SPARQL Update (after stripping PREFIX/BASE lines and comments)."""
    body = "\n".join(
        line for line in sparql.splitlines()
        if not re.match(r"^\s*(#|PREFIX\b|BASE\b)", line, re.IGNORECASE)
    )
    return bool(UPDATE.search(body))
