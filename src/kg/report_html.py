"""The audit report as one self-contained HTML page: an editor's checklist that opens offline.

No scripts, fonts or images are fetched: the style sheet is inline and every finding is in the page. The
page opens with the verdict and a checklist (one row per check, with a box to tick once reviewed), then
each check with its description and its findings: quotes set off as quotations, sources and citations as
lists, identifiers as compact names (the full IRI on hover), addresses as links. Long lists of findings
are folded (`<details>`) so that the page stays readable.

The markup is the template kg/templates/audit.html.j2 (rendered by `kg.prose.render_html`, which escapes
every value); this module only turns the report into plain values for it: what each cell shows (`Cell`), the
findings of each check as a table or as cards (`Section`), and the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, cast

import pyoxigraph as ox

from kg.audit import AuditReport, CheckResult, is_url, summary_lines
from kg.graph import compact
from kg.prose import render_html
from kg.query import Term

FOLD_AFTER = 20


class Iri(NamedTuple):
    value: str  # the full IRI, shown on hover
    name: str   # its compact name, shown


@dataclass(frozen=True)
class Cell:
    """What one value of a finding shows: nothing, a number (a table's right-aligned column), identifiers
    (one or several, as compact names), quotes, an address as a link, a list (the parts of `a | b`), or words."""

    kind: Literal["empty", "number", "iris", "quotes", "link", "list", "text"]
    text: str = ""
    items: tuple[str, ...] = ()
    iris: tuple[Iri, ...] = ()


@dataclass(frozen=True)
class Field:
    label: str
    cell: Cell


@dataclass(frozen=True)
class Card:
    """One finding as a card: its quote first when it has exactly one, then the other values as a list."""

    quote: Cell | None
    fields: list[Field]


@dataclass(frozen=True)
class Section:
    """One check and its findings: a table (`columns`, `rows`) or cards, folded when there are many."""

    name: str
    title: str
    severity: str | None  # a check's is always set (kg.catalog's StoredQuery is also a plain question's)
    tags: str
    description: str
    count: int
    layout: Literal["clean", "table", "cards"]
    folded: bool
    columns: list[str]      # a table's
    rows: list[list[Cell]]
    cards: list[Card]


@dataclass(frozen=True)
class SeverityCount:
    severity: str
    findings: int
    checks_with_findings: int
    checks: int


def _iri(value: str) -> Iri:
    return Iri(value, compact(value))


def _cell(variable: str, term: Term | None) -> Cell:
    """One value: a quote, an identifier, an address, a list, or plain words."""
    if term is None or term.value == "":
        return Cell("empty")
    value = term.value
    if isinstance(term, ox.NamedNode):
        return Cell("iris", iris=(_iri(value),))
    if variable.startswith("quote"):
        return Cell("quotes", items=tuple(p for p in value.split(" | ") if p))
    tokens = value.split()
    if tokens and all(t.startswith(("http://", "https://")) for t in tokens) and len(tokens) > 1:
        return Cell("iris", iris=tuple(_iri(t) for t in tokens))
    if value.startswith("https://w3id.org/crossroads-kg/") and len(tokens) == 1:
        return Cell("iris", iris=(_iri(value),))
    if is_url(value):
        return Cell("link", text=value)
    if " | " in value:
        return Cell("list", items=tuple(value.split(" | ")))
    return Cell("text", text=value)


def _label(variable: str) -> str:
    return variable.replace("_", " ")


def _rows(result: CheckResult) -> list[list[Cell]]:
    variables = result.findings.variables
    return [[Cell("number", text=term.value)
             if isinstance(term, ox.Literal) and term.datatype.value.endswith(("#integer", "#decimal"))
             else _cell(variable, term)
             for variable, term in zip(variables, row, strict=True)]
            for row in result.findings.rows]


def _cards(result: CheckResult) -> list[Card]:
    """One card per finding. A single quote leads the card; several quotes (two claims side by side) stay in
    the query's column order, so that each quote sits next to its own citation."""
    variables = result.findings.variables
    cards = []
    for row in result.findings.rows:
        cells = [(v, t) for v, t in zip(variables, row, strict=True) if t is not None and t.value]
        quoted = [(v, t) for v, t in cells if v.startswith("quote")]
        if len(quoted) == 1:
            cards.append(Card(_cell(*quoted[0]), [Field(_label(v), _cell(v, t))
                                                  for v, t in cells if not v.startswith("quote")]))
        else:
            cards.append(Card(None, [Field(_label(v), _cell(v, t)) for v, t in cells]))
    return cards


def _section(result: CheckResult) -> Section:
    check = result.check
    variables = result.findings.variables
    layout: Literal["clean", "table", "cards"] = (
        "clean" if not result.count else
        "cards" if any(v.startswith("quote") for v in variables) or len(variables) > 5 else "table")
    return Section(check.name, check.title, check.severity, ", ".join(check.tags), check.description,
                   result.count, layout, folded=result.count > FOLD_AFTER,
                   columns=[_label(v) for v in variables] if layout == "table" else [],
                   rows=_rows(result) if layout == "table" else [],
                   cards=_cards(result) if layout == "cards" else [])


def to_html(report: AuditReport) -> str:
    summary = report.summary()
    # `AuditReport.summary()` is declared `dict[str, object]` (it is also the JSON output); its `by_severity`
    # is built there as {severity: {"checks", "checks_with_findings", "findings": int}}.
    by_severity = cast("dict[str, dict[str, int]]", summary["by_severity"])
    return render_html(
        "audit.html.j2",
        findings=summary["findings"],
        lines=summary_lines(report),
        by_severity=[SeverityCount(severity, data["findings"], data["checks_with_findings"], data["checks"])
                     for severity, data in by_severity.items()],
        passed=report.passed,
        fail_on=report.fail_on,
        failing=", ".join(r.check.name for r in report.failing()),  # the summary's `failing_checks`, typed
        sections=[_section(r) for r in report.results],
    )
