"""Answers that are graphs: what CONSTRUCT and DESCRIBE queries give, collected within the limits, put in one
order and written as Turtle, N-Triples or JSON-LD.

The same query must give the same bytes on the embedded store and on any endpoint, and blank nodes have
whatever labels each store or parser gives them. So a graph is first canonicalized (W3C RDF Dataset
Canonicalization, RDFC-1.0, which names each blank node by its place in the graph: isomorphic graphs get
the same labels) and its triples sorted; `--limit`-style caps then keep the first triples of that order. More
triples than the `answer_rows` limit is an error, never a cut answer.

Turtle uses the project's prefixes (`kg.graph.PREFIXES`, only those the graph needs); JSON-LD is compacted
with the same prefixes as its `@context`, one node object per subject. What a terminal would obey (an ESC
in a literal, a bidi override) is written as a `\\uXXXX` escape, which every one of these formats reads back
as the same character, so the output is exact and safe to print.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox

from kg.errors import KgError, LimitExceeded
from kg.limits import int_limit

GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
FORMATS = ("ttl", "nt", "jsonld")
# What an endpoint may answer a CONSTRUCT or DESCRIBE with, best first (JSON-LD contexts are never fetched:
# pyoxigraph's parser has no loader for remote contexts and refuses them).
MEDIA_FORMATS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5, application/ld+json;q=0.5"
# The characters `kg.output.printable` escapes for terminals; none can be part of a prefixed name, so in these
# formats they only ever occur in a string or an IRI, where `\uXXXX` stands for them.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PLAIN = ("http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
         "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString")


@dataclass(frozen=True)
class Graph:
    """A graph answer: its triples, blank nodes canonically labelled, in sorted order."""

    triples: list[ox.Triple]


def collect(triples: Iterable[ox.Triple], limit: int | None = None) -> Graph:
    """`triples` as a Graph, at most `limit` of them (the first in sorted order); more than the `answer_rows`
    limit is a LimitExceeded."""
    cap = int_limit("answer_rows")
    seen: list[ox.Triple] = []
    for triple in triples:
        seen.append(triple)
        if len(seen) > cap:
            raise LimitExceeded(f"the answer has more than {cap:,} triples, the row limit", "answer_rows")
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in seen):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in seen)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        seen = [ox.Triple(q.subject, q.predicate, q.object) for q in dataset]
    ordered = sorted(set(seen), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return Graph(ordered if limit is None else ordered[:limit])


def parse_graph(endpoint: str, media_type: str, body: IO[bytes], limit: int | None = None) -> Graph:
    """An endpoint's graph answer, read from `body` in the syntax its `media_type` names."""
    from kg.remote import redact

    fmt = MEDIA_FORMATS.get(media_type)
    if fmt is None:
        raise KgError(f"{redact(endpoint)} did not answer with an RDF graph (it sent {media_type or 'no media type'})")
    parser = None
    try:
        parser = ox.parse(body, format=fmt)
        return collect((ox.Triple(q.subject, q.predicate, q.object) for q in parser), limit)
    except SyntaxError as err:
        message = " ".join(str(err).split())[:200]
        raise KgError(f"{redact(endpoint)} sent a malformed or incomplete graph: {message}") from None
    finally:  # dropped here, in the thread that read the answer
        del parser


def serialize(graph: Graph, fmt: str, prefixes: Mapping[str, str]) -> str:
    """`graph` as Turtle (`ttl`), N-Triples (`nt`) or JSON-LD (`jsonld`), with `prefixes` where the format
    has them (only those the graph uses)."""
    used = used_prefixes(graph, prefixes)
    if not graph.triples and fmt in ("ttl", "nt"):
        return "# (0 triples)\n"  # a comment in both formats: an empty graph, said as a table says (0 rows)
    if fmt == "jsonld":
        return _safe(to_jsonld(graph, used))
    if fmt not in ("ttl", "nt"):
        raise KgError(f"no graph format {fmt!r}; the formats are {', '.join(FORMATS)}")
    rdf_format = ox.RdfFormat.TURTLE if fmt == "ttl" else ox.RdfFormat.N_TRIPLES
    data = ox.serialize(graph.triples, format=rdf_format, prefixes=used if fmt == "ttl" else None) or b""
    text = data.decode("utf-8")
    if fmt == "ttl":  # the @prefix lines in the order of `prefixes`, whatever order the serializer chose
        lines = text.split("\n")
        head = next((i for i, line in enumerate(lines) if not line.startswith("@prefix ")), len(lines))
        order = {f"@prefix {name}: <{ns}> .": i for i, (name, ns) in enumerate(used.items())}
        text = "\n".join(sorted(lines[:head], key=lambda line: order.get(line, len(order))) + lines[head:])
    return _safe(text)


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


