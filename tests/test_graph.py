"""Loading: every file is parsed; a bad file (malformed, not UTF-8, too large, not a regular file, missing) is
one clear KgError naming it; the rdflib conversion keeps every term exactly; the query store's cache is
reused while the sources are unchanged and rebuilt when one changes (tests/test_graph_cache.py has the rest)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import KgError, LimitExceeded
from kg.graph import compact, fingerprint, iter_triples, oxigraph_store, parse_turtle, rdflib_graph
from kg.layout import resolve
from tests.conftest import copy_layout

TINY = "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"


def test_malformed_turtle_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "unterminated .\n', "utf-8")
    with pytest.raises(KgError) as caught:
        parse_turtle(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}:3: malformed Turtle: ")
    assert "\n" not in message


def test_undeclared_prefix_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "prefix.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b nope:c .\n", "utf-8")
    with pytest.raises(KgError, match=r"prefix.ttl:3: malformed Turtle: .*nope"):
        parse_turtle(bad)


# ---------------------------------------------------------------------------------------------------
# Files that are not Turtle text


def _refuses_promptly(path: Path, call=parse_turtle) -> KgError:  # type: ignore[no-untyped-def]
    """`call(path)` must raise a KgError within seconds; a call that blocks (a FIFO) is a failure, not a hang."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            call(path)
            outcome.append(None)
        except BaseException as err:  # handed to the test thread
            outcome.append(err)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock a reader stuck on a FIFO, then fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
        pytest.fail(f"{call.__name__}({path}) blocked")
    assert len(outcome) == 1
    assert isinstance(outcome[0], KgError), outcome[0]
    assert "\n" not in str(outcome[0])
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("call", [parse_turtle, lambda p: oxigraph_store([p]), lambda p: fingerprint([p])])
def test_fifo_is_refused_promptly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    fifo = tmp_path / "x.ttl"
    os.mkfifo(fifo)
    err = _refuses_promptly(fifo, call)
    assert str(err) == f"{fifo}: not a regular file"


def test_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.ttl"
    folder.mkdir()
    assert str(_refuses_promptly(folder)) == f"{folder}: not a regular file"


def test_dangling_symlink_cannot_be_read(tmp_path: Path) -> None:
    link = tmp_path / "link.ttl"
    link.symlink_to(tmp_path / "gone.ttl")
    assert str(_refuses_promptly(link)) == f"{link}: cannot read: no such file"


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ttl"
    assert str(_refuses_promptly(missing)) == f"{missing}: cannot read: no such file"


def test_symlink_to_a_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "real.ttl"
    target.write_text(TINY, "utf-8")
    link = tmp_path / "link.ttl"
    link.symlink_to(target)
    assert len(parse_turtle(link)) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_cannot_be_read(tmp_path: Path) -> None:
    locked = tmp_path / "locked.ttl"
    locked.write_text(TINY, "utf-8")
    locked.chmod(0)
    assert str(_refuses_promptly(locked)).startswith(f"{locked}: cannot read: ")


@pytest.mark.parametrize("call", [parse_turtle, lambda p: oxigraph_store([p]), lambda p: fingerprint([p]),
                                  lambda p: rdflib_graph([p]), lambda p: list(iter_triples([p]))])
def test_oversize_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KG_LIMIT_TURTLE_FILE_BYTES", "100")
    big = tmp_path / "big.ttl"
    big.write_text(TINY * 2, "utf-8")
    assert big.stat().st_size == 142
    with pytest.raises(LimitExceeded) as caught:
        call(big)
    assert caught.value.limit == "turtle_file_bytes"
    assert str(caught.value) == f"{big}: 142 bytes, more than the size limit of 100 bytes for one Turtle file"
    assert not (tmp_path / "cache").exists()


def test_file_at_the_size_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_LIMIT_TURTLE_FILE_BYTES", str(len(TINY)))
    exact = tmp_path / "exact.ttl"
    exact.write_text(TINY, "utf-8")
    assert len(parse_turtle(exact)) == 1


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\xff\xfe<http://e/a> <http://e/b> <http://e/c> .\n", 1),
        (TINY.encode() + b'<http://e/a> <http://e/b> "caf\xe9" .\n', 2),  # Latin-1
        (TINY.encode() * 2 + b'<http://e/a> <http://e/b> "\xed\xa0\x80" .\n', 3),  # a UTF-16 surrogate
    ],
)
def test_non_utf8_is_refused(tmp_path: Path, data: bytes, line: int) -> None:
    bad = tmp_path / "latin.ttl"
    bad.write_bytes(data)
    with pytest.raises(KgError) as caught:
        parse_turtle(bad)
    assert str(caught.value) == f"{bad}:{line}: not UTF-8 text"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.text(max_size=200).map(lambda t: ("@prefix ex: <http://e/> .\n" + t).encode()))
