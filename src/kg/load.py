"""Putting the graph into a SPARQL server with the SPARQL 1.1 Graph Store HTTP Protocol.

The graph (ontology, vocabularies, data) is sent as one N-Triples document with HTTP PUT to the server's
graph store endpoint — `URL?default` for the default graph, `URL?graph=IRI` for a named graph — so that a
second load replaces the first instead of doubling it. Every stored question then runs unchanged on the
server with `kg query NAME --endpoint QUERY-URL`.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import iter_triples
from kg.query import USER_AGENT


def ntriples(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    ox.serialize(iter_triples(paths), buffer, format=ox.RdfFormat.N_TRIPLES)
    return buffer.getvalue()


def graph_store_url(endpoint: str, graph: str | None) -> str:
    if not endpoint.startswith(("http://", "https://")):
        raise KgError(f"--endpoint must be an http(s) URL, got {endpoint!r}")
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise KgError(f"--graph must be an absolute IRI, got {graph!r}") from None
    query = urllib.parse.urlencode({"graph": graph}) if graph else "default"
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def load(paths: list[Path], endpoint: str, graph: str | None = None, timeout: float = 60.0) -> int:
    """PUT the triples of `paths` into the graph store at `endpoint`; returns the number of triples sent."""
    body = ntriples(paths)
    request = urllib.request.Request(
        graph_store_url(endpoint, graph), data=body, method="PUT",
        headers={"Content-Type": "application/n-triples", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace").strip().splitlines()
        reason = detail[0][:300] if detail else err.reason
        raise KgError(f"{endpoint} refused the graph: HTTP {err.code} {reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise KgError(f"{endpoint} unreachable: {getattr(err, 'reason', err)}") from None
    return body.count(b"\n")
