"""What an answer rests on: the claims behind a set of graph terms, with quote, section, footnote, source,
epistemic status, the weakest source-reliability grade and the weakest information-credibility grade.

Two questions are answered here. *Which claims are behind an entity* (`claims_behind`, used by `kg why` and
by `kg.why`): the stored question `evidence-for-entity` is the one definition — every claim that backs a fact
in which the entity takes part, in any role — and it is read from the bundled graph, like the library's own
queries, so that a graph folder given with `--data` cannot change what `kg why` means. *Which claims are
behind an answer row* (`kg query --why`): a row that lists its claims (a `claims` column of claim CURIEs, as
the stored questions give one) rests on exactly those, so that `--why` shows what `n_claims` counts; any
other row rests on the claims about the terms it names: whole-node claims on any of them, and single-triple
claims whose subject and object both appear in the row (so 'Khimprom based in Russia' brings the claim for
that triple, not every claim about Khimprom).
Grades follow the rules in `kg.grades`.

For programs and spreadsheets (`evidence_rows`, `with_evidence_columns`) each claim is one row, with one
style per column: `why_claim` holds the claim's CURIE, `why_claim_iri` its full IRI (docs/design.md,
decision 11).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.catalog import library
from kg.grades import Credibility, credibility_by_claim, source_reliability, weakest_grade
from kg.output import lexical as _value
from kg.query import Engine, Result, Row, Term, bound, records

if TYPE_CHECKING:
    from kg.catalog import StoredQuery

DEFINITION = "evidence-for-entity"  # the stored question that says which claims are behind an entity
LISTED = "claims"  # the column in which a stored question lists the claims behind a row (CURIEs)


@dataclass
class Source:
    """An underlying source, with its reliability grade (A–F, by the rules in `kg.grades`)."""

    label: str
    type: str
    date: str = ""
    url: str = ""
    iri: str = ""
    type_label: str = ""
    anonymous: bool = False
    relays: list[str] = field(default_factory=list)

    @property
    def grade(self) -> str:
        return source_reliability(self.type, dated=bool(self.date), locatable=bool(self.url))


@dataclass
class Citation:
    """A footnote, in-text attribution or 'no reference', and the sources it resolves to."""

    iri: str
    label: str
    kind: str = ""
    note: int | None = None
    ibid_of: str = ""
    sources: list[Source] = field(default_factory=list)


@dataclass
class Conflict:
    """Another claim that disagrees with this one, and what differs."""

    claim: str
    quote: str
    section: str
    note: str


@dataclass
class Evidence:
    """One claim: the words, where they stand, what they cite and how firmly they say it."""

    claim: str
    quote: str
    section: str
    status: str
    subject: str = ""  # the node the claim is about: the fact it backs is that node, or one triple of it
    citations: list[str] = field(default_factory=list)
    footnotes: list[int] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cited: list[Citation] = field(default_factory=list)
    about: str = ""
    status_label: str = ""
    prefix: str = ""
    suffix: str = ""
    cues: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    credibility: Credibility | None = None

    @property
    def grade(self) -> str:
        return weakest_grade([s.grade for s in self.sources])


def _local(term: Term | None) -> str:
    return "" if term is None else term.value.rsplit("#", 1)[-1]


def _nodes(iris: set[str]) -> list[Term]:
    """IRIs as terms for a binding (pyoxigraph rejects anything that is not an IRI), in a fixed order."""
    return [ox.NamedNode(iri) for iri in sorted(iris)]


def _collect(engine: Engine, variable: str, iris: set[str]) -> dict[str, tuple[Row, Evidence]]:
    """Evidence for the claims whose `variable` (?subject or ?claim) is one of `iris`, with each claim's
    first row (for the predicate and object)."""
    if not iris:
        return {}
    found: dict[str, tuple[Row, Evidence]] = {}
    result = engine.select(library("evidence-claims").sparql, {variable: _nodes(iris)})
    for row in records(result):
        claim = bound(row, "claim").value
        if claim not in found:
            about = _value(row["subjectLabel"]) or _value(row["subject"])
            if row["predicate"] is not None:
                about += f" — {_value(row['predicateLabel']) or _value(row['predicate'])}"
                about += f" — {_value(row['objectLabel']) or _value(row['object'])}"
            found[claim] = (row, Evidence(
                claim=claim, quote=_value(row["quote"]), section=_value(row["section"]),
                status=_local(row["status"]), subject=_value(row["subject"]), about=about,
                status_label=_value(row["statusLabel"]), prefix=_value(row["prefix"]), suffix=_value(row["suffix"]),
            ))
        item = found[claim][1]
        if row["citation"] is None:
            continue
        label = _value(row["citationLabel"]) or row["citation"].value
        if label not in item.citations:
            item.citations.append(label)
        citation = next((c for c in item.cited if c.iri == row["citation"].value), None)
        if citation is None:
            note = int(row["note"].value) if row["note"] is not None else None
            citation = Citation(iri=row["citation"].value, label=label, kind=_local(row["citationClass"]), note=note,
                                ibid_of=_value(row["ibidLabel"]) or _value(row["ibidOf"]))
            item.cited.append(citation)
            if note is not None and note not in item.footnotes:
                item.footnotes.append(note)
        if row["source"] is None:
            continue
        source = next((s for s in citation.sources if s.iri == row["source"].value), None)
        if source is None:
            source = Source(
                label=_value(row["sourceLabel"]) or row["source"].value, type=_local(row["sourceType"]),
                date=_value(row["sourceDate"]), url=_value(row["url"]), iri=row["source"].value,
                type_label=_value(row["sourceTypeLabel"]), anonymous=_value(row["anonymous"]) == "true",
            )
            citation.sources.append(source)
            if source not in item.sources:
                item.sources.append(source)
        relayed = _value(row["relayedLabel"]) or _value(row["relayed"])
        if relayed and relayed not in source.relays:
            source.relays.append(relayed)
    return found


def _add_details(engine: Engine, items: list[Evidence], grades: dict[str, Credibility] | None = None) -> None:
    """Hedge cues, conflicting claims and credibility for `items` (two more queries)."""
    if not items:
        return
    by_claim = {item.claim: item for item in items}
    result = engine.select(library("evidence-details").sparql, {"claim": _nodes(set(by_claim))})
    for row in records(result):
        item = by_claim[bound(row, "claim").value]
        if row["cue"] is not None and row["cue"].value not in item.cues:
            item.cues.append(row["cue"].value)
        if row["other"] is not None and all(c.claim != row["other"].value for c in item.conflicts):
            item.conflicts.append(Conflict(
                claim=row["other"].value, quote=_value(row["otherQuote"]), section=_value(row["otherSection"]),
                note=_value(row["note"]) or _value(row["otherNote"]),
            ))
    grades = credibility_by_claim(engine) if grades is None else grades
    for item in items:
        item.cues.sort()
        item.conflicts.sort(key=lambda c: c.claim)
        item.cited.sort(key=lambda c: (c.note is None, c.note or 0, c.label))
        for citation in item.cited:
            citation.sources.sort(key=lambda s: (s.label, s.iri))
            for source in citation.sources:
                source.relays.sort()
        item.sources.sort(key=lambda s: (s.label, s.iri))
        item.citations.sort()
        item.footnotes.sort()
        item.credibility = grades.get(item.claim)


def claims_about(engine: Engine, terms: list[Term | None],
                 grades: dict[str, Credibility] | None = None) -> list[Evidence]:
    """The claims behind a row of terms (see the module docstring for which claims count)."""
    iris = {t.value for t in terms if isinstance(t, ox.NamedNode)}
    literals = {t.value for t in terms if isinstance(t, ox.Literal)}
    kept = []
    for row, item in _collect(engine, "subject", iris).values():
        obj = row["object"]
        named = isinstance(obj, ox.NamedNode) and obj.value in iris
        literal = isinstance(obj, ox.Literal) and obj.value in literals
        if row["predicate"] is None or named or literal:
            kept.append(item)
    kept.sort(key=lambda e: e.claim)
    _add_details(engine, kept, grades)
    return kept


def claims_by_iri(engine: Engine, claims: set[str], grades: dict[str, Credibility] | None = None) -> list[Evidence]:
    """The evidence of the given claims, in IRI order."""
    items = sorted((item for _, item in _collect(engine, "claim", claims).values()), key=lambda e: e.claim)
    _add_details(engine, items, grades)
    return items


@functools.cache
def definition() -> StoredQuery:
    """The stored question that defines the claims behind an entity (`DEFINITION`), from the bundled graph."""
    from kg.catalog import find
    from kg.layout import bundled_root

    return find(bundled_root() / "queries", DEFINITION)


@dataclass
class Behind:
    """A claim behind an entity: the node it is about (`fact`) and how the entity takes part in it (`roles`,
    the definition's `role` texts: 'involves substance', 'object of leads', 'the entity as a whole')."""

    claim: str
    fact: str
    roles: list[str] = field(default_factory=list)


def claims_behind(engine: Engine, entities: list[str]) -> dict[str, dict[str, Behind]]:
    """For each IRI of `entities`, the claims behind it by claim IRI (empty for one no claim is behind): the
    rows of the stored question `evidence-for-entity`, asked once for all of them."""
    behind: dict[str, dict[str, Behind]] = {entity: {} for entity in entities}
    if not entities:
        return behind
    result = engine.select(definition().sparql, {"entity": _nodes(set(entities))})
    for row in records(result):
        claims = behind.setdefault(bound(row, "entity").value, {})
        claim = bound(row, "claim").value
        item = claims.setdefault(claim, Behind(claim, bound(row, "fact").value))
        role = _value(row["role"])
        if role and role not in item.roles:
            item.roles.append(role)
    for claims in behind.values():
        for item in claims.values():
            item.roles.sort()
    return behind


# The evidence columns, one row per claim (docs/design.md, decision 11: `_iri` columns hold full IRIs, the
# others CURIEs or text).
WHY_COLUMNS = ["why_row", "why_claim", "why_claim_iri", "why_quote", "why_section", "why_footnotes",
               "why_citations", "why_sources", "why_source_urls", "why_grade", "why_credibility", "why_status",
               "why_hedge"]


def _evidence_cells(number: int, item: Evidence | None) -> list[Term | None]:
    """The `WHY_COLUMNS` of one claim behind answer row `number` (only the number when the row rests on none)."""
    from kg.graph import compact

    def text(value: str) -> Term | None:
        return ox.Literal(value) if value else None

    if item is None:
        return [ox.Literal(number), *([None] * (len(WHY_COLUMNS) - 1))]
    sources = sorted({s.label for s in item.sources})
    urls = sorted({s.url for s in item.sources if s.url})
    return [ox.Literal(number), text(compact(item.claim)), ox.NamedNode(item.claim), text(item.quote),
            text(item.section), text(" ".join(str(n) for n in item.footnotes)), text("; ".join(item.citations)),
            text("; ".join(sources)), text(" ".join(urls)), text(item.grade),
            text(item.credibility.grade if item.credibility else ""), text(item.status_label or item.status),
            text("; ".join(item.cues))]


def listed_claims(result: Result, row: list[Term | None]) -> set[str] | None:
    """The claims `row` lists in its `LISTED` column (claim CURIEs or IRIs, space-separated), or None when
    the result has no such column or it holds anything else."""
    from kg.params import ABSOLUTE_IRI, expand

    if LISTED not in result.variables:
        return None
    cell = row[result.variables.index(LISTED)]
    if cell is None:
        return set()
    if not isinstance(cell, ox.Literal):
        return None
    claims = {expand(token) for token in cell.value.split()}
    return claims if all(ABSOLUTE_IRI.match(claim) for claim in claims) else None


def behind_row(engine: Engine, result: Result, row: list[Term | None],
               grades: dict[str, Credibility] | None = None) -> list[Evidence]:
    """The claims answer row `row` of `result` rests on (see the module docstring), in IRI order."""
    listed = listed_claims(result, row)
    return claims_about(engine, row, grades) if listed is None else claims_by_iri(engine, listed, grades)


def _per_claim(engine: Engine, result: Result) -> tuple[list[tuple[int, list[Term | None]]], list[list[Evidence]]]:
    """The evidence of each answer row, and its `WHY_COLUMNS` rows paired with the answer row's index."""
    grades = credibility_by_claim(engine)
    per_row = [behind_row(engine, result, row, grades) for row in result.rows]
    cells = []
    for index, items in enumerate(per_row):
        claims: list[Evidence | None] = [*items] or [None]  # a row that rests on no claim keeps one row
        cells += [(index, _evidence_cells(index + 1, item)) for item in claims]
    return cells, per_row


def evidence_rows(engine: Engine, result: Result) -> tuple[Result, list[list[Evidence]]]:
    """The evidence of `result` as rows of their own (`WHY_COLUMNS`): one per claim behind each answer row,
    `why_row` being the answer row's number (from 1), and the evidence itself, row by row."""
    cells, per_row = _per_claim(engine, result)
    return Result(list(WHY_COLUMNS), [row for _, row in cells]), per_row


def with_evidence_columns(engine: Engine, result: Result) -> tuple[Result, list[list[Evidence]]]:
    """`result` with the evidence as columns, for CSV, TSV and JSON: each answer row once per claim it rests
    on (once, with empty evidence columns, when it rests on none), followed by the `WHY_COLUMNS`; and the
    evidence itself, row by row."""
    cells, per_row = _per_claim(engine, result)
    rows = [[*result.rows[index], *row] for index, row in cells]
    return Result([*result.variables, *WHY_COLUMNS], rows), per_row


def to_text(items: list[Evidence], indent: str = "    ", width: int | None = None) -> str:
    """The claims under a row of a table, for people: each quote, then where it stands, what it cites and
    how firmly, then its sources, wrapped to `width` (the terminal's) at spaces, never inside a word."""
    from kg.output import wrap

    lines: list[str] = []
    for item in items:
        notes = ", ".join(f"note {n}" for n in sorted(item.footnotes)) or "no footnote"
        credibility = f"; credibility {item.credibility.grade}" if item.credibility else ""
        lines += wrap(f"“{item.quote}”", width, indent + " ", indent)
        lines += wrap(f"— {item.section}; {notes}; {item.status}; grade {item.grade}{credibility}", width,
                      indent + "    ", indent + "  ")
        for source in item.sources:
            extra = ", ".join(x for x in (source.date, source.url) if x)
            lines += wrap(f"source: {source.label} [{source.type}]" + (f" ({extra})" if extra else ""), width,
                          indent + "      ", indent + "    ")
    return "\n".join(lines)


# --- Names ------------------------------------------------------------------------------------------------

def resolve_term(engine: Engine, text: str) -> str:
    """The IRI `text` names: an IRI or CURIE in the graph, or a name (`kg.search_names.resolve`: exact, by
    words, by prefix or by nearest spelling). Unknown or ambiguous terms are a KgError (exit 2)."""
    from kg.search_names import resolve

    return resolve(engine, text).iri
