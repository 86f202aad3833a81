"""Loading: every file is parsed; a malformed file is one clear error naming the file and line; the
query store's cache is reused while the sources are unchanged and rebuilt when one changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import KgError
from kg.graph import compact, oxigraph_store, parse_turtle, rdflib_graph
from kg.layout import resolve
from tests.conftest import copy_layout


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


def test_rdflib_graph_matches_rdflib_parser(layout, data_graph) -> None:  # type: ignore[no-untyped-def]
    ours = rdflib_graph(layout.graph_files())
    assert len(ours) == len(data_graph)


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
