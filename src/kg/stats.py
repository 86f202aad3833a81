"""Counts that describe the graph: triples, claims, citations, sources, conflicts, and entities per class.

Counted with SPARQL on the embedded pyoxigraph store, so the numbers are what any query would see.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from kg.graph import compact

PREFIXES = """PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""

TOTALS = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "claims": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ckg:Claim }",
    "footnotes": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ckg:Footnote }",
    "citations": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a/rdfs:subClassOf* ckg:Citation }",
    "sources": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ckg:Source }",
    "entities": "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a/rdfs:subClassOf* ckg:WorldEntity }",
    "conflicts": "SELECT (COUNT(*) AS ?n) WHERE { ?a ckg:conflictsWith ?b FILTER (STR(?a) < STR(?b)) }",
}

PER_CLASS = """SELECT ?class (COUNT(DISTINCT ?e) AS ?n) WHERE {
  ?e a ?class . ?class rdfs:subClassOf* ckg:WorldEntity .
} GROUP BY ?class ORDER BY DESC(?n) ?class"""


def _count(store: ox.Store, query: str) -> int:
    for row in store.query(PREFIXES + query):
        return int(row["n"].value)
    return 0


def compute(store: ox.Store) -> dict:
    """The statistics as a plain dict (the JSON output of `kg stats`)."""
    stats: dict = {name: _count(store, query) for name, query in TOTALS.items()}
    stats["entities_per_class"] = {
        compact(row["class"].value): int(row["n"].value) for row in store.query(PREFIXES + PER_CLASS)
    }
    return stats


def to_json(stats: dict) -> str:
    return json.dumps(stats, indent=2)


def to_table(stats: dict) -> str:
    width = max(len(k) for k in [*stats, *stats["entities_per_class"]]) + 2
    lines = [f"{name:<{width}}{value:>8}" for name, value in stats.items() if name != "entities_per_class"]
    lines.append("")
    lines.append("entities per class (direct type)")
    lines += [f"  {name:<{width - 2}}{value:>8}" for name, value in stats["entities_per_class"].items()]
    return "\n".join(lines)