def test_any_bytes_give_triples_or_one_kgerror(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.ttl"
    path.write_bytes(data)
    try:
        parse_turtle(path)
    except KgError as err:
        assert str(err).startswith(f"{path}:")
        assert "\n" not in str(err)


# ---------------------------------------------------------------------------------------------------
# The rdflib conversion


def _canonical(graph) -> Counter:  # type: ignore[no-untyped-def]
    """The triples of an rdflib graph with each blank node replaced by a label computed from its
    surroundings (three rounds of colour refinement), so two graphs that differ only in blank node names
    compare equal and any other difference (a language tag, a datatype, a lexical form, a link) shows.

    rdflib's own isomorphism check takes minutes on the bundled graph's ~2,400 blank nodes."""
    import hashlib

    from rdflib import BNode

    labels = {node: "" for triple in graph for node in (triple[0], triple[2]) if isinstance(node, BNode)}

    def show(node) -> str:  # type: ignore[no-untyped-def]
        return f"_:{labels[node]}" if isinstance(node, BNode) else node.n3()

    for _ in range(3):
        around: dict = {node: [] for node in labels}
        for s, p, o in graph:
            if isinstance(s, BNode):
                around[s].append(f"out {p.n3()} {show(o)}")
            if isinstance(o, BNode):
                around[o].append(f"in {show(s)} {p.n3()}")
        labels = {node: hashlib.sha256("\n".join(sorted(seen)).encode()).hexdigest()[:16]
                  for node, seen in around.items()}
    return Counter((show(s), p.n3(), show(o)) for s, p, o in graph)


def _rdf11(parsed):  # type: ignore[no-untyped-def]
    """rdflib's parse with the two spellings RDF 1.1 makes one term written one way, as pyoxigraph gives them:
    `"x"^^xsd:string` is `"x"`, and language tags are lower case (`en-GB` is `en-gb`). Nothing else changes."""
    import rdflib
    from rdflib import XSD, Literal

    def term(node):  # type: ignore[no-untyped-def]
        if isinstance(node, Literal) and node.language:
            return Literal(str(node), lang=node.language.lower())
        if isinstance(node, Literal) and node.datatype == XSD.string:
            return Literal(str(node))
        return node

    graph = rdflib.Graph()
    for s, p, o in parsed:
        graph.add((s, p, term(o)))
    return graph


def test_rdflib_graph_matches_rdflib_parser(layout, data_graph) -> None:  # type: ignore[no-untyped-def]
    from rdflib import BNode, Literal

    ours = rdflib_graph(layout.graph_files())
    data_graph = _rdf11(data_graph)
    assert len(ours) == len(data_graph)
    ground = {t for t in ours if not any(isinstance(n, BNode) for n in t)}
    assert ground == {t for t in data_graph if not any(isinstance(n, BNode) for n in t)}
    assert _canonical(ours) == _canonical(data_graph)
    literals = [o for o in ours.objects() if isinstance(o, Literal)]
    assert any(o.language for o in literals)  # so the comparison covers language tags
    assert any(o.datatype is not None for o in literals)  # and datatypes


def test_rdflib_conversion_keeps_every_kind_of_term(tmp_path: Path) -> None:
    import rdflib
    from rdflib import XSD, BNode, Literal, URIRef
    from rdflib.compare import isomorphic

    source = tmp_path / "terms.ttl"
    source.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ex:a ex:label "Алматы"@ru, "Almaty"@en-GB, "plain", "typed"^^xsd:string ;\n'
        '     ex:n 42, 1.50, 2.5e3, true, "2023"^^xsd:gYear, "x"^^ex:custom ;\n'
        '     ex:via [ ex:label "inner"@kk ; ex:next [ ex:n -7 ] ] .\n',
        "utf-8",
    )
    ours = rdflib_graph([source])
    theirs = _rdf11(rdflib.Graph().parse(source, format="turtle"))
    assert len(ours) == len(theirs) == 14
    assert isomorphic(ours, theirs)
    assert _canonical(ours) == _canonical(theirs)
    objects = set(ours.objects(URIRef("http://example.org/a"), None))
    assert Literal("Алматы", lang="ru") in objects
    assert Literal("Almaty", lang="en-gb") in objects
    assert Literal("plain") in objects and Literal("typed") in objects  # xsd:string is the plain literal
    assert Literal("42", datatype=XSD.integer) in objects
    assert Literal("1.50", datatype=XSD.decimal) in objects
    assert Literal("2.5e3", datatype=XSD.double) in objects
    assert Literal("true", datatype=XSD.boolean) in objects
    assert Literal("2023", datatype=XSD.gYear) in objects
    assert Literal("x", datatype=URIRef("http://example.org/custom")) in objects
    assert sum(isinstance(node, BNode) for node in ours.all_nodes()) == 2


