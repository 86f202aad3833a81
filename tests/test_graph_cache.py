"""The query store's N-Quads cache: keyed by the content of the sources, verified on every load, written
atomically, and never a reason for a wrong answer or a crash.

Every test uses the real pyoxigraph and real files: the cache folder is a `tmp_path` named by `KG_CACHE_DIR`.
A damaged cache must be a miss (rebuilt from the Turtle and rewritten), so each damage test checks both the
answer and that the file on disk is valid again afterwards.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.graph import cache_dir, fingerprint, oxigraph_store
from kg.layout import Layout, resolve
from tests.conftest import copy_layout

HEADER = re.compile(rb"# crossroads-kg cache v2 quads=(\d+) sha256=([0-9a-f]{64})\n")
MARKER = ox.Quad(ox.NamedNode("urn:kg-test:planted"), ox.NamedNode("urn:kg-test:says"), ox.Literal("from the cache"))
MARKER_LINE = b'<urn:kg-test:planted> <urn:kg-test:says> "from the cache" .\n'

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph


def _signature(store: ox.Store) -> Counter[tuple[str, ...]]:
    """The quads of `store` with every blank node written `_:`: blank node labels differ from parse to parse,
    so this is how two stores are compared (every IRI, literal, language tag and datatype still counts)."""

    def term(value: Term) -> str:
        return "_:" if isinstance(value, ox.BlankNode) else str(value)

    return Counter((term(q.subject), term(q.predicate), term(q.object), term(q.graph_name)) for q in store)


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("graph-*.nq"))


def _only_cache_file(folder: Path) -> Path:
    files = _cache_files(folder)
    assert len(files) == 1, files
    return files[0]


def _header_and_body(path: Path) -> tuple[int, str, bytes]:
    data = path.read_bytes()
    match = HEADER.match(data)
    assert match is not None, data[:120]
    return int(match[1]), match[2].decode(), data[match.end():]


def _assert_valid_cache(path: Path, expected_quads: int) -> None:
    """The cache file verifies itself: header count and hash match the body, and the body loads."""
    quads, digest, body = _header_and_body(path)
    assert quads == expected_quads
    assert hashlib.sha256(body).hexdigest() == digest
    store = ox.Store()
    store.bulk_load(input=body, format=ox.RdfFormat.N_QUADS)
    assert len(store) == quads


def _plant(path: Path, body: bytes, quads: int | None = None, digest: str | None = None) -> None:
    """Write a cache file with a header (a correct one unless `quads` or `digest` say otherwise)."""
    count = body.count(b"\n") if quads is None else quads
    digest = hashlib.sha256(body).hexdigest() if digest is None else digest
    path.write_bytes(f"# crossroads-kg cache v2 quads={count} sha256={digest}\n".encode() + body)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KG_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def reference(layout: Layout) -> Counter[tuple[str, ...]]:
    """The bundled graph parsed from Turtle with no cache involved."""
    return _signature(oxigraph_store(layout.graph_files(), use_cache=False))


def _small_graph(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "a.ttl"
    first.write_text('@prefix ex: <http://example.org/> .\nex:a ex:name "alpha"@en ; ex:n 41 .\n', "utf-8")
    second = folder / "b.ttl"
    second.write_text('@prefix ex: <http://example.org/> .\nex:b ex:name "bravo"@en ; ex:seen [ ex:n 7 ] .\n', "utf-8")
    return [first, second]


@pytest.fixture()
def small(tmp_path: Path) -> tuple[list[Path], Counter[tuple[str, ...]]]:
    """The small two-file graph (a language tag, an integer, a blank node) and its signature parsed without a
    cache: for the damage tests, where what is proven (a damaged cache file is a miss, rebuilt and rewritten)
    does not depend on the graph's size, and 18 builds of the 15k-triple bundled graph cost ~8 s. The bundled
    graph's own round trip through the cache is test_bundled_graph_through_the_cache_matches_turtle."""
    files = _small_graph(tmp_path / "small")
    return files, _signature(oxigraph_store(files, use_cache=False))


# ---------------------------------------------------------------------------------------------------
# The cache file and its use


def test_cache_file_carries_its_own_verification(cache: Path, layout: Layout) -> None:
    store = oxigraph_store(layout.graph_files())
    path = _only_cache_file(cache)
    _assert_valid_cache(path, len(store))
    assert not list(cache.glob("*.tmp"))


def test_second_call_is_served_from_the_cache(cache: Path, layout: Layout, reference: Counter) -> None:
    files = layout.graph_files()
    oxigraph_store(files)
    path = _only_cache_file(cache)
    quads, _, body = _header_and_body(path)
    _plant(path, body + MARKER_LINE, quads + 1)  # distinguishable, and valid in every respect
    served = oxigraph_store(files)
    assert MARKER in served
    assert len(served) == quads + 1


