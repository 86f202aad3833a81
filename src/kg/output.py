"""Rendering a `Result` for people (an 80-column table, Markdown) and for programs (CSV, TSV, SPARQL JSON).

CSV and TSV follow the SPARQL 1.1 Query Results CSV/TSV formats: CSV carries plain values, TSV carries
terms in N-Triples syntax. JSON is the SPARQL 1.1 Query Results JSON format. People see CURIEs, not IRIs.

What people see goes to a terminal, so the human renderings (table, records, Markdown) pass every value
through `printable`: a data file's ESC sequences or bidi overrides are shown as `\x1b`, `\u202e`, never
obeyed. The machine formats keep values exact (CSV, TSV and JSON are read by programs, not terminals).

An ASK answer (`Result.boolean` not None) is `{"head": {}, "boolean": true}` in JSON (SPARQL 1.1 JSON
results), and `true` or `false` on one line in the other formats: SPARQL's CSV and TSV formats define no
boolean form, and one bare word is what a shell script can test (CSV ends the line with CRLF, as its rows do).

Writing files lives in `kg.files`; `write_atomically` and `is_stdout` are re-exported here for callers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import textwrap

import pyoxigraph as ox

from kg.files import is_stdout, write_atomically
from kg.graph import compact
from kg.query import Result, Term

__all__ = ["FORMATS", "human", "is_stdout", "printable", "render", "to_csv", "to_json", "to_markdown",
           "to_table", "to_tsv", "write_atomically"]

FORMATS = ("table", "csv", "tsv", "json", "md")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# What a terminal would obey rather than show: C0 controls but tab and newline, DEL, C1 controls (U+009B is
# a one-character CSI), the Unicode line and paragraph separators, and the bidi embeddings, overrides and
# isolates that reorder what follows them (the "Trojan Source" characters).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` safe to show on a terminal: each character a terminal would act on (see `_UNPRINTABLE`) shown
    as a Python-style escape, `\\x1b` or `\\u202e`, so a data file cannot recolour, clear or reorder the
    screen. Tabs and newlines stay; backslashes are left alone, so the escapes are for eyes, not parsers."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(_escape, text)


def lexical(term: Term | None) -> str:
    """A term's lexical form (an IRI's text, a literal's value), "" for an unbound one: for code, not eyes."""
    return "" if term is None else term.value


def human(term: Term | None) -> str:
    """A term as people read it: a CURIE for an IRI, `_:id` for a blank node, a literal's text; printable."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return printable(compact(term.value))
    if isinstance(term, ox.BlankNode):
        return printable(f"_:{term.value}")
    return printable(term.value)


def _boolean(result: Result) -> bool | None:
    """The answer of an ASK, or None for a SELECT (`getattr`, for Result objects made without the field)."""
    value: object = getattr(result, "boolean", None)
    return None if value is None else bool(value)


def _word(value: bool) -> str:
    return "true" if value else "false"


def _count(rows: int) -> str:
    return f"({rows} row{'s' if rows != 1 else ''})"


def to_json(result: Result) -> str:
    """SPARQL 1.1 Query Results JSON; an ASK answer is exactly `{"head": {}, "boolean": true}`."""
    boolean = _boolean(result)
    if boolean is not None:
        return json.dumps({"head": {}, "boolean": boolean})

    def encode(term: Term) -> dict[str, str]:
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
    """SPARQL 1.1 CSV results (plain values, CRLF line ends); an ASK answer is one line, `true` or `false`."""
    boolean = _boolean(result)
    if boolean is not None:
        return f"{_word(boolean)}\r\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(["" if t is None else (f"_:{t.value}" if isinstance(t, ox.BlankNode) else t.value)
                         for t in row])
    return buffer.getvalue()


def to_tsv(result: Result) -> str:
    """SPARQL 1.1 TSV results (N-Triples terms); an ASK answer is one line, `true` or `false`."""
    boolean = _boolean(result)
    if boolean is not None:
        return f"{_word(boolean)}\n"

    def cell(term: Term | None) -> str:
        if term is None:
            return ""
        text = str(term)  # N-Triples syntax: <iri>, "lit"@en, "5"^^<xsd:integer>
        return text.replace("\t", "\\t").replace("\n", "\\n")

    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join(cell(t) for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def to_markdown(result: Result) -> str:
    """A Markdown table (printable cells); an ASK answer is `true` or `false`; no columns, a row count."""
    boolean = _boolean(result)
    if boolean is not None:
        return f"{_word(boolean)}\n"
    if not result.variables:
        return f"(no columns)\n{_count(len(result.rows))}\n"

    def cell(term: Term | None) -> str:
        return human(term).replace("|", "\\|").replace("\n", " ")

    headers = [printable(v) for v in result.variables]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in result.rows]
    return "\n".join(lines) + "\n"


MIN_COLUMN = 12


def to_table(result: Result, width: int | None = None) -> str:
    """A plain-text table that fits `width` columns (the terminal, 80 by default): long cells wrap. When the
    columns cannot all get a readable width, each row is shown as a record of `column: value` lines. Values
    are `printable`. An ASK answer is `true` or `false`; a result without columns says how many rows it has
    (`SELECT * WHERE {}` has one row of nothing)."""
    boolean = _boolean(result)
    if boolean is not None:
        return f"{_word(boolean)}\n"
    width = width or min(shutil.get_terminal_size((80, 24)).columns, 160)
    headers = [printable(v) for v in result.variables]
    cells = [[human(t) for t in row] for row in result.rows]
    if not headers:
        return f"(no columns)\n{_count(len(cells))}\n"
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    budget = max(width - 3 * (len(headers) - 1), len(headers) * 6)
    widths = _fit(natural, budget)
    if any(w < min(n, MIN_COLUMN) for w, n in zip(widths, natural, strict=True)):
        return _records(headers, cells, width)
    sep = "-+-".join("-" * w for w in widths)
    out = [_line([h for h in headers], widths), sep]
    for row in cells:
        out.append(_line(row, widths))
    out.append(_count(len(cells)))
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
    out.append(_count(len(cells)))
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


def render(result: Result, fmt: str) -> str:
    """`result` in `fmt`, one of FORMATS."""
    return {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json, "md": to_markdown}[fmt](result)
