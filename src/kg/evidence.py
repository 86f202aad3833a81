"""What an answer rests on: the claims behind a set of graph terms, with quote, section, footnote, source,
epistemic status, the weakest source-reliability grade and the weakest information-credibility grade.

Used by `kg query --why` (the claims behind each answer row) and by `kg why TERM` (the evidence tree of one
entity, fact, claim, citation or source). A row rests on the claims about the entities it names:
whole-node claims on any of them, and single-triple claims whose subject and object both appear in the row
(so 'Khimprom based in Russia' brings the claim for that triple, not every claim about Khimprom).
Grades follow the rules in `kg.grades`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.catalog import library
from kg.errors import KgError
from kg.grades import Credibility, credibility_by_claim, source_reliability, weakest_credibility, weakest_grade
from kg.graph import CKG
from kg.output import lexical as _value
from kg.query import Engine, Result, Row, Term, bound, records


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
                status=_local(row["status"]), about=about, status_label=_value(row["statusLabel"]),
                prefix=_value(row["prefix"]), suffix=_value(row["suffix"]),
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


def with_evidence_columns(engine: Engine, result: Result) -> tuple[Result, list[list[Evidence]]]:
    """`result` with four more columns per row — the claims it rests on, their footnotes, the weakest
    source grade and the weakest credibility — and the evidence itself, row by row."""
    grades = credibility_by_claim(engine)
    per_row = [claims_about(engine, row, grades) for row in result.rows]
    rows = []
    for row, items in zip(result.rows, per_row, strict=True):
        claims = " ".join(item.claim for item in items)
        notes = " ".join(str(n) for n in sorted({n for item in items for n in item.footnotes}))
        grade = weakest_grade([s.grade for item in items for s in item.sources]) if items else ""
        credibility = weakest_credibility([i.credibility.grade for i in items if i.credibility]) if items else ""
        rows.append([*row, ox.Literal(claims), ox.Literal(notes), ox.Literal(grade), ox.Literal(credibility)])
    variables = [*result.variables, "why_claims", "why_footnotes", "why_grade", "why_credibility"]
    return Result(variables, rows), per_row


def to_text(items: list[Evidence], indent: str = "    ") -> str:
    lines = []
    for item in items:
        notes = ", ".join(f"note {n}" for n in sorted(item.footnotes)) or "no footnote"
        credibility = f"; credibility {item.credibility.grade}" if item.credibility else ""
        lines.append(f"{indent}“{item.quote}”")
        lines.append(f"{indent}  — {item.section}; {notes}; {item.status}; grade {item.grade}{credibility}")
        for source in item.sources:
            extra = ", ".join(x for x in (source.date, source.url) if x)
            lines.append(f"{indent}    source: {source.label} [{source.type}]" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


# --- kg why TERM ------------------------------------------------------------------------------------------

@dataclass
class Explanation:
    """The evidence tree of one thing: what it is and the claims it rests on (or that rest on it)."""

    iri: str
    label: str
    kind: str
    types: list[str]
    claims: list[Evidence]
    object_of: int = 0

    @property
    def grade(self) -> str:
        return weakest_grade([s.grade for item in self.claims for s in item.sources])

    @property
    def credibility(self) -> str:
        return weakest_credibility([i.credibility.grade for i in self.claims if i.credibility])


def resolve_term(engine: Engine, text: str) -> str:
    """The IRI `text` names: a full IRI (optionally in <>), a CURIE with a known prefix, or an exact
    rdfs:label (case-insensitive). Unknown or ambiguous terms are a KgError (exit 2)."""
    from kg.graph import compact
    from kg.params import ABSOLUTE_IRI, expand

    raw = text.strip()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise KgError("the term is not valid UTF-8 text") from None
    value = expand(raw)
    if ABSOLUTE_IRI.match(value):
        try:
            node = ox.NamedNode(value)
        except ValueError:
            raise KgError(f"no entity, fact or claim matches {text!r}") from None
        if engine.select(library("term-exists").sparql, {"node": node}, limit=1).rows:
            return value
        raise KgError(f"no entity, fact or claim matches {text!r}")
    matches = engine.select(library("label-lookup").sparql, {"wanted": ox.Literal(raw)}).rows
    things = sorted({term.value for row in matches for term in row[:1] if term is not None})
    if not things:
        raise KgError(f"no entity, fact or claim matches {text!r}")
    if len(things) > 1:
        listed = ", ".join(compact(t) for t in things[:10]) + (" …" if len(things) > 10 else "")
        raise KgError(f"{text!r} is the label of {len(things)} things: {listed}; give one of them")
    return things[0]


def explain(engine: Engine, text: str) -> Explanation:
    """The evidence tree of the entity, fact, claim, citation or source that `text` names."""
    from kg.graph import compact

    iri = resolve_term(engine, text)
    result = engine.select(library("term-description").sparql, {"thing": ox.NamedNode(iri)})
    label, types = "", set()
    subject_of: set[str] = set()
    citing: set[str] = set()
    resting: set[str] = set()
    object_of: set[str] = set()
    for row in records(result):
        label = label or _value(row["label"])
        for key, bucket in (("subjectOf", subject_of), ("citing", citing), ("resting", resting),
                            ("objectOf", object_of)):
            if row[key] is not None:
                bucket.add(_value(row[key]))
        if row["type"] is not None:
            types.add(compact(_value(row["type"])))
    if f"{CKG}Claim" in {t.replace("ckg:", CKG) for t in types}:
        kind, claims = "claim", {iri}
    elif subject_of:
        kind, claims = "entity or fact", subject_of
    elif citing:
        kind, claims = "citation", citing
    elif resting:
        kind, claims = "source", resting
    else:
        raise KgError(f"{compact(iri)} is not an entity, fact or claim that any claim backs "
                      "(`kg why` explains entities, facts, claims, citations and sources)")
    items = claims_by_iri(engine, claims)
    return Explanation(iri=iri, label=label, kind=kind, types=sorted(types), claims=items,
                       object_of=len(object_of))


def explanation_to_dict(explanation: Explanation) -> dict[str, object]:
    def source(s: Source) -> dict[str, object]:
        return {"source": s.iri, "label": s.label, "type": s.type, "type_label": s.type_label, "date": s.date,
                "url": s.url, "anonymous": s.anonymous, "grade": s.grade, "relays": s.relays}

    def claim(item: Evidence) -> dict[str, object]:
        cred = item.credibility
        return {
            "claim": item.claim, "about": item.about, "quote": item.quote, "prefix": item.prefix,
            "suffix": item.suffix, "section": item.section, "status": item.status_label or item.status,
            "hedge_cues": item.cues,
            "grade": item.grade,
            "credibility": None if cred is None else {"grade": cred.grade, "label": cred.label,
                                                      "independent_sources": cred.independent,
                                                      "reason": cred.reason},
            "citations": [{"citation": c.iri, "label": c.label, "kind": c.kind, "note": c.note,
                           "ibid_of": c.ibid_of, "sources": [source(s) for s in c.sources]} for c in item.cited],
            "conflicts": [{"claim": c.claim, "quote": c.quote, "section": c.section, "what_differs": c.note}
                          for c in item.conflicts],
        }

    return {
        "term": explanation.iri, "label": explanation.label, "kind": explanation.kind, "types": explanation.types,
        "grade": explanation.grade if explanation.claims else "",
        "credibility": explanation.credibility if explanation.claims else "",
        "object_of_claims": explanation.object_of,
        "claims": [claim(item) for item in explanation.claims],
    }


def explanation_to_text(explanation: Explanation) -> str:
    """The evidence tree for people: the thing, then each claim with its quote, citations, sources and
    conflicts, indented."""
    from kg.graph import compact

    count = len(explanation.claims)
    lines = [f"{compact(explanation.iri)}" + (f" — {explanation.label}" if explanation.label else "")]
    if explanation.types:
        lines.append(f"  {explanation.kind}; {', '.join(explanation.types)}")
    verb = "rests on" if explanation.kind in ("claim", "entity or fact") else "is cited by"
    lines.append(f"  {verb} {count} claim{'s' if count != 1 else ''}; weakest source grade {explanation.grade}; "
                 f"weakest credibility {explanation.credibility}")
    if explanation.object_of:
        lines.append(f"  (also the object of {explanation.object_of} claims about other things: "
                     f"kg query evidence-for-entity -p entity={compact(explanation.iri)})")
    for item in explanation.claims:
        lines.append("")
        lines.append(f"{compact(item.claim)} — {item.about}")
        lines.append(f"  “{item.quote}”" if item.quote else "  (no quote)")
        status = (item.status_label or item.status) + (f" ({'; '.join(item.cues)})" if item.cues else "")
        cred = item.credibility
        lines.append(f"  section: {item.section or '(none)'} · status: {status or '(none)'} · credibility "
                     + (f"{cred.label} — {cred.reason}" if cred else "(none)"))
        if not item.cited:
            lines.append("  cites nothing")
        for citation in item.cited:
            ibid = f", 'Ibid.' of {citation.ibid_of}" if citation.ibid_of else ""
            lines.append(f"  cites {citation.label}{ibid}")
            for s in citation.sources:
                kind = s.type_label or s.type
                details = ", ".join(x for x in (kind, s.date, "anonymous" if s.anonymous else "") if x)
                lines.append(f"    source: {s.label} — {details}; grade {s.grade}")
                if s.url:
                    lines.append(f"            {s.url}")
                for relayed in s.relays:
                    lines.append(f"            relays: {relayed}")
        for conflict in item.conflicts:
            lines.append(f"  conflicts with {compact(conflict.claim)}"
                         + (f" ({conflict.section})" if conflict.section else "") + ":")
            lines.append(f"    “{conflict.quote}”")
            if conflict.note:
                lines.append(f"    what differs: {conflict.note}")
    return "\n".join(lines) + "\n"