def _head(quads: int, digest: str, version: str = "v2") -> bytes:
    return f"# crossroads-kg cache {version} quads={quads} sha256={digest}\n".encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _without_last_line(body: bytes) -> bytes:
    return body[: body.rindex(b"\n", 0, len(body) - 1) + 1]


NOT_NQUADS = b"garbage <x\n"
NOT_UTF8 = b'<urn:a> <urn:b> "\xff" .\n'

# Each damage gets the right quad count, the right hash and the body (which holds MARKER), and spoils one thing.
DAMAGES: dict[str, Callable[[int, str, bytes], bytes]] = {
    "empty file": lambda n, h, body: b"",
    "no header (a v1 cache)": lambda n, h, body: body,
    "header only": lambda n, h, body: _head(n, h),
    "header without newline": lambda n, h, body: _head(n, h)[:-1],
    "garbled header": lambda n, h, body: f"# crossroads-kg cache v2 quads={n} sha=oops\n".encode() + body,
    "other version": lambda n, h, body: _head(n, h, "v3") + body,
    "wrong hash": lambda n, h, body: _head(n, "0" * 64) + body,
    "truncated mid-line": lambda n, h, body: _head(n, h) + body[: len(body) // 2 + 7],
    "truncated at a line boundary": lambda n, h, body: _head(n, h) + body[: body.index(b"\n", len(body) // 2) + 1],
    "one quad removed, old header": lambda n, h, body: _head(n, h) + _without_last_line(body),
    "one quad removed, hash recomputed": lambda n, h, body: _head(n, _sha(_without_last_line(body)))
    + _without_last_line(body),
    "count says one more": lambda n, h, body: _head(n + 1, h) + body,
    "count says one fewer": lambda n, h, body: _head(n - 1, h) + body,
    "not N-Quads, hash right": lambda n, h, body: _head(n, _sha(NOT_NQUADS)) + NOT_NQUADS,
    "not UTF-8, hash right": lambda n, h, body: _head(1, _sha(NOT_UTF8)) + NOT_UTF8,
    "extra bytes after the body": lambda n, h, body: _head(n, h) + body + b"\n",
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_cache_is_not_served(cache: Path, small: tuple[list[Path], Counter], damage: str) -> None:
    files, reference = small
    oxigraph_store(files)
    path = _only_cache_file(cache)
    quads, _, body = _header_and_body(path)
    body = MARKER_LINE + body  # so that a damaged file that were served anyway would show
    path.write_bytes(DAMAGES[damage](quads + 1, _sha(body), body))
    served = oxigraph_store(files)
    assert MARKER not in served
    assert _signature(served) == reference
    _assert_valid_cache(_only_cache_file(cache), quads)  # rebuilt and rewritten
    assert not list(cache.glob("*.tmp"))


def test_cache_path_that_is_a_directory_is_a_miss_and_leaves_no_temp_file(cache: Path,
                                                                          small: tuple[list[Path], Counter]) -> None:
    files, reference = small
    oxigraph_store(files)
    path = _only_cache_file(cache)
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("x", "utf-8")  # a non-empty folder: the rename onto it fails
    served = oxigraph_store(files)
    assert _signature(served) == reference
    assert not list(cache.glob("*.tmp"))


def test_unreadable_cache_file_is_a_miss(cache: Path, small: tuple[list[Path], Counter]) -> None:
    files, reference = small
    oxigraph_store(files)
    path = _only_cache_file(cache)
    path.unlink()
    path.symlink_to(cache / "nowhere.nq")  # a dangling link: reading it fails
    assert _signature(oxigraph_store(files)) == reference


# ---------------------------------------------------------------------------------------------------
# The key


def test_same_size_edit_with_restored_mtime_is_not_served_stale(cache: Path, tmp_path: Path) -> None:
    files = _small_graph(tmp_path / "src")
    before = oxigraph_store(files)
    assert ox.Literal("alpha", language="en") in {q.object for q in before}
    first = files[0]
    info = first.stat()
    first.write_bytes(first.read_bytes().replace(b'"alpha"', b'"omega"'))
    os.utime(first, ns=(info.st_atime_ns, info.st_mtime_ns))
    after_info = first.stat()
    assert (after_info.st_size, after_info.st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    objects = {q.object for q in oxigraph_store(files)}
    assert ox.Literal("omega", language="en") in objects
    assert ox.Literal("alpha", language="en") not in objects
    assert len(_cache_files(cache)) == 1  # the stale entry of the same graph is removed


def test_fingerprint_follows_content_path_and_nothing_else(tmp_path: Path) -> None:
    files = _small_graph(tmp_path / "one")
    key = fingerprint(files)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    for path in files:
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns + 10**9, info.st_mtime_ns + 10**9))
    assert fingerprint(files) == key  # touching is not changing
    files[1].write_bytes(files[1].read_bytes().replace(b"bravo", b"BRAVO"))
    assert fingerprint(files) != key
    copies = _small_graph(tmp_path / "two")
    assert fingerprint(copies) != fingerprint(_small_graph(tmp_path / "one"))  # same content, other place


def test_different_graphs_keep_their_own_entries(cache: Path, tmp_path: Path) -> None:
    oxigraph_store(_small_graph(tmp_path / "one"))
    oxigraph_store(_small_graph(tmp_path / "two"))
    assert len(_cache_files(cache)) == 2


# ---------------------------------------------------------------------------------------------------
# Writing


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftover_temp_files_are_cleaned(cache: Path, tmp_path: Path) -> None:
    cache.mkdir()
    dead = cache / f"graph-0123456789ab-{'c' * 64}.nq.{_dead_pid()}.tmp"
    old = cache / f"graph-0123456789ab-{'d' * 64}.nq.{os.getpid()}.tmp"
    young = cache / f"graph-0123456789ab-{'e' * 64}.nq.{os.getpid()}.tmp"
    unrelated = cache / "notes.tmp"  # not a name the cache writes: left alone
    for path in (dead, old, young, unrelated):
        path.write_bytes(b"x" * 4096)
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    os.utime(unrelated, (hour_ago, hour_ago))
    oxigraph_store(_small_graph(tmp_path / "src"))
    assert not dead.exists()
    assert not old.exists()
    assert young.exists()  # a live writer (this process) less than an hour old
    assert unrelated.exists()
    assert len(_cache_files(cache)) == 1


def test_uncreatable_cache_dir_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    monkeypatch.setenv("KG_CACHE_DIR", str(blocker / "cache"))
    files = _small_graph(tmp_path / "src")
    expected = _signature(oxigraph_store(files, use_cache=False))
    assert _signature(oxigraph_store(files)) == expected
    assert _signature(oxigraph_store(files)) == expected


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_cache_dir_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o500)
    monkeypatch.setenv("KG_CACHE_DIR", str(folder))
    files = _small_graph(tmp_path / "src")
    try:
        assert _signature(oxigraph_store(files)) == _signature(oxigraph_store(files, use_cache=False))
        assert not list(folder.iterdir())
    finally:
        folder.chmod(0o700)


# ---------------------------------------------------------------------------------------------------
# Where the cache lives


def test_cache_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("KG_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "crossroads-kg"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/xdg")  # the XDG spec says to ignore a relative path
    assert cache_dir() == tmp_path / "home" / ".cache" / "crossroads-kg"


@pytest.mark.parametrize("home", ["", "relative/home"])
def test_unusable_home_runs_without_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str) -> None:
    for name in ("KG_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", home)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cache_dir() is None
    files = _small_graph(tmp_path / "src")
    assert _signature(oxigraph_store(files)) == _signature(oxigraph_store(files, use_cache=False))
    assert not list(work.iterdir())  # nothing written where a relative home would point


def test_home_unset_falls_back_to_the_account_home(monkeypatch: pytest.MonkeyPatch) -> None:
    pwd = pytest.importorskip("pwd")
    for name in ("KG_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)
    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        assert cache_dir() is None
    else:
        assert cache_dir() == Path(home) / ".cache" / "crossroads-kg"


def _answer_without_home(folder: str) -> tuple[str, int, int]:
    """Run in a fresh interpreter: no HOME, no cache variables, and a real uid with no passwd entry."""
    for name in ("KG_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        os.environ.pop(name, None)
    os.setreuid(_uid_without_account(), 0)  # the real uid decides the passwd look-up; root keeps file access
    try:
        Path.home()
        home = "found"
    except (RuntimeError, KeyError) as err:
        home = type(err).__name__
    files = sorted(Path(folder).glob("*.ttl"))
    return home, len(oxigraph_store(files)), len(oxigraph_store(files, use_cache=False))


def _uid_without_account() -> int:
    import pwd

    for uid in range(54321, 64000):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise AssertionError("every uid has an account")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop the real uid")
def test_home_unset_and_no_account_still_answers(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _small_graph(tmp_path / "src")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        home, cached, uncached = pool.submit(_answer_without_home, str(tmp_path / "src")).result(timeout=120)
    assert home == "RuntimeError"  # Path.home() really fails in the child
    assert cached == uncached == 5


def test_bundled_graph_through_the_cache_matches_turtle(cache: Path, tmp_path: Path, layout: Layout,
                                                        reference: Counter) -> None:
    root = copy_layout(tmp_path, layout)
    files = resolve(root).graph_files()
    assert _signature(oxigraph_store(files)) == reference  # built
    assert _signature(oxigraph_store(files)) == reference  # served
