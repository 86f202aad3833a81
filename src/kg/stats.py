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


BY_SECTION = """SELECT ?section ?label ?order ?page (COUNT(DISTINCT ?claim) AS ?claims)
  (COUNT(DISTINCT ?subject) AS ?entities) (COUNT(DISTINCT ?citation) AS ?citations)
  (COUNT(DISTINCT ?note) AS ?footnotes) (COUNT(DISTINCT ?hedged) AS ?hedgedClaims)
WHERE {
  ?section a ckg:ReportSection ; rdfs:label ?label ; ckg:sectionOrder ?order .
  OPTIONAL { ?section ckg:startPage ?page }
  OPTIONAL {
    ?claim ckg:section ?section ; ckg:subject ?subject ; prov:wasDerivedFrom ?citation ; ckg:epistemicStatus ?status .
    OPTIONAL { ?citation ckg:noteNumber ?note }
    BIND (IF(?status != ckg:Stated, ?claim, ?none) AS ?hedged)
  }
} GROUP BY ?section ?label ?order ?page ORDER BY ?order"""

UNCITED_NOTES = """SELECT ?number ?comment WHERE {
  ?note a ckg:Footnote ; ckg:noteNumber ?number .
  FILTER NOT EXISTS { ?claim prov:wasDerivedFrom ?note }
  OPTIONAL { ?note rdfs:comment ?comment }
} ORDER BY ?number"""


def by_section(store: ox.Store) -> dict:
    """Per report section: claims, entities they are about, citations, footnotes, hedged claims; and the
    footnotes no claim cites (with the reason recorded on the note, if any)."""
    sections = []
    for row in store.query(PREFIXES + BY_SECTION):
        sections.append({
            "section": compact(row["section"].value),
            "title": row["label"].value,
            "start_page": int(row["page"].value) if row["page"] else None,
            **{key: int(row[key].value) for key in ("claims", "entities", "citations", "footnotes", "hedgedClaims")},
        })
    uncited = [
        {"note": int(row["number"].value), "reason": row["comment"].value if row["comment"] else ""}
        for row in store.query(PREFIXES + UNCITED_NOTES)
    ]
    return {"sections": sections, "uncited_footnotes": uncited}


def by_section_table(data: dict) -> str:
    head = f"{'section':<52}{'claims':>7}{'entities':>9}{'citations':>10}{'notes':>6}{'hedged':>7}"
    lines = [head, "-" * len(head)]
    for s in data["sections"]:
        lines.append(f"{s['title'][:51]:<52}{s['claims']:>7}{s['entities']:>9}{s['citations']:>10}"
                     f"{s['footnotes']:>6}{s['hedgedClaims']:>7}")
    notes = ", ".join(str(n["note"]) for n in data["uncited_footnotes"]) or "none"
    lines.append(f"\nfootnotes cited by no claim: {notes}")
    return "\n".join(lines)


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
