"""Loading the graph: Turtle files into an rdflib Graph (for pyshacl) or a pyoxigraph Store (for queries).

Every file is parsed by pyoxigraph, whose errors carry the file, line and column; a malformed file becomes
one `KgError` naming them. The query store is cached as N-Quads under the user's cache folder, keyed by the
paths, sizes and modification times of the source files, so `kg query` does not reparse Turtle on every
call and rebuilds as soon as a file changes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def parse_turtle(path: Path) -> list[ox.Triple]:
    """All triples of one Turtle file, or a KgError naming the file, line and problem."""
    try:
        return list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except SyntaxError as err:
        problem = str(err.msg if hasattr(err, "msg") else err)
        problem = problem.split(": ", 1)[-1] if problem.startswith("Parser error") else problem
        problem = problem.split(" (", 1)[0] if f"({path.name}" in problem else problem
        raise KgError(f"{path}:{err.lineno or '?'}: malformed Turtle: {problem}") from None
    except OSError as err:
        raise KgError(f"{path}: cannot read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise KgError(f"{path}: not UTF-8 text") from None


def iter_triples(paths: Iterable[Path]) -> Iterator[ox.Triple]:
    for path in paths:
        yield from parse_turtle(path)


def _to_rdflib(term):  # type: ignore[no-untyped-def]
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))


def rdflib_graph(paths: Iterable[Path]):  # type: ignore[no-untyped-def]
    """One rdflib Graph holding every triple of `paths` (parsed by pyoxigraph, converted term by term)."""
    import rdflib

    graph = rdflib.Graph()
    for triple in iter_triples(paths):
        graph.add((_to_rdflib(triple.subject), _to_rdflib(triple.predicate), _to_rdflib(triple.object)))
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def cache_dir() -> Path:
    """`$KG_CACHE_DIR`, else `$XDG_CACHE_HOME/crossroads-kg`, else `~/.cache/crossroads-kg`."""
    if os.environ.get("KG_CACHE_DIR"):
        return Path(os.environ["KG_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crossroads-kg"


def fingerprint(paths: Iterable[Path]) -> str:
    """A key that changes whenever any source file is added, removed, resized or touched."""
    digest = hashlib.sha256(__version__.encode())
    for path in paths:
        stat = path.stat()
        digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def oxigraph_store(paths: list[Path], use_cache: bool = True) -> ox.Store:
    """An in-memory pyoxigraph Store of `paths`, loaded from the N-Quads cache when it is current."""
    store = ox.Store()
    which = hashlib.sha256("\n".join(str(p.resolve()) for p in paths).encode()).hexdigest()[:12]
    cached = cache_dir() / f"graph-{which}-{fingerprint(paths)}.nq" if use_cache else None
    if cached is not None and cached.is_file():
        try:
            store.bulk_load(path=str(cached), format=ox.RdfFormat.N_QUADS)
            return store
        except (OSError, SyntaxError):
            store = ox.Store()  # a damaged cache is rebuilt below
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in iter_triples(paths))
    if cached is not None:
        _write_cache(store, cached)
    return store


def _write_cache(store: ox.Store, target: Path) -> None:
    """Write atomically (temp file + rename); a cache that cannot be written is simply skipped."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(target.name.rsplit("-", 1)[0] + "-*.nq"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        store.dump(tmp, format=ox.RdfFormat.N_QUADS)
        os.replace(tmp, target)
    except OSError:
        pass


PREFIXES: dict[str, str] = {
    "ckg": "https://w3id.org/crossroads-kg/ontology#",
    "ckgsh": "https://w3id.org/crossroads-kg/shapes#",
    "report": "https://w3id.org/crossroads-kg/id/report/",
    "sec": "https://w3id.org/crossroads-kg/id/section/",
    "claim": "https://w3id.org/crossroads-kg/id/claim/",
    "cite": "https://w3id.org/crossroads-kg/id/citation/",
    "source": "https://w3id.org/crossroads-kg/id/source/",
    "actor": "https://w3id.org/crossroads-kg/id/actor/",
    "place": "https://w3id.org/crossroads-kg/id/place/",
    "substance": "https://w3id.org/crossroads-kg/id/substance/",
    "route": "https://w3id.org/crossroads-kg/id/route/",
    "event": "https://w3id.org/crossroads-kg/id/event/",
    "lab": "https://w3id.org/crossroads-kg/id/lab/",
    "policy": "https://w3id.org/crossroads-kg/id/policy/",
    "fact": "https://w3id.org/crossroads-kg/id/fact/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "qudt": "http://qudt.org/schema/qudt/",
    "unit": "http://qudt.org/vocab/unit/",
    "cur": "http://qudt.org/vocab/currency/",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def compact(iri: str) -> str:
    """`https://w3id.org/crossroads-kg/id/actor/khimprom` → `actor:khimprom` (longest namespace wins)."""
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri
