"""Answers as an Excel workbook (`--format xlsx`): one sheet per result, and with `--why` a sheet of the
evidence, one row per claim (kg.evidence.evidence_rows).

The cells hold what the CSV holds, column for column and in the same IRI style (docs/design.md, decision
11: a column bound to IRIs holds full IRIs, the `why_claim` and `claims` text columns CURIEs), typed so that
a spreadsheet can sort and add them: xsd integers and decimals are numbers, booleans are booleans, the rest
is text. Text is never a formula: a quote that starts with '=' stays the quote (a data file cannot run a
formula in a reader's spreadsheet). The characters the XML of a workbook cannot hold (C0 controls) are shown
as escapes, as on a terminal. A value or a sheet beyond Excel's limits (32,767 characters in a cell,
1,048,576 rows in a sheet) is an error, never a cut answer.

openpyxl writes the workbook (write-only mode, so memory stays flat); `kg.files` writes the bytes atomically.

The same answer is the same bytes, run after run and on an endpoint as on the embedded graph, so that a
workbook can be compared, checksummed and tested like the CSV. openpyxl dates a workbook when it saves it —
the document's created and modified dates in docProps/core.xml, and each zip entry — so `workbook` re-packs
what openpyxl wrote with one fixed date, `FIXED_DATE`, 1980-01-01 00:00:00 (UTC), in all of those places.
Why that date: a workbook is an answer, which depends on the graph and the question, not on the moment it was
written (the real moment would make every run differ, and any other plausible date would be a false
statement about the file); 1980-01-01 is the earliest date a zip entry can hold, the one reproducible builds
use, so one date serves both, and it reads as "no date" rather than as a date. The entries keep openpyxl's
order, names and contents (docProps/core.xml is openpyxl's own, written again with that date), with one file
mode and one creating system, so the bytes do not depend on the machine either (beyond zlib's version).
"""

from __future__ import annotations

import datetime
import io
import math
import re
import stat
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import KgError
from kg.query import Result, Term

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.styles import Alignment
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Value = str | int | float | bool | None

XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {f"{XSD}{name}" for name in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                         "positiveInteger", "nonPositiveInteger", "negativeInteger",
                                         "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
DECIMALS = {f"{XSD}decimal"}
FLOATS = {f"{XSD}double", f"{XSD}float"}
BOOLEAN = f"{XSD}boolean"
CELL_CHARS = 32_767  # Excel's limit for the text of one cell
SHEET_ROWS = 1_048_576  # Excel's limit for the rows of one sheet (the header is one of them)
WIDEST = 60  # no column is shown wider than this many characters (the text wraps in the cell)
_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")  # what a sheet's name may not hold
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FIXED_DATE = datetime.datetime(1980, 1, 1)  # every date of a workbook, UTC (see the module docstring)
CORE = "docProps/core.xml"  # the document properties, where openpyxl writes the created and modified dates


@dataclass(frozen=True)
class Sheet:
    """One sheet: a title (at most 31 characters, as Excel allows) and the rows of a result."""

    title: str
    result: Result


def cell_value(term: Term | None) -> Value:
    """A term as a spreadsheet value: numbers and booleans typed, everything else its text as in CSV (a full
    IRI, `_:id` for a blank node, a literal's lexical form)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    datatype = term.datatype.value if isinstance(term, ox.Literal) and not term.language else ""
    try:
        if datatype in INTEGERS:
            return int(term.value)
        if datatype in DECIMALS | FLOATS and math.isfinite(float(term.value)):
            return float(term.value)  # what Excel keeps of any number: a double (INF and NaN stay text)
    except ValueError:
        pass  # an ill-typed literal ("abc"^^xsd:integer) stays text
    if datatype == BOOLEAN and term.value in ("true", "false", "1", "0"):
        return term.value in ("true", "1")
    return term.value


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def workbook(sheets: list[Sheet]) -> bytes:
    """The workbook (.xlsx bytes) with one sheet per entry of `sheets`, in order (every value is checked
    against Excel's limits before a byte is written)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    tables = [_values(sheet) for sheet in sheets]
    book = Workbook(write_only=True)
    bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    used: set[str] = set()
    for sheet, values in zip(sheets, tables, strict=True):
        page = book.create_sheet(_title(sheet.title, used))
        page.freeze_panes = "A2"
        for index, name in enumerate(sheet.result.variables):
            longest = max([len(name)] + [len(str(row[index])) for row in values[:1000] if row[index] is not None])
            page.column_dimensions[get_column_letter(index + 1)].width = min(longest, WIDEST) + 2
        header = []
        for name in sheet.result.variables:
            cell = WriteOnlyCell(page, value=name)
            cell.font = bold
            header.append(cell)
        page.append(header)
        for row in values:
            page.append([_cell(page, value, wrapped) for value in row])
    if not sheets:
        book.create_sheet("answer")
    buffer = io.BytesIO()
    book.save(buffer)
    return _dated(buffer.getvalue(), book.properties)


def _dated(saved: bytes, properties: DocumentProperties) -> bytes:
    """The workbook openpyxl `saved`, re-packed with `FIXED_DATE` as its created and modified dates and as the
    date of every zip entry (openpyxl sets the modified date as it saves, so the properties are written
    again here, by openpyxl's own serializer)."""
    from openpyxl.xml.functions import tostring

    properties.created = properties.modified = FIXED_DATE
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = tostring(properties.to_tree()) if entry.filename == CORE else source.read(entry)
            info = zipfile.ZipInfo(entry.filename, date_time=FIXED_DATE.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, wherever it runs (ZipInfo takes the platform's)
            info.external_attr = (stat.S_IFREG | 0o644) << 16  # one mode (openpyxl writes some from temp files)
            target.writestr(info, data)
    return out.getvalue()


def _values(sheet: Sheet) -> list[list[Value]]:
    """The cells of `sheet` as spreadsheet values (text with XML-illegal characters escaped), or a KgError for
    a sheet or a value beyond Excel's limits."""
    rows = sheet.result.rows
    if len(rows) + 1 > SHEET_ROWS:
        raise KgError(f"the sheet '{sheet.title}' would have {len(rows):,} rows; a spreadsheet holds at most "
                      f"{SHEET_ROWS - 1:,} (CSV holds any number)")
    values = [[cell_value(term) for term in row] for row in rows]
    for number, row in enumerate(values, start=1):
        for index, value in enumerate(row):
            if isinstance(value, str):
                row[index] = value = _XML_ILLEGAL.sub(_escape, value)
                if len(value) > CELL_CHARS:
                    raise KgError(f"a value in row {number} has {len(value):,} characters; a spreadsheet cell "
                                  f"holds at most {CELL_CHARS:,} (CSV holds any length)")
    return values


def _cell(page: WriteOnlyWorksheet, value: Value, wrapped: Alignment) -> Cell:
    """A cell for `value`; text is set as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(page, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # as typed: openpyxl would take a text starting with '=' for a formula
        if len(value) > WIDEST:
            cell.alignment = wrapped
    return cell


def _title(wanted: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique within the workbook."""
    base = _TITLE_CHARS.sub("-", wanted).strip("'") or "answer"
    title, number = base[:31], 2
    while title.casefold() in used:
        suffix = f" ({number})"
        title, number = base[:31 - len(suffix)] + suffix, number + 1
    used.add(title.casefold())
    return title