def test_store_cache_is_reused_and_rebuilt(tmp_path: Path, layout, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    root = copy_layout(tmp_path, layout)
    files = resolve(root).graph_files()
    first = oxigraph_store(files)
    cached = list((tmp_path / "cache").glob("graph-*.nq"))
    assert len(cached) == 1
    assert len(oxigraph_store(files)) == len(first)
    extra = root / "data" / "triples" / "extra.ttl"
    extra.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n", "utf-8")
    grown = oxigraph_store(resolve(root).graph_files())
    assert len(grown) == len(first) + 1
    assert [p.name for p in (tmp_path / "cache").glob("graph-*.nq")] != [p.name for p in cached]


def test_partial_data_folder_falls_back_to_bundled_parts(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data" / "triples").mkdir(parents=True)
    resolved = resolve(tmp_path)
    assert resolved.data_dir == tmp_path / "data" / "triples"
    assert resolved.ontology_dir == layout.ontology_dir
    assert resolved.queries_dir == layout.queries_dir


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_bad_data_folder(tmp_path: Path, folder: str) -> None:
    target = tmp_path / folder
    if folder == "empty":
        target.mkdir()
    with pytest.raises(KgError):
        resolve(target)


@pytest.mark.parametrize(
    ("iri", "curie"),
    [
        ("https://w3id.org/crossroads-kg/id/actor/khimprom", "actor:khimprom"),
        ("https://w3id.org/crossroads-kg/ontology#Claim", "ckg:Claim"),
        ("http://example.org/x", "http://example.org/x"),
    ],
)
def test_compact(iri: str, curie: str) -> None:
    assert compact(iri) == curie


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<< ex:a ex:b ex:c >> ex:d ex:e .", "an RDF 1.2 triple term"),
        ("ex:a ex:b <<( ex:a ex:b ex:c )>> .", "an RDF 1.2 triple term"),
        ("ex:a ex:b ex:c {| ex:d ex:e |} .", "an RDF 1.2 triple term"),
        ('ex:a ex:b "x"@en--ltr .', "a literal with a base direction"),
    ],
)
def test_rdf12_terms_rdflib_cannot_hold_are_one_kgerror(tmp_path: Path, body: str, problem: str) -> None:
    source = tmp_path / "rdf12.ttl"
    source.write_text(f"@prefix ex: <http://example.org/> .\n{body}\n", "utf-8")
    with pytest.raises(KgError) as caught:
        rdflib_graph([source])
    assert str(caught.value).startswith(f"{source}: {problem} (")
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------------
# Triple sets: what a cached load and the rdflib conversion must keep exactly (sets of triples, not counts)

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _ox_term(term) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """A pyoxigraph term as plain data: every IRI, lexical form, language tag and datatype shows."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("blank", term.value)
    return ("literal", term.value, term.language or "", term.datatype.value)


def _rdflib_term(term) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """An rdflib term as the same plain data (a plain literal is xsd:string, a tagged one rdf:langString)."""
    from rdflib import BNode, Literal

    if isinstance(term, BNode):
        return ("blank", str(term))
    if isinstance(term, Literal):
        datatype = str(term.datatype) if term.datatype else RDF_LANG_STRING if term.language else XSD_STRING
        return ("literal", str(term), term.language or "", datatype)
    return ("iri", str(term))


def _triple_set(triples) -> set[tuple[tuple[str, ...], ...]]:  # type: ignore[no-untyped-def]
    """The triples with each blank node named by its surroundings (four rounds of colour refinement), so two
    parses of one graph give equal sets whatever labels their blank nodes got. Fails if two distinct triples
    would fall together, so the set is exactly as strong as the triples themselves."""
    import hashlib

    triples = list(triples)
    labels = {node: "" for triple in triples for node in (triple[0], triple[2]) if node[0] == "blank"}

    def show(node: tuple[str, ...]) -> tuple[str, ...]:
        return ("blank", labels[node]) if node[0] == "blank" else node

    for _ in range(4):
        around: dict[tuple[str, ...], list[str]] = {node: [] for node in labels}
        for s, p, o in triples:
            if s[0] == "blank":
                around[s].append(f"out {p} {show(o)}")
            if o[0] == "blank":
                around[o].append(f"in {show(s)} {p}")
        labels = {node: hashlib.sha256("\n".join(sorted(seen)).encode()).hexdigest()[:20]
                  for node, seen in around.items()}
    found = {(show(s), p, show(o)) for s, p, o in triples}
    assert len(found) == len(set(triples)), "blank nodes the refinement cannot tell apart"
    return found


def _store_triples(store) -> set[tuple[tuple[str, ...], ...]]:  # type: ignore[no-untyped-def]
    return _triple_set((_ox_term(q.subject), _ox_term(q.predicate), _ox_term(q.object)) for q in store)


def _assert_same_triples(ours: set, expected: set) -> None:  # type: ignore[type-arg]
    missing, extra = sorted(expected - ours)[:5], sorted(ours - expected)[:5]
    assert not missing and not extra, \
        f"missing {len(expected - ours)}, e.g. {missing}; extra {len(ours - expected)}, e.g. {extra}"


def _assert_covers_every_kind_of_term(triples: set) -> None:  # type: ignore[type-arg]
    """So that a comparison of these triples would see a lost language tag or datatype."""
    literals = [o for _, _, o in triples if o[0] == "literal"]
    assert any(o[2] for o in literals), "no language-tagged literal"
    assert any(o[3] == XSD_STRING for o in literals), "no plain literal"
    assert len({o[3] for o in literals} - {XSD_STRING, RDF_LANG_STRING}) >= 3, "fewer than three datatypes"
    assert any(s[0] == "blank" or o[0] == "blank" for s, _, o in triples), "no blank node"


def _cache_file(folder: Path) -> Path:
    files = sorted(folder.glob("graph-*.nq"))
    assert len(files) == 1, files
    return files[0]


TERMS = (
    "@prefix ex: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    'ex:a ex:label "Алматы"@ru, "Almaty"@en, "plain" ; ex:n 42, 1.50, "2023"^^xsd:gYear, true ;\n'
    '     ex:via [ ex:label "inner"@kk ; ex:next [ ex:n -7 ] ] .\n'
)


def test_a_warm_load_is_answered_from_the_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Observable without a mock: a warm load neither rebuilds nor rewrites the cache file (same inode, same
    bytes), and a quad planted in the file (with a header that verifies) is in the answer."""
    import hashlib

    import pyoxigraph as ox

    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "terms.ttl"
    source.write_text(TERMS, "utf-8")
    cold = oxigraph_store([source])
    path = _cache_file(tmp_path / "cache")
    before = path.stat()
    content = path.read_bytes()
    warm = oxigraph_store([source])
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, path.read_bytes()) == (before.st_ino, before.st_mtime_ns, content)
    assert _store_triples(warm) == _store_triples(cold)

    planted = b'<urn:kg-test:planted> <urn:kg-test:says> "from the cache file"@en .\n'
    body = content.split(b"\n", 1)[1] + planted
    path.write_bytes(f"# crossroads-kg cache v2 quads={len(cold) + 1} sha256={hashlib.sha256(body).hexdigest()}\n"
                     .encode() + body)
    served = oxigraph_store([source])
    marker = ox.Quad(ox.NamedNode("urn:kg-test:planted"), ox.NamedNode("urn:kg-test:says"),
                     ox.Literal("from the cache file", language="en"))
    assert marker in served, "the warm load did not come from the cache file"
    assert len(served) == len(cold) + 1