def _iris(term: object) -> Iterable[str]:
    if isinstance(term, ox.NamedNode):
        yield term.value
    elif isinstance(term, ox.Literal) and term.datatype.value not in PLAIN:
        yield term.datatype.value
    elif isinstance(term, ox.Triple):
        for part in (term.subject, term.predicate, term.object):
            yield from _iris(part)


def used_prefixes(graph: Graph, prefixes: Mapping[str, str]) -> dict[str, str]:
    """The `prefixes` (in their order) whose namespace begins some IRI of `graph` (rdf:type is written `a`)."""
    namespaces = set()
    for triple in graph.triples:
        for position, term in enumerate((triple.subject, triple.predicate, triple.object)):
            for iri in _iris(term):
                if not (position == 1 and iri == RDF_TYPE):
                    namespaces.add(iri)
    return {name: ns for name, ns in prefixes.items() if any(iri.startswith(ns) for iri in namespaces)}


def to_jsonld(graph: Graph, prefixes: Mapping[str, str]) -> str:
    """Compacted JSON-LD: `{"@context": prefixes, "@graph": [node objects by subject, in order]}`.

    An IRI is written as a compact IRI where a prefix covers it, else in full; a prefix that is also the
    scheme of an IRI written in full (`geo:` for `geo:43.2,76.9`) would change that IRI's meaning, so it
    is left out of the context.
    """
    iris = {iri for t in graph.triples for term in (t.subject, t.predicate, t.object) for iri in _iris(term)}
    schemes = {iri.split(":", 1)[0] for iri in iris if _compact(iri, prefixes) == iri}
    context = {name: ns for name, ns in prefixes.items() if name not in schemes}
    nodes: dict[str, dict[str, object]] = {}
    for triple in graph.triples:
        if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
            raise KgError("a graph with triple terms cannot be written as JSON-LD; use Turtle or N-Triples")
        subject = _node_id(triple.subject, context)
        node = nodes.setdefault(subject, {"@id": subject})
        if triple.predicate.value == RDF_TYPE and not isinstance(triple.object, ox.Literal):
            types = node.setdefault("@type", [])
            assert isinstance(types, list)
            types.append(_node_id(triple.object, context))
            continue
        values = node.setdefault(_compact(triple.predicate.value, context), [])
        assert isinstance(values, list)
        values.append(_value(triple.object, context))
    document = {"@context": context, "@graph": list(nodes.values())}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _compact(iri: str, context: Mapping[str, str]) -> str:
    """`iri` as `prefix:local` by the longest namespace of `context` that begins it, else in full (a local
    part starting `//` would read as an IRI of that scheme)."""
    best = ""
    for name, ns in context.items():
        local = iri[len(ns):]
        if iri.startswith(ns) and len(ns) > len(context.get(best, "")) and not local.startswith("//"):
            best = name
    return f"{best}:{iri[len(context[best]):]}" if best else iri


def _node_id(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, context: Mapping[str, str]) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    assert isinstance(term, ox.NamedNode)
    return _compact(term.value, context)


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, context: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(term, ox.Literal):
        return {"@id": _node_id(term, context)}
    value = {"@value": term.value}
    if term.language:
        value["@language"] = term.language
        direction = getattr(term, "direction", None)
        if direction is not None:
            value["@direction"] = str(direction.value if hasattr(direction, "value") else direction).lower()
    elif term.datatype.value not in PLAIN:
        value["@type"] = _compact(term.datatype.value, context)
    return value
