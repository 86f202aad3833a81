"""Counts that describe the graph: triples, claims, citations, sources, conflicts, and entities per class.

Counted by the library queries `stats-*.rq` on any engine (the embedded graph or an endpoint), so the numbers
are what any query there would see.
"""

from __future__ import annotations

import json
from typing import Any

from kg.catalog import library
from kg.errors import KgError
from kg.graph import compact
from kg.query import Engine, Row, bound, records

Stats = dict[str, Any]


def _count(row: Row, name: str) -> int:
    """A count the query always binds: an answer without it (an endpoint may send one) is an error, never 0."""
    return int(bound(row, name).value)


def by_section(engine: Engine) -> Stats:
    """Per report section: claims, entities they are about, citations, footnotes, hedged claims; and the
    footnotes no claim cites (with the reason recorded on the note, if any)."""
    sections = []
    for row in records(engine.select(library("stats-by-section").sparql)):
        page = row["page"]
        sections.append({
            "section": compact(bound(row, "section").value),
            "title": bound(row, "label").value,
            "start_page": int(page.value) if page is not None else None,
            **{key: _count(row, key) for key in ("claims", "entities", "citations", "footnotes", "hedgedClaims")},
        })
    uncited = [{"note": _count(row, "number"), "reason": row["comment"].value if row["comment"] is not None else ""}
               for row in records(engine.select(library("uncited-footnotes").sparql))]
    return {"sections": sections, "uncited_footnotes": uncited}


# The numeric columns of `by_section_table`: the key in `by_section`'s sections and the heading.
SECTION_COLUMNS = (("claims", "claims"), ("entities", "entities"), ("citations", "citations"),
                   ("footnotes", "notes"), ("hedgedClaims", "hedged"))
MIN_TITLE = 16  # the narrowest the section column gets, however narrow the terminal


def by_section_table(data: Stats, width: int | None = None) -> str:
    """`by_section` as a table fitted to `width` (default: the terminal's): numbers right-aligned on the
    right, the section titles wrapped at words in what is left (never cut)."""
    from kg.output import terminal_width, wrap

    width = terminal_width() if width is None else width
    numbers = sum(len(head) + 1 for _, head in SECTION_COLUMNS)
    natural = max([len("section")] + [len(s["title"]) for s in data["sections"]])
    title = max(MIN_TITLE, min(natural, width - numbers))

    def row(first: str, values: list[str]) -> list[str]:
        titles = wrap(first, title, "  ", "")
        cells = "".join(f"{v:>{len(head) + 1}}" for v, (_, head) in zip(values, SECTION_COLUMNS, strict=True))
        return [f"{titles[0]:<{title}}{cells}", *titles[1:]]

    lines = row("section", [head for _, head in SECTION_COLUMNS])
    lines.append("-" * (title + numbers))
    for s in data["sections"]:
        lines += row(s["title"], [str(s[key]) for key, _ in SECTION_COLUMNS])
    notes = ", ".join(str(n["note"]) for n in data["uncited_footnotes"]) or "none"
    lines += ["", *wrap(f"footnotes cited by no claim: {notes}", width, "  ", "")]
    return "\n".join(lines)


def totals(engine: Engine) -> Stats:
    """The graph's totals, in `stats-totals.rq`'s column order; an answer that is not one row is an error
    (never counted as zeros)."""
    result = engine.select(library("stats-totals").sparql)
    if len(result.rows) != 1:
        raise KgError(f"{engine.describe()} answered the totals with {len(result.rows)} rows, not one")
    row = records(result)[0]
    return {name: _count(row, name) for name in result.variables}


def compute(engine: Engine) -> Stats:
    """The statistics as a plain dict (the JSON output of `kg stats`)."""
    stats = totals(engine)
    per_class = records(engine.select(library("stats-per-class").sparql))
    stats["entities_per_class"] = {compact(bound(row, "class").value): _count(row, "n") for row in per_class}
    return stats


def to_json(stats: Stats) -> str:
    return json.dumps(stats, indent=2)


def to_table(stats: Stats) -> str:
    width = max(len(k) for k in [*stats, *stats["entities_per_class"]]) + 2
    lines = [f"{name:<{width}}{value:>8}" for name, value in stats.items() if name != "entities_per_class"]
    lines.append("")
    lines.append("entities per class (direct type)")
    lines += [f"  {name:<{width - 2}}{value:>8}" for name, value in stats["entities_per_class"].items()]
    return "\n".join(lines)