def test_a_cached_load_has_exactly_the_triples_of_a_fresh_parse(tmp_path: Path, layout,  # type: ignore[no-untyped-def]
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    files = layout.graph_files()
    fresh = _store_triples(oxigraph_store(files, use_cache=False))
    _assert_covers_every_kind_of_term(fresh)
    built = oxigraph_store(files)  # a miss: parsed, then written to the cache
    path = _cache_file(tmp_path / "cache")
    inode = path.stat().st_ino
    served = oxigraph_store(files)  # a hit: the file is not rewritten
    assert path.stat().st_ino == inode
    _assert_same_triples(_store_triples(built), fresh)
    _assert_same_triples(_store_triples(served), fresh)


def test_the_rdflib_conversion_keeps_exactly_the_parsed_triples(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    """The graph handed to pyshacl and owlready2 holds exactly the triples pyoxigraph parsed, term for term:
    every language tag, datatype and lexical form (a plain literal is xsd:string in both). Lexical forms are
    compared as validation builds the graph, with rdflib's normalization off (`"1.50"` stays `"1.50"`)."""
    from kg.validate import lexical_forms_kept

    source = tmp_path / "terms.ttl"
    source.write_text(TERMS, "utf-8")
    for files in ([source], layout.graph_files()):
        # the parse itself, not a store: pyoxigraph's Store keeps numbers in canonical form ("1.50" → "1.5")
        expected = _triple_set((_ox_term(q.subject), _ox_term(q.predicate), _ox_term(q.object))
                               for q in iter_triples(files))
        _assert_covers_every_kind_of_term(expected)
        with lexical_forms_kept():
            ours = _triple_set(tuple(_rdflib_term(t) for t in triple) for triple in rdflib_graph(files))
        _assert_same_triples(ours, expected)
