"""Typed query parameters, turned into RDF terms.

A value given with `-p name=value` is checked against the parameter's declared type and becomes one RDF
term (an IRI, or a literal with the right datatype). The term is bound to the query variable by the engine
(pyoxigraph substitutions locally, a VALUES block remotely), so no value can change the query's structure.

`bind_in` is what `kg query` uses: an IRI parameter also takes a name ('Almaty'), looked up in the graph
(`kg.search_names`), and an IRI or CURIE must be in the graph, so a typo is an error with suggestions rather
than an empty answer. A parameter without a default is required; the defaults that were used are reported,
so the caller can show them with the answer. `bind` is the same without a graph, for IRIs only (audit checks,
whose parameters all have defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.catalog import Param, StoredQuery
from kg.errors import KgError
from kg.graph import PREFIXES

if TYPE_CHECKING:
    from kg.query import Engine
    from kg.search_names import Resolution

XSD = "http://www.w3.org/2001/XMLSchema#"
CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):([^\s<>\"{}|\\^`]*)$")
ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"{}|\\^`]+$")
PATTERNS = {
    "integer": (re.compile(r"^[+-]?\d+$"), "integer"),
    "decimal": (re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"), "decimal"),
    "date": (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "date"),
    "year": (re.compile(r"^\d{4}$"), "gYear"),
    "boolean": (re.compile(r"^(true|false)$"), "boolean"),
}


def expand(text: str) -> str:
    """An IRI as written by people: `<…>` unwrapped, a CURIE with a known prefix expanded (`actor:khimprom`);
    anything else unchanged.

    >>> expand("actor:khimprom")
    'https://w3id.org/crossroads-kg/id/actor/khimprom'
    >>> expand("<http://example.org/x>")
    'http://example.org/x'
    """
    value = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    curie = CURIE.match(value)
    if curie and curie.group(1) in PREFIXES and not value.startswith(("http:", "https:")):
        value = PREFIXES[curie.group(1)] + curie.group(2)
    return value


def to_term(param: Param, raw: str) -> ox.NamedNode | ox.Literal:
    """The RDF term for `raw`, or a KgError saying what the parameter expects."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise KgError(f"parameter '{param.name}': the value is not valid UTF-8 text") from None
    if param.type == "iri":
        value = expand(raw)
        if not ABSOLUTE_IRI.match(value):
            raise KgError(f"parameter '{param.name}' expects an IRI or a CURIE such as actor:khimprom, got {raw!r}")
        try:
            return ox.NamedNode(value)
        except ValueError:
            raise KgError(f"parameter '{param.name}': {raw!r} is not a valid IRI") from None
    if param.type == "string":
        return ox.Literal(raw)
    pattern, datatype = PATTERNS[param.type]
    if not pattern.match(raw):
        raise KgError(f"parameter '{param.name}' expects a {param.type}, got {raw!r}")
    return ox.Literal(raw, datatype=ox.NamedNode(XSD + datatype))


def _values(query: StoredQuery, given: dict[str, str]) -> tuple[dict[str, tuple[Param, str]], dict[str, str]]:
    """The value of every parameter of `query` (given, else its default) and the defaults used; an unknown
    or a missing required parameter fails."""
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        expected = ", ".join(declared) or "none"
        raise KgError(f"'{query.name}' has no parameter {', '.join(unknown)} (parameters: {expected})")
    values, defaults = {}, {}
    for name, param in declared.items():
        raw = given.get(name)
        if raw is None and param.default is None:
            example = f" (for example {name}={param.example})" if param.example else ""
            raise KgError(f"'{query.name}' needs the parameter {name}=<{param.type}>: {param.description}{example}")
        if raw is None:
            raw = defaults[name] = str(param.default)
        values[name] = (param, raw)
    return values, defaults


def bind(query: StoredQuery, given: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """Terms for every parameter of `query`: given values, else defaults; unknown or missing ones fail. IRI
    parameters take IRIs and CURIEs only (no graph is consulted: see `bind_in`)."""
    values, _ = _values(query, given)
    return {name: to_term(param, raw) for name, (param, raw) in values.items()}


@dataclass(frozen=True)
class Bound:
    """A question's parameters as terms, what each name given for an IRI parameter was taken to mean, and
    the optional parameters that were left out with the default each took (as given in the header)."""

    terms: dict[str, ox.NamedNode | ox.Literal]
    resolved: dict[str, Resolution] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def check(query: StoredQuery, given: dict[str, str]) -> None:
    """The checks of `bind_in` that need no graph (unknown, missing and ill-typed values), so that a command
    can make them before it loads or contacts one."""
    values, _ = _values(query, given)
    for param, raw in values.values():
        if param.type != "iri":
            to_term(param, raw)


def bind_in(engine: Engine, query: StoredQuery, given: dict[str, str]) -> Bound:
    """Terms for every parameter of `query`, as `bind`, where an IRI parameter also takes a name and must be
    in the graph `engine` answers for (a name is looked up in the parameter's class, when it has one)."""
    from kg.errors import NotFound

    values, defaults = _values(query, given)
    terms: dict[str, ox.NamedNode | ox.Literal] = {}
    resolved = {}
    for name, (param, raw) in values.items():
        if param.type != "iri":
            terms[name] = to_term(param, raw)
            continue
        from kg.search_names import resolve  # (only here: a question without an IRI parameter needs no index)

        try:
            resolution = resolve(engine, raw, param.of_class)
        except NotFound as err:
            raise NotFound(f"parameter '{name}': {err}", err.noun, err.suggestions) from None
        except KgError as err:
            raise KgError(f"parameter '{name}': {err}") from None
        terms[name] = ox.NamedNode(resolution.iri)
        if resolution.how != "iri":
            resolved[name] = resolution
    return Bound(terms, resolved, defaults)


def examples(query: StoredQuery) -> dict[str, str]:
    """The example values the header gives for `query`'s required parameters (what its catalog page shows)."""
    return {p.name: p.example for p in query.params if p.required and p.example is not None}


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    """`("a=1", "b=x")` → `{"a": "1", "b": "x"}`; each must be KEY=VALUE, each key once."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise KgError(f"a parameter must be given as KEY=VALUE, got {pair!r}")
        if key in out:
            raise KgError(f"parameter '{key}' given twice")
        out[key] = value
    return out
