"""Putting the graph into a SPARQL server with the SPARQL 1.1 Graph Store HTTP Protocol.

The graph (ontology, vocabularies, data) is sent as one N-Triples document of its distinct triples with
HTTP PUT to the server's graph store endpoint — `URL?default` for the default graph, `URL?graph=IRI` for a
named graph — so that a second load replaces the first instead of doubling it. A load is only reported when
it can be believed: the server must answer PUT with a Graph Store Protocol status (200, 201 or 204, and not
an HTML page), and a GET of the same graph must give back exactly the triples sent. The whole exchange
runs within one wall-clock budget (`kg.remote`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import oxigraph_store
from kg.remote import Answer, Deadline, exchange, get_request, put_request, redact, split_credentials

ACCEPTED = (200, 201, 204)


def ntriples(paths: list[Path]) -> tuple[bytes, int]:
    """The distinct triples of `paths` as N-Triples, and how many there are."""
    store = oxigraph_store(paths)
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b"", len(store)


def graph_store_url(endpoint: str, graph: str | None) -> str:
    split_credentials(endpoint)  # an http(s) URL, or a KgError
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise KgError(f"a named graph must be an absolute IRI, got {graph!r}") from None
    query = urllib.parse.urlencode({"graph": graph}) if graph else "default"
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _accepted(url: str) -> Callable[[Answer], None]:
    def consume(answer: Answer) -> None:
        if answer.status not in ACCEPTED:
            raise KgError(f"{redact(url)} answered HTTP {answer.status} to the upload, not 200, 201 or 204")
        if answer.media_type == "text/html":
            raise KgError(f"{redact(url)} answered with an HTML page, not as a Graph Store Protocol endpoint: "
                          "is it the server's graph store URL (for Oxigraph, http://HOST:PORT/store)?")
        answer.body.read()

    return consume


def _count(url: str) -> Callable[[Answer], int]:
    def consume(answer: Answer) -> int:
        if answer.media_type not in ("application/n-triples", "text/plain"):
            raise KgError(f"{redact(url)} answered the check of the load with {answer.media_type or 'nothing'}, "
                          "not N-Triples; the load cannot be confirmed")
        try:
            return len(set(ox.parse(answer.stream(), format=ox.RdfFormat.N_TRIPLES)))
        except SyntaxError as err:
            raise KgError(f"{redact(url)} gave back malformed N-Triples: {' '.join(str(err).split())[:200]}") \
                from None

    return consume


def load(paths: list[Path], endpoint: str, graph: str | None = None, timeout: float = 60.0) -> int:
    """PUT the triples of `paths` into the graph store at `endpoint` and check that the server holds exactly
    them; returns the number of (distinct) triples loaded."""
    body, count = ntriples(paths)
    url = graph_store_url(endpoint, graph)
    deadline = Deadline(timeout)
    exchange(put_request(url, body, "application/n-triples"), _accepted(url), timeout=timeout)
    held = exchange(get_request(url, "application/n-triples"), _count(url), timeout=max(0.1, deadline.left()))
    if held != count:
        raise KgError(f"{redact(url)} holds {held} triples after the load, not the {count} sent")
    return count
