"""Loading the graph: Turtle files into an rdflib Graph (for pyshacl) or a pyoxigraph Store (for queries).

Every file is checked before it is parsed: it must be a regular file (a FIFO or a device would block or never
end), no larger than the `turtle_file_bytes` limit, and UTF-8 text. It is then parsed by pyoxigraph, whose
errors carry the line. Whatever is wrong with a file becomes one `KgError` naming it, never another exception.

The query store is cached as one N-Quads file under the user's cache folder, so `kg query` need not reparse
Turtle on every call. The file name is keyed by a SHA-256 of the *content* of every source file (with its
resolved path and the package version): any edit changes the key, even one that keeps the size and
modification time (`cp -p`, `os.utime`). The cache file verifies itself: its first line, a comment,
`# crossroads-kg cache v2 quads=<N> sha256=<hex>`, gives the number of quads and the SHA-256 of the body.
A file that fails any check (header, hash, parse, count) is a miss: the store is rebuilt from the Turtle and
the cache rewritten. Writes go through a temp file that is fsynced and renamed into place. A cache that
cannot be found, read or written is never an error and never changes an answer; it only costs time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError
from kg.reading import OPEN_FLAGS, read_capped

if TYPE_CHECKING:
    import rdflib
    from rdflib.term import Identifier

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# The cache file's first line; the version changes whenever the file's layout or meaning does.
CACHE_HEADER = re.compile(rb"# crossroads-kg cache v2 quads=(\d+) sha256=([0-9a-f]{64})")
# The temp files the cache writer makes, `<target-name>.<pid>.tmp`: the only `*.tmp` files it ever removes.
CACHE_TEMP = re.compile(r"graph-[0-9a-f]+-[0-9a-f]+\.nq\.(\d+)\.tmp")
# A temp file this old is a leftover whatever its pid says (pids are reused).
CACHE_TEMP_MAX_AGE_SECONDS = 3600.0


# ---------------------------------------------------------------------------------------------------
# Reading and parsing Turtle


def _read_source(path: Path) -> bytes:
    """The bytes of one source file, or a KgError: not a regular file, missing, unreadable, or too large."""
    return read_capped(path, "turtle_file_bytes", "one Turtle file")


def parse_turtle(path: Path) -> list[ox.Quad]:
    """All triples of one Turtle file (as default-graph quads, which is what pyoxigraph's parser yields), or a
    KgError naming the file, line and problem."""
    return _parse_turtle(path, _read_source(path))


def _parse_turtle(path: Path, data: bytes) -> list[ox.Quad]:
    """Parse the bytes read from `path` (read once, so a cache key and the parse see the same content)."""
    try:
        data.decode("utf-8")  # checked here for a plain message; pyoxigraph's says "Parser error … Invalid UTF-8"
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise KgError(f"{path}:{line}: not UTF-8 text") from None
    try:
        return list(ox.parse(input=data, format=ox.RdfFormat.TURTLE))
    except SyntaxError as err:
        problem = str(err.msg if hasattr(err, "msg") else err)
        problem = problem.split(": ", 1)[-1] if problem.startswith("Parser error") else problem
        problem = " ".join(problem.split())  # one line, whatever the parser put in it
        raise KgError(f"{path}:{err.lineno or '?'}: malformed Turtle: {problem}") from None
    except ValueError as err:  # not expected from the parser, but a bad file must still be a KgError
        raise KgError(f"{path}: malformed Turtle: {' '.join(str(err).split())}") from None


def iter_triples(paths: Iterable[Path]) -> Iterator[ox.Quad]:
    """The triples of every file in turn, one file in memory at a time."""
    for path in paths:
        yield from parse_turtle(path)


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, path: Path) -> Identifier:
    """One pyoxigraph term as the equal rdflib term: language tags and datatypes kept, xsd:string plain
    (RDF 1.1 makes `"x"` and `"x"^^xsd:string` one term, and rdflib's parser gives the plain form).

    pyoxigraph also reads RDF 1.2 Turtle; its triple terms and directional literals have no rdflib form, so
    they are a KgError naming the file rather than a crash or a silently altered triple."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Triple):
        raise KgError(f"{path}: an RDF 1.2 triple term ({term}), which rdflib and pyshacl cannot represent")
    if getattr(term, "direction", None):
        raise KgError(f"{path}: a literal with a base direction ({term}), which rdflib cannot represent")
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Identifier:
    """A term of a query answer as the equal rdflib term (see `_to_rdflib`)."""
    return _to_rdflib(term, Path("a query answer"))


def rdflib_graph(paths: Iterable[Path]) -> rdflib.Graph:
    """One rdflib Graph holding every triple of `paths` (parsed by pyoxigraph, converted term by term), so
    validation sees exactly the triples queries do and gets pyoxigraph's error messages."""
    import rdflib

    graph = rdflib.Graph()
    for path in paths:
        for quad in parse_turtle(path):
            graph.add((_to_rdflib(quad.subject, path), _to_rdflib(quad.predicate, path),
                       _to_rdflib(quad.object, path)))
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


# ---------------------------------------------------------------------------------------------------
# The query store and its cache


def cache_dir() -> Path | None:
    """`$KG_CACHE_DIR`, else `$XDG_CACHE_HOME/crossroads-kg`, else `~/.cache/crossroads-kg`; None when there is
    no usable place (no home directory, or a relative one), so callers run without a cache instead of failing.

    A relative `XDG_CACHE_HOME` is ignored, as the XDG spec says, and so is a relative or empty `HOME` (Python
    would turn `HOME=""` into `/`, a cache in the root folder). The folder is not created here: writers do that
    and treat failure as "no cache".
    """
    explicit = os.environ.get("KG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "crossroads-kg"
    home_variable = os.environ.get("HOME")
    if home_variable is not None and not os.path.isabs(home_variable):
        return None
    try:
        home = Path.home()  # HOME, else the passwd entry; RuntimeError or KeyError when neither exists
    except (RuntimeError, KeyError, OSError):
        return None
    return home / ".cache" / "crossroads-kg" if home.is_absolute() else None


def _resolved(path: Path) -> str:
    """The absolute path with symlinks resolved; just absolute when resolving fails (a symlink loop)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _key(sources: list[tuple[Path, bytes]]) -> str:
    """SHA-256 over the package version and, per file, its resolved path and the SHA-256 of its content."""
    digest = hashlib.sha256(f"crossroads-kg {__version__}\n".encode())
    for path, data in sources:
        digest.update(f"{_resolved(path)}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest()


def fingerprint(paths: Iterable[Path]) -> str:
    """A key that changes whenever the content of a source file changes, or a file is added, removed or moved,
    or the package version changes; touching a file (size, mtime) alone does not change it. Files are read
    with `_read_source`'s checks, so a bad file is a KgError here too."""
    return _key([(path, _read_source(path)) for path in paths])


def oxigraph_store(paths: list[Path], use_cache: bool = True) -> ox.Store:
    """An in-memory pyoxigraph Store of `paths`, loaded from the N-Quads cache when it is current and intact.

    Each file is read once: its bytes give both the cache key and, on a miss, the parse, so a file edited
    meanwhile cannot leave a cache entry keyed by one content and holding another.
    """
    if not use_cache:
        store = ox.Store()
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in iter_triples(paths))
        return store
    sources = [(path, _read_source(path)) for path in paths]
    folder = cache_dir()
    target = None
    if folder is not None:
        which = hashlib.sha256("\n".join(_resolved(p) for p, _ in sources).encode()).hexdigest()[:12]
        target = folder / f"graph-{which}-{_key(sources)}.nq"
        cached = _read_cache(target)
        if cached is not None:
            return cached
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for p, data in sources for t in _parse_turtle(p, data))
    if target is not None:
        _write_cache(store, target)
    return store


def _read_cache(target: Path) -> ox.Store | None:
    """The store in `target` if every check passes, else None (a miss): a regular file whose first line is the
    v2 header, whose body has the SHA-256 the header gives, parses as N-Quads and holds exactly that many
    quads. The hash catches truncation and bit rot; the count catches a writer that dumped the wrong thing."""
    try:
        fd = os.open(target, OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = handle.read()
    except OSError:
        return None
    end = data.find(b"\n")
    header = CACHE_HEADER.fullmatch(data[:end]) if end >= 0 else None
    if header is None or hashlib.sha256(memoryview(data)[end + 1:]).hexdigest() != header[2].decode():
        return None
    store = ox.Store()
    try:
        store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)  # the header is an N-Quads comment
    except (SyntaxError, ValueError, OSError):
        return None
    return store if len(store) == int(header[1]) else None


def _write_cache(store: ox.Store, target: Path) -> None:
    """Write `store` to `target` with its header, atomically and durably; on any failure, no cache.

    The body goes to `<target-name>.<pid>.tmp` in the same folder, is flushed and fsynced, renamed over
    `target`, and the folder is fsynced so the rename survives a crash. Before that, leftover temp files of
    dead or hour-old writers and this graph's entries for older content are removed. A failed write (full
    disk, read-only folder) removes its temp file and is otherwise ignored: the answer is still correct.
    """
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    _remove_leftover_temps(folder)
    for stale in folder.glob(target.name.rsplit("-", 1)[0] + "-*.nq"):
        if stale.name != target.name:
            with contextlib.suppress(OSError):
                stale.unlink()
    body = store.dump(format=ox.RdfFormat.N_QUADS)  # bytes, since no output is given
    if body is None:
        return
    header = f"# crossroads-kg cache v2 quads={len(store)} sha256={hashlib.sha256(body).hexdigest()}\n".encode()
    temp = folder / f"{target.name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(temp, flags, 0o600)  # O_EXCL: another thread of this process is writing it; leave it be
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header)
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as err:  # an interrupt mid-write must not leave the temp file behind either
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(err, OSError):
            return
        raise
    _fsync_folder(folder)


def _remove_leftover_temps(folder: Path) -> None:
    """Remove cache temp files left by a killed or failed writer: its pid is gone, or the file is over an hour
    old. Only names the writer makes are touched, since `KG_CACHE_DIR` may be a folder shared with others."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        match = CACHE_TEMP.fullmatch(entry.name)
        if match is None:
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > CACHE_TEMP_MAX_AGE_SECONDS
            if old or not _pid_alive(int(match[1])):
                os.unlink(entry.path)
        except OSError:
            continue


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (signal 0 checks without sending anything). On Windows `os.kill` would
    end the process, so there a temp file is treated as live until it is an hour old."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except (OverflowError, OSError):
        return False  # not a pid this system can have
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable; where folders cannot be opened (Windows) the rename must do."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
CKG = PREFIXES["ckg"]  # the ontology's namespace, named once


def compact(iri: str) -> str:
    """`https://w3id.org/crossroads-kg/id/actor/khimprom` → `actor:khimprom` (longest namespace wins)."""
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri
