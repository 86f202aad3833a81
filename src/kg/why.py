"""`kg why TERM`: the evidence tree of one entity, fact, claim, citation or source.

For an entity or a fact the claims are the ones behind it by the one definition, the stored question
`evidence-for-entity` (`kg.evidence.claims_behind`): every claim that backs a fact in which it takes part, in
any role. They are grouped by the fact each claim backs (its subject, or the one triple it backs), with how
the term takes part in it. A claim explains itself; a citation is explained by the claims that cite it, a
source by the claims that rest on it. Every answer comes from the same few queries whether one term is
explained or hundreds (`explain_many`, which the tests run over every entity of the graph).

The text fits the terminal: lines are wrapped at spaces (`kg.output.wrap`), never inside an IRI, a CURIE or
a word of a quote.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.catalog import library
from kg.errors import KgError
from kg.evidence import Evidence, Source, claims_behind, claims_by_iri, resolve_term
from kg.grades import Credibility, credibility_by_claim, weakest_credibility, weakest_grade
from kg.graph import CKG
from kg.output import lexical as _value
from kg.query import Engine, bound, records

ENTITY = "entity or fact"


@dataclass
class Fact:
    """A fact the term takes part in, and the claims that back it."""

    iri: str  # the node the claims are about
    about: str  # what they back, for people: the node's label, or 'subject — property — object'
    roles: list[str] = field(default_factory=list)  # how the term takes part ('involves substance', …)
    claims: list[Evidence] = field(default_factory=list)


@dataclass
class Explanation:
    """The evidence tree of one thing: what it is, the claims it rests on (or that rest on it), and those
    claims grouped by the fact each backs."""

    iri: str
    label: str
    kind: str
    types: list[str]
    claims: list[Evidence]
    facts: list[Fact] = field(default_factory=list)

    @property
    def grade(self) -> str:
        return weakest_grade([s.grade for item in self.claims for s in item.sources])

    @property
    def credibility(self) -> str:
        return weakest_credibility([i.credibility.grade for i in self.claims if i.credibility])


def explain(engine: Engine, text: str) -> Explanation:
    """The evidence tree of the entity, fact, claim, citation or source that `text` names; a KgError (exit 2)
    when no claim backs it, cites it or rests on it."""
    from kg.graph import compact

    iri = resolve_term(engine, text)
    explanation = explain_many(engine, [iri])[iri]
    if not explanation.claims:
        raise KgError(f"{compact(iri)} is not an entity, fact or claim that any claim backs "
                      "(`kg why` explains entities, facts, claims, citations and sources)")
    return explanation


@dataclass
class Shown:
    """What `kg why` takes a term for (`kind`: "claim", `ENTITY`, "citation" or "source") and the claims it shows
    for it: the claim itself, the claims behind the entity or fact (with how it takes part in each, `roles`), the
    claims citing the citation, or the claims resting on the source (none: nothing `kg why` explains)."""

    kind: str
    claims: set[str]
    label: str = ""
    types: list[str] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=dict)


def claims_shown(engine: Engine, iris: list[str]) -> dict[str, Shown]:
    """For each IRI of `iris`, what `kg why` takes it for and which claims it shows (the evidence left out), from
    two queries whatever their number: what each is, and the claims behind each (`claims_behind`). `kg search`
    counts these claims, so that its count is the number of claims `kg why` shows."""
    from kg.graph import compact

    wanted = sorted(set(iris))
    if not wanted:
        return {}
    labels: dict[str, str] = {}
    types: dict[str, set[str]] = {iri: set() for iri in wanted}
    citing: dict[str, set[str]] = {iri: set() for iri in wanted}
    resting: dict[str, set[str]] = {iri: set() for iri in wanted}
    described = engine.select(library("term-description").sparql, {"thing": [ox.NamedNode(i) for i in wanted]})
    for row in records(described):
        thing = bound(row, "thing").value
        if row["label"] is not None:
            labels.setdefault(thing, _value(row["label"]))
        if row["type"] is not None:
            types[thing].add(compact(_value(row["type"])))
        for key, bucket in (("citing", citing), ("resting", resting)):
            if row[key] is not None:
                bucket[thing].add(_value(row[key]))
    behind = claims_behind(engine, wanted)
    out = {}
    for iri in wanted:
        if f"{CKG}Claim" in {t.replace("ckg:", CKG) for t in types[iri]}:
            shown = Shown("claim", {iri})
        elif behind[iri]:
            shown = Shown(ENTITY, set(behind[iri]), roles={claim: b.roles for claim, b in behind[iri].items()})
        elif citing[iri]:
            shown = Shown("citation", citing[iri])
        else:
            shown = Shown("source", resting[iri])
        shown.label, shown.types = labels.get(iri, ""), sorted(types[iri])
        out[iri] = shown
    return out


def explain_many(engine: Engine, iris: list[str],
                 grades: dict[str, Credibility] | None = None) -> dict[str, Explanation]:
    """The evidence tree of each IRI of `iris` (one with no claims when none backs, cites or rests on it), from
    the same five queries whatever their number: what each is and the claims behind each (`claims_shown`), the
    claims' evidence, their hedges and conflicts, and the graph's credibility grades (unless `grades` are given)."""
    shown = claims_shown(engine, iris)
    if not shown:
        return {}
    every = set().union(*(s.claims for s in shown.values()))
    grades = credibility_by_claim(engine) if grades is None else grades
    evidence = {item.claim: item for item in claims_by_iri(engine, every, grades)}
    out = {}
    for iri, s in shown.items():
        items = [evidence[claim] for claim in sorted(s.claims) if claim in evidence]
        out[iri] = Explanation(iri=iri, label=s.label, kind=s.kind, types=s.types, claims=items,
                               facts=_facts(iri, items, s.roles))
    return out


def _facts(term: str, items: list[Evidence], roles: dict[str, list[str]]) -> list[Fact]:
    """`items` grouped by the fact each backs (node and triple), the term's own first, then by what they
    back; `roles` by claim."""
    facts: dict[tuple[str, str], Fact] = {}
    for item in items:
        fact = facts.setdefault((item.subject, item.about), Fact(item.subject, item.about))
        fact.claims.append(item)
        fact.roles = sorted(set(fact.roles) | set(roles.get(item.claim, [])))
    return sorted(facts.values(), key=lambda f: (f.iri != term, f.about.casefold(), f.iri))


# --- Rendering --------------------------------------------------------------------------------------------

def explanation_to_dict(explanation: Explanation) -> dict[str, object]:
    """The evidence tree as JSON: the term, its claims in IRI order (full IRIs) and the facts they back."""
    def source(s: Source) -> dict[str, object]:
        return {"source": s.iri, "label": s.label, "type": s.type, "type_label": s.type_label, "date": s.date,
                "url": s.url, "anonymous": s.anonymous, "grade": s.grade, "relays": s.relays}

    def claim(item: Evidence) -> dict[str, object]:
        cred = item.credibility
        return {
            "claim": item.claim, "fact": item.subject, "about": item.about, "quote": item.quote,
            "prefix": item.prefix, "suffix": item.suffix, "section": item.section,
            "status": item.status_label or item.status, "hedge_cues": item.cues, "grade": item.grade,
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
        "claims": [claim(item) for item in explanation.claims],
        "facts": [{"fact": f.iri, "about": f.about, "roles": f.roles, "claims": [i.claim for i in f.claims]}
                  for f in explanation.facts],
    }


def explanation_to_text(explanation: Explanation, width: int | None = None) -> str:
    """The evidence tree for people, fitted to `width` (the terminal's): the thing, then each fact it takes
    part in with how, and under it each claim with its quote, citations, sources and conflicts."""
    from kg.graph import compact
    from kg.output import wrap

    count, facts = len(explanation.claims), len(explanation.facts)
    name = explanation.label or compact(explanation.iri)
    lines = wrap(compact(explanation.iri) + (f" — {explanation.label}" if explanation.label else ""), width, "  ",
                 "")
    if explanation.types:
        lines += wrap(f"{explanation.kind}; {', '.join(explanation.types)}", width, "    ", "  ")
    verb = "rests on" if explanation.kind in ("claim", ENTITY) else "is cited by"
    lines += wrap(f"{verb} {count} claim{'s' if count != 1 else ''}"
                  + (f" about {facts} fact{'s' if facts != 1 else ''}" if explanation.kind == ENTITY else "")
                  + f"; weakest source grade\u00a0{explanation.grade}"
                  + f"; weakest credibility\u00a0{explanation.credibility}",
                  width, "    ", "  ")
    if count > 1:  # the weakest alone says little: nearly every term has one claim citing nothing (grade F)
        grades = collections.Counter(item.grade for item in explanation.claims)
        lines += wrap("claims by source grade: " + " · ".join(f"{g} {grades[g]}" for g in sorted(grades)),
                      width, "    ", "  ")
    for fact in explanation.facts:
        lines.append("")
        lines += wrap(fact.about or compact(fact.iri), width, "  ", "")
        taking_part = f" · {name}: {'; '.join(fact.roles)}" if fact.roles else ""
        lines += wrap(compact(fact.iri) + taking_part, width, "    ", "  ")
        for item in fact.claims:
            lines += _claim_lines(item, width)
    return "\n".join(lines) + "\n"


def _claim_lines(item: Evidence, width: int | None) -> list[str]:
    """One claim of the tree, indented under its fact."""
    from kg.graph import compact
    from kg.output import terminal_width, wrap

    lines = ["", *wrap(compact(item.claim), width, "      ", "  ")]
    lines += wrap(f"“{item.quote}”", width, "     ", "    ") if item.quote else ["    (no quote)"]
    status = (item.status_label or item.status) + (f" ({'; '.join(item.cues)})" if item.cues else "")
    cred = item.credibility
    lines += wrap(f"section: {item.section or '(none)'} · status: {status or '(none)'} · credibility "
                  + (f"{cred.label} — {cred.reason}" if cred else "(none)"), width, "      ", "    ")
    if not item.cited:
        lines.append("    cites nothing")
    for citation in item.cited:
        ibid = f", 'Ibid.' of {citation.ibid_of}" if citation.ibid_of else ""
        lines += wrap(f"cites {citation.label}{ibid}", width, "      ", "    ")
        for s in citation.sources:
            kind = s.type_label or s.type
            details = ", ".join(x for x in (kind, s.date, "anonymous" if s.anonymous else "") if x)
            lines += wrap(f"source: {s.label} — {details}; grade {s.grade}", width, "          ", "      ")
            if s.url:  # a long URL starts further left, so that it fits if it can (it is never broken)
                room = (terminal_width() if width is None else width) - len(s.url)
                lines += wrap(s.url, width, " " * max(2, min(10, room)))
            for relayed in s.relays:
                lines += wrap(f"relays: {relayed}", width, "            ", "          ")
    for conflict in item.conflicts:
        lines += wrap(f"conflicts with {compact(conflict.claim)}"
                      + (f" ({conflict.section})" if conflict.section else "") + ":", width, "      ", "    ")
        lines += wrap(f"“{conflict.quote}”", width, "       ", "      ")
        if conflict.note:
            lines += wrap(f"what differs: {conflict.note}", width, "        ", "      ")
    return lines
