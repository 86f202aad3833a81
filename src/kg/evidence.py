"""What an answer rests on: the claims behind a set of graph terms, with quote, section, footnote, source,
epistemic status and the weakest source-reliability grade.

Used by `kg query --why` (the claims behind each answer row) and, later, by `kg why`. A row rests on the
claims about the entities it names: whole-node claims on any of them, and single-triple claims whose
subject and object both appear in the row (so 'Khimprom based in Russia' brings the claim for that triple,
not every claim about Khimprom).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.grades import weakest
from kg.query import Engine, Result

CLAIMS_FOR = """
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?claim ?subject ?predicate ?object ?quote ?section ?status ?citation ?citationLabel ?note ?source
       ?sourceLabel ?sourceType ?sourceDate ?url
WHERE {
  ?claim a ckg:Claim ; ckg:subject ?subject ;
         oa:hasSelector/oa:exact ?quote ; ckg:section/rdfs:label ?section ; ckg:epistemicStatus ?status .
  OPTIONAL { ?claim ckg:predicate ?predicate ; ckg:object ?object }
  ?claim prov:wasDerivedFrom ?citation .
  OPTIONAL { ?citation rdfs:label ?citationLabel }
  OPTIONAL { ?citation ckg:noteNumber ?note }
  OPTIONAL {
    ?citation prov:hadPrimarySource ?source .
    OPTIONAL { ?source rdfs:label ?sourceLabel }
    OPTIONAL { ?source ckg:sourceType ?sourceType }
    OPTIONAL { ?source <http://purl.org/dc/terms/date> ?sourceDate }
    OPTIONAL { ?source ckg:url ?url }
  }
}
"""


@dataclass
class Source:
    label: str
    type: str
    date: str = ""
    url: str = ""


@dataclass
class Evidence:
    """One claim: the words, where they stand, what they cite and how firmly they say it."""

    claim: str
    quote: str
    section: str
    status: str
    citations: list[str] = field(default_factory=list)
    footnotes: list[int] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def grade(self) -> str:
        return weakest([s.type for s in self.sources])


def claims_about(engine: Engine, terms: list) -> list[Evidence]:
    """The claims behind a row of terms (see the module docstring for which claims count)."""
    iris = {t.value for t in terms if isinstance(t, ox.NamedNode)}
    literals = {t.value for t in terms if isinstance(t, ox.Literal)}
    if not iris:
        return []
    values = " ".join(f"<{iri}>" for iri in sorted(iris))
    query = CLAIMS_FOR.replace("WHERE {", f"WHERE {{ VALUES ?subject {{ {values} }}", 1)
    found: dict[str, Evidence] = {}
    result = engine.select(query)
    for cells in result.rows:
        row = dict(zip(result.variables, cells, strict=True))
        obj = row["object"]
        named = isinstance(obj, ox.NamedNode) and obj.value in iris
        literal = isinstance(obj, ox.Literal) and obj.value in literals
        if row["predicate"] is not None and not (named or literal):
            continue
        item = found.setdefault(row["claim"].value, Evidence(
            claim=row["claim"].value, quote=row["quote"].value, section=row["section"].value,
            status=row["status"].value.rsplit("#", 1)[-1],
        ))
        citation = (row["citationLabel"] or row["citation"]).value
        if citation not in item.citations:
            item.citations.append(citation)
        if row["note"] is not None and int(row["note"].value) not in item.footnotes:
            item.footnotes.append(int(row["note"].value))
        if row["source"] is not None:
            source = Source(
                label=(row["sourceLabel"] or row["source"]).value,
                type=row["sourceType"].value.rsplit("#", 1)[-1] if row["sourceType"] else "",
                date=row["sourceDate"].value if row["sourceDate"] else "",
                url=row["url"].value if row["url"] else "",
            )
            if source not in item.sources:
                item.sources.append(source)
    return sorted(found.values(), key=lambda e: e.claim)


def with_evidence_columns(engine: Engine, result: Result) -> tuple[Result, list[list[Evidence]]]:
    """`result` with three more columns per row — the claims it rests on, their footnotes and the weakest
    source grade — and the evidence itself, row by row."""
    per_row = [claims_about(engine, row) for row in result.rows]
    rows = []
    for row, items in zip(result.rows, per_row, strict=True):
        claims = " ".join(item.claim for item in items)
        notes = " ".join(str(n) for n in sorted({n for item in items for n in item.footnotes}))
        grade = weakest([s.type for item in items for s in item.sources]) if items else ""
        rows.append([*row, ox.Literal(claims), ox.Literal(notes), ox.Literal(grade)])
    return Result([*result.variables, "why_claims", "why_footnotes", "why_grade"], rows), per_row


def to_text(items: list[Evidence], indent: str = "    ") -> str:
    lines = []
    for item in items:
        notes = ", ".join(f"note {n}" for n in sorted(item.footnotes)) or "no footnote"
        lines.append(f"{indent}“{item.quote}”")
        lines.append(f"{indent}  — {item.section}; {notes}; {item.status}; grade {item.grade}")
        for source in item.sources:
            extra = ", ".join(x for x in (source.date, source.url) if x)
            lines.append(f"{indent}    source: {source.label} [{source.type}]" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)
