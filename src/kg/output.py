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

import pyoxigraph as ox

from kg.files import is_stdout, write_atomically
from kg.graph import compact
from kg.query import Result, Term

__all__ = ["FORMATS", "human", "is_stdout", "printable", "render", "terminal_width", "to_csv", "to_json",
           "to_markdown", "to_table", "to_tsv", "wrap", "write_atomically"]

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


# --- Fitting text to the terminal ------------------------------------------------------------------------------

MAX_WIDTH = 160  # wider lines are hard to read even on a wide terminal
MIN_WIDTH = 20  # below this no line is readable; a narrower terminal gets lines of this width

# Where lines may break: spaces and tabs only. A no-break space (U+00A0, kept verbatim in the report's quotes)
# or a thin space joins the words on either side, as it does in print.
_BREAK = re.compile(r"[ \t]+")


def terminal_width() -> int:
    """The width people's text is fitted to: $COLUMNS, else the terminal's, else 80 (output to a pipe or a
    file), kept between MIN_WIDTH and MAX_WIDTH."""
    return max(MIN_WIDTH, min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH))


def wrap(text: str, width: int | None = None, indent: str = "", first: str | None = None) -> list[str]:
    """`text` as lines of at most `width` characters (default `terminal_width()`), each starting with `indent`
    (the first with `first` when given, e.g. `"  1. "`), broken at spaces only.

    A word is never broken: not an IRI, URL, CURIE or path (`https://w3id.org/…`, `claim:x`), not a word in
    a quote, not at a hyphen; a no-break space joins the words around it. A first word that does not fit
    after a longer `first` starts the second line, after `indent`. A word longer than the room a line leaves
    stays whole on a line of its own, the one case where a line is longer than `width`. Line breaks in
    `text` are kept (each line is wrapped on its own; an empty one stays empty). The result always has at
    least one line."""
    width = terminal_width() if width is None else width
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = first if first is not None and not out else indent
        bare = True  # the line holds its indent and no word yet
        for word in _BREAK.split(paragraph):
            if not word:
                continue
            if not bare and len(line) + 1 + len(word) > width:
                out.append(line)
                line = indent + word
            elif bare and line.strip() and len(line) + len(word) > width and len(indent) < len(line):
                out.append(line.rstrip())  # `first` leaves too little room: the word starts the next line
                line = indent + word
            else:
                line = line + word if bare else f"{line} {word}"
            bare = False
        out.append(line.rstrip() if bare else line)
    return out


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


MIN_COLUMN = 20
RECORD_INDENT = "  "  # the indent of a record's value shown below its column name


def to_table(result: Result, width: int | None = None) -> str:
    """A plain-text table that fits `width` columns (default `terminal_width()`): long cells wrap at spaces,
    never inside a word, so a column is at least as wide as its longest word (an IRI or CURIE stays whole).
    When the columns cannot all get that width (and a readable one, MIN_COLUMN), each row is shown as a
    record of `column | value` lines instead. Values are `printable`. An ASK answer is `true` or `false`; a
    result without columns says how many rows it has (`SELECT * WHERE {}` has one row of nothing)."""
    boolean = _boolean(result)
    if boolean is not None:
        return f"{_word(boolean)}\n"
    width = terminal_width() if width is None else width
    headers = [printable(v) for v in result.variables]
    cells = [[human(t) for t in row] for row in result.rows]
    if not headers:
        return f"(no columns)\n{_count(len(cells))}\n"
    columns = [[h] + [r[i] for r in cells] for i, h in enumerate(headers)]
    natural = [max(len(line) for value in column for line in value.split("\n")) for column in columns]
    floors = [max([min(n, MIN_COLUMN)] + [_longest_word(value) for value in column])
              for n, column in zip(natural, columns, strict=True)]
    widths = _fit(natural, floors, width - 3 * (len(headers) - 1))
    if widths is None:
        return _records(headers, cells, width)
    out = [_line(headers, widths), "-+-".join("-" * w for w in widths)]
    out += [_line(row, widths) for row in cells]
    out.append(_count(len(cells)))
    return "\n".join(out) + "\n"


def _longest_word(value: str) -> int:
    return max((len(word) for word in _BREAK.split(value.replace("\n", " "))), default=0)


def _records(headers: list[str], cells: list[list[str]], width: int) -> str:
    """Rows as blocks of `column | value` lines (like psql's expanded display), wrapped to `width`. A value
    with a word too long to sit beside the column names (a long IRI) starts on the line below its name, at
    the left margin, so that it is cut nowhere and runs past `width` only if it is longer than `width`."""
    label = max(len(h) for h in headers)
    width = max(width, label + 3 + MIN_COLUMN)
    out = []
    for number, row in enumerate(cells, start=1):
        out.append(f"-[ {number} ]" + "-" * max(0, min(width, 80) - 8 - len(str(number))))
        for header, value in zip(headers, row, strict=True):
            if not value:
                continue
            if _longest_word(value) > width - label - 3:
                out.append(f"{header.rjust(label)} |")
                out += wrap(value, width, RECORD_INDENT)
            else:
                out += wrap(value, width, f"{'':>{label}} | ", f"{header.rjust(label)} | ")
    out.append(_count(len(cells)))
    return "\n".join(out) + "\n"


def _fit(natural: list[int], floors: list[int], budget: int) -> list[int] | None:
    """Column widths summing to at most `budget`, the widest narrowed first, none below its floor; None when
    the floors alone do not fit."""
    if sum(floors) > budget:
        return None
    widths = list(natural)
    excess = sum(widths) - budget
    while excess > 0:
        widest = max((i for i in range(len(widths)) if widths[i] > floors[i]), key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _line(values: list[str], widths: list[int]) -> str:
    wrapped = [wrap(v, w) for v, w in zip(values, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = [(w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, widths, strict=True)]
        lines.append(" | ".join(parts).rstrip())
    return "\n".join(lines)


def render(result: Result, fmt: str) -> str:
    """`result` in `fmt`, one of FORMATS."""
    return {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json, "md": to_markdown}[fmt](result)
