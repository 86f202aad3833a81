"""Typed query parameters, turned into RDF terms.

A value given with `-p name=value` is checked against the parameter's declared type and becomes one RDF
term (an IRI, or a literal with the right datatype). The term is bound to the query variable by the engine
(pyoxigraph substitutions locally, a VALUES block remotely), so no value can change the query's structure.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from kg.catalog import Param, StoredQuery
from kg.errors import KgError
from kg.graph import PREFIXES

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


def bind(query: StoredQuery, given: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """Terms for every parameter of `query`: given values, else defaults; unknown or missing ones fail."""
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        expected = ", ".join(declared) or "none"
        raise KgError(f"'{query.name}' has no parameter {', '.join(unknown)} (parameters: {expected})")
    terms = {}
    for name, param in declared.items():
        raw = given.get(name, param.default)
        if raw is None:
            raise KgError(f"'{query.name}' needs the parameter {name}=<{param.type}>: {param.description}")
        terms[name] = to_term(param, raw)
    return terms


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
