"""Admiralty-style grades: source reliability (A–F) per source and information credibility (1–6) per claim.

Both are computed by the documented rules below, never typed by hand, so that anyone can recompute them
and a change of rule changes every grade at once. `docs/audit.md` explains them for readers.

**Source reliability (A–F)** grades what kind of source it is and what the report records about it, since
the report gives no track record per source. First the type:

| source type | grade | why |
| --- | --- | --- |
| OfficialDocument, LegalAct | B | authentic and accountable, but an interested party |
| AcademicPaper, ResearchReport | B | methodical and reviewed, usually second-hand |
| InterviewWithOfficial | C | first-hand but anonymous and unverifiable |
| MediaArticle | C | edited, often relaying official or anonymous sources |
| FieldExperience | C | first-hand, the authors' own, not independently checkable |
| PersonalCommunication | D | informal, anonymous, often years old |
| SocialMediaPost | D | an individual's post, unedited |
| ThisReport | F | no reference: nothing to judge the statement by but the report itself |
| (unknown or missing type) | F | cannot be judged |

Then the record: a published source (official document, legal act, academic paper, research report, media
article, social media post) for which the report gives neither a date nor an address cannot be found or
dated by a reader, and is graded one step weaker, but never below D by this rule. A (a history of complete
reliability) and E (a history of invalid information) need a track record the report does not give, so
these rules never assign them.

**Information credibility (1–6)** grades a claim by independent corroboration of the fact it backs. The
fact is the claim's subject as a whole (a whole-node claim) or the one triple subject–predicate–object (a
single-triple claim); every claim backing the same fact contributes its sources. Citations are followed
through 'Ibid.' (`ckg:ibidOf`) to the underlying sources, and a source that relays another
(`prov:wasQuotedFrom`, `prov:wasDerivedFrom`: a newspaper quoting a press release) counts as the source it
relays. Sources are independent when they are different upstream sources after this resolution: two
citations that resolve to the same source, or to the same note through 'Ibid.', count once. The report's
own authority (`ckg:ThisReport`: no reference, explanatory notes without a source) is not an independent
source. With N independent upstream sources, rules applied in order:

| grade | rule |
| --- | --- |
| 6 truth cannot be judged | N = 0: the fact rests on the report's own authority only |
| 5 improbable | the claim is in conflict with another claim (`ckg:conflictsWith`): contradicted by other information |
| 1 confirmed | N ≥ 2, at least two of them graded A–C and at least one A–B |
| 2 probably true | N ≥ 2 otherwise |
| 3 possibly true | N = 1, graded A–C |
| 4 doubtful | N = 1, graded D–F |

A claim in conflict is therefore never better than 5. An answer resting on several claims or sources is as
strong as its weakest: the highest letter and the highest number (`weakest`, `weakest_credibility`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.graph import CKG

if TYPE_CHECKING:
    from kg.query import Engine, Term

RELIABILITY: dict[str, str] = {
    "OfficialDocument": "B",
    "LegalAct": "B",
    "AcademicPaper": "B",
    "ResearchReport": "B",
    "InterviewWithOfficial": "C",
    "MediaArticle": "C",
    "FieldExperience": "C",
    "PersonalCommunication": "D",
    "SocialMediaPost": "D",
    "ThisReport": "F",
}
PUBLISHED = {"OfficialDocument", "LegalAct", "AcademicPaper", "ResearchReport", "MediaArticle", "SocialMediaPost"}
RECORD_FLOOR = "D"

CREDIBILITY_LABELS: dict[str, str] = {
    "1": "confirmed",
    "2": "probably true",
    "3": "possibly true",
    "4": "doubtful",
    "5": "improbable",
    "6": "truth cannot be judged",
}



def reliability(source_type: str) -> str:
    """The grade of a source type (local name, e.g. 'MediaArticle'); unknown types cannot be judged (F)."""
    return RELIABILITY.get(source_type, "F")


def source_reliability(source_type: str, dated: bool = True, locatable: bool = True) -> str:
    """The grade of one source from its type and its record: a published source with neither a date
    (`dated`) nor an address (`locatable`) is one step weaker, never below D by that rule."""
    grade = reliability(source_type)
    if source_type in PUBLISHED and not dated and not locatable and grade < RECORD_FLOOR:
        grade = chr(ord(grade) + 1)
    return grade


def weakest(source_types: list[str]) -> str:
    """The weakest grade among the sources (F when there are none): A is strongest, F weakest."""
    grades = [reliability(t) for t in source_types] or ["F"]
    return max(grades)


def weakest_grade(grades: list[str]) -> str:
    """The weakest of some reliability grades (F when there are none)."""
    return max(grades) if grades else "F"


@dataclass(frozen=True)
class Credibility:
    """A claim's information credibility: the grade, how many independent upstream sources back its fact,
    and the rule that decided it, in words."""

    grade: str
    independent: int
    reason: str

    @property
    def label(self) -> str:
        return f"{self.grade}: {CREDIBILITY_LABELS[self.grade]}"


def credibility(source_grades: list[str], in_conflict: bool = False) -> Credibility:
    """The credibility of a claim whose fact rests on independent upstream sources graded `source_grades`
    (one grade per independent source; see the module docstring for the rules)."""
    n = len(source_grades)
    usable = sum(1 for g in source_grades if g <= "C")
    strong = sum(1 for g in source_grades if g <= "B")
    if n == 0:
        return Credibility("6", 0, "no independent source: the report's own authority only")
    if in_conflict:
        return Credibility("5", n, "contradicted by another claim of the report")
    if n >= 2 and usable >= 2 and strong >= 1:
        return Credibility("1", n, f"confirmed by {n} independent sources")
    if n >= 2:
        return Credibility("2", n, f"{n} independent sources, fewer than two graded A–C or none A–B")
    if usable:
        return Credibility("3", 1, f"one independent source, graded {source_grades[0]}")
    return Credibility("4", 1, f"one independent source, graded {source_grades[0]}")


def weakest_credibility(grades: list[str]) -> str:
    """The weakest of some credibility grades ('6' when there are none): 1 is strongest, 6 weakest."""
    return max(grades) if grades else "6"


def credibility_by_claim(engine: Engine) -> dict[str, Credibility]:
    """Every claim's credibility, computed with one SPARQL query (`credibility-inputs.rq`) on `engine`."""
    from kg.catalog import library
    from kg.query import bound, records

    result = engine.select(library("credibility-inputs").sparql)
    roots: dict[str, dict[str, str]] = {}
    conflicts: dict[str, bool] = {}
    for row in records(result):
        claim = bound(row, "claim").value
        conflicts[claim] = _true(row["conflict"])
        sources = roots.setdefault(claim, {})
        root, kind_term = row["root"], row["type"]
        if root is not None:
            kind = kind_term.value.removeprefix(CKG) if kind_term is not None else ""
            sources[root.value] = source_reliability(kind, _true(row["dated"]), _true(row["locatable"]))
    return {claim: credibility(sorted(grades.values()), conflicts[claim]) for claim, grades in roots.items()}


def _true(term: Term | None) -> bool:
    return term is not None and term.value == "true"
