"""Reading the entities to link, through an engine: by default the embedded graph without its own links (so
linking never feeds on its own output), or any SPARQL endpoint holding the graph — the answer is the same,
since the link files add no entity, label or class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.catalog import library
from kg.graph import CKG, oxigraph_store
from kg.layout import Layout
from kg.link.records import Entity
from kg.query import Engine, LocalEngine, bound, records

LINKS_FOLDER = "links"
LINKS_FOLDER_PATH = f"data/triples/{LINKS_FOLDER}"  # in words, for messages


def links_dir(layout: Layout) -> Path:
    return layout.data_dir / LINKS_FOLDER


def input_files(layout: Layout) -> list[Path]:
    """The ontology and data without the links themselves, so that linking never feeds on its own output."""
    folder = links_dir(layout).resolve()
    data = [p for p in layout.data_files() if folder not in p.resolve().parents]
    return layout.ontology_files() + data


def input_engine(layout: Layout) -> LocalEngine:
    """The embedded graph of `layout` without its links, freshly parsed (not from the query cache)."""
    return LocalEngine(oxigraph_store(input_files(layout), use_cache=False))


@dataclass
class _Found:
    """One entity's rows, folded."""

    classes: set[str] = field(default_factory=set)
    label: str | None = None
    alts: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)


def read_entities(engine: Engine, top: str) -> dict[str, Entity]:
    """Entities of class `top` (a ckg local name) or below, with names and the countries the graph places them in;
    each entity's label is the smallest of its labels, its class the first of its most specific classes."""
    found: dict[str, _Found] = {}
    answer = engine.select(library("link-entities").sparql, {"top": ox.NamedNode(CKG + top)})
    for row in records(answer):
        item = found.setdefault(bound(row, "e").value, _Found())
        item.classes.add(bound(row, "cls").value.removeprefix(CKG))
        label = bound(row, "label").value
        if item.label is None or label < item.label:
            item.label = label
        if row["alt"] is not None:
            item.alts.add(row["alt"].value)
        if row["country"] is not None:
            item.countries.add(row["country"].value)
    entities = {}
    for iri, item in sorted(found.items()):
        label = item.label or ""
        entities[iri] = Entity(iri, sorted(item.classes)[0], label, (label, *sorted(item.alts - {label})),
                               tuple(sorted(item.countries)))
    return entities
