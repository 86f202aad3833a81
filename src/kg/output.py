"""Rendering a `Result` for people (an 80-column table, Markdown) and for programs (CSV, TSV, SPARQL JSON).

CSV and TSV follow the SPARQL 1.1 Query Results CSV/TSV formats: CSV carries plain values, TSV carries
terms in N-Triples syntax. JSON is the SPARQL 1.1 Query Results JSON format. People see CURIEs, not IRIs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pyoxigraph as ox

from kg.graph import compact
from kg.query import Result

FORMATS = ("table", "csv", "tsv", "json", "md")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def human(term) -> str:  # type: ignore[no-untyped-def]
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def to_json(result: Result) -> str:
    def encode(term):  # type: ignore[no-untyped-def]
        if isinstance(term, ox.NamedNode):
            return {"type": "uri", "value": term.value}
        if isinstance(term, ox.BlankNode):
            return {"type": "bnode", "value": term.value}
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out

    bindings = [
        {var: encode(term) for var, term in zip(result.variables, row, strict=True) if term is not None}
        for row in result.rows
    ]
    return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False, indent=2)


def to_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if t is None else (f"_:{t.value}" if isinstance(t, ox.BlankNode) else t.value)
                         for t in row])
    return buffer.getvalue()


def to_tsv(result: Result) -> str:
    def cell(term) -> str:  # type: ignore[no-untyped-def]
        if term is None:
            return ""
        text = str(term)  # N-Triples syntax: <iri>, "lit"@en, "5"^^<xsd:integer>
        return text.replace("\t", "\\t").replace("\n", "\\n")

    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join(cell(t) for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def to_markdown(result: Result) -> str:
    def cell(term) -> str:  # type: ignore[no-untyped-def]
        return human(term).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(result.variables) + " |", "|" + "---|" * len(result.variables)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in result.rows]
    return "\n".join(lines) + "\n"


MIN_COLUMN = 12


def to_table(result: Result, width: int | None = None) -> str:
    """A plain-text table that fits `width` columns (the terminal, 80 by default): long cells wrap. When the
    columns cannot all get a readable width, each row is shown as a record of `column: value` lines."""
    width = width or min(shutil.get_terminal_size((80, 24)).columns, 160)
    headers = result.variables
    cells = [[human(t) for t in row] for row in result.rows]
    if not headers:
        return "(no columns)\n"
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    budget = max(width - 3 * (len(headers) - 1), len(headers) * 6)
    widths = _fit(natural, budget)
    if any(w < min(n, MIN_COLUMN) for w, n in zip(widths, natural, strict=True)):
        return _records(headers, cells, width)
    sep = "-+-".join("-" * w for w in widths)
    out = [_line([h for h in headers], widths), sep]
    for row in cells:
        out.append(_line(row, widths))
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


def _records(headers: list[str], cells: list[list[str]], width: int) -> str:
    """Rows as blocks of `column: value` lines (like psql's expanded display), wrapped to `width`."""
    label = max(len(h) for h in headers)
    out = []
    for number, row in enumerate(cells, start=1):
        out.append(f"-[ {number} ]" + "-" * max(0, min(width, 80) - 8 - len(str(number))))
        for header, value in zip(headers, row, strict=True):
            if not value:
                continue
            lines = textwrap.wrap(value, max(20, width - label - 3), break_on_hyphens=False) or [""]
            out.append(f"{header.rjust(label)} | {lines[0]}")
            out += [f"{'':>{label}} | {line}" for line in lines[1:]]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


def _fit(natural: list[int], budget: int) -> list[int]:
    widths = list(natural)
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 6:
            break
        widths[widest] -= 1
    return widths


def _line(values: list[str], widths: list[int]) -> str:
    wrapped = [
        textwrap.wrap(v, w, break_long_words=True, break_on_hyphens=False) or [""]
        for v, w in zip(values, widths, strict=True)
    ]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = [(w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, widths, strict=True)]
        lines.append(" | ".join(parts).rstrip())
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename, so a failure never leaves half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a written report should have ordinary permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(result: Result, fmt: str) -> str:
    return {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json, "md": to_markdown}[fmt](result)
