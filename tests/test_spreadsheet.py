"""Answers as Excel workbooks (kg.spreadsheet, `--format xlsx`): opened with openpyxl, an independent reader of
the file (it parses the XML again), and checked against the CSV of the same answer."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kg.cli import main

KHIMPROM = ["query", "actor-facts", "-p", "actor=actor:khimprom", "--why"]
SUPPLY = "Khimprom obtains lab equipment and precursor chemicals from China; acids are obtained from Russia."
NOTE_61 = "GI-TOC interview with a Kazakh law enforcement operational-level officer, March 2023"


def _sheets(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book}


def test_everything_about_khimprom_as_a_workbook(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The README's one command: the answer on one sheet, its evidence (quotes, sources) on another."""
    target = tmp_path / "k.xlsx"
    result = runner.invoke(main, [*KHIMPROM, "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    sheets = _sheets(target)
    assert list(sheets) == ["actor-facts", "evidence"]
    answer, evidence = sheets["actor-facts"], sheets["evidence"]
    plain = list(csv.reader(io.StringIO(runner.invoke(main, [*KHIMPROM[:-1], "--format", "csv"]).stdout)))
    assert answer[0] == ("row", *plain[0])
    assert [row[1:] for row in answer[1:]] == [tuple(int(v) if v.isdigit() else (v or None) for v in r)
                                               for r in plain[1:]]  # same values, n_claims a number
    assert [row[0] for row in answer[1:]] == list(range(1, len(plain)))
    header = evidence[0]
    rows = [dict(zip(header, row, strict=True)) for row in evidence[1:]]
    assert {r["why_row"] for r in rows} == set(range(1, len(plain)))  # every answer row has its evidence
    assert SUPPLY in {r["why_quote"] for r in rows}
    assert NOTE_61 in {r["why_sources"] for r in rows}
    why_csv = list(csv.DictReader(io.StringIO(runner.invoke(main, [*KHIMPROM, "--format", "csv"]).stdout)))
    assert [(r["why_claim"], r["why_claim_iri"], r["why_quote"]) for r in rows] == [
        (r["why_claim"], r["why_claim_iri"], r["why_quote"]) for r in why_csv]  # the CSV's values and IRI style


def test_the_same_answer_is_the_same_bytes(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two runs, one workbook: no date but 1980-01-01 anywhere in it (the document's created and modified dates,
    every zip entry's), and it still opens with the quotes and sources. (The dates are checked one by one, as
    two runs within the same second would match anyway.)"""
    runs = [tmp_path / "first.xlsx", tmp_path / "second.xlsx"]
    for target in runs:
        assert runner.invoke(main, [*KHIMPROM, "--format", "xlsx", "-o", str(target)]).exit_code == 0
    assert runs[0].read_bytes() == runs[1].read_bytes()
    with zipfile.ZipFile(runs[0]) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(\w+)[^>]*>([^<]*)<", core) == [("created", "1980-01-01T00:00:00Z"),
                                                                ("modified", "1980-01-01T00:00:00Z")]
    evidence = _sheets(runs[0])["evidence"]
    rows = [dict(zip(evidence[0], row, strict=True)) for row in evidence[1:]]
    assert SUPPLY in {r["why_quote"] for r in rows} and NOTE_61 in {r["why_sources"] for r in rows}


def test_a_workbook_is_refused_to_a_terminal(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "criminal-groups", "--format", "xlsx"])
    assert result.exit_code == 2
    assert result.output == "kg: --format xlsx writes a workbook, which a terminal cannot show: give -o FILE\n"
    assert runner.invoke(main, ["sparql", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--format", "xlsx"]).exit_code == 2
    piped = runner.invoke(main, ["query", "criminal-groups", "--format", "xlsx", "-o", "-"])  # not a terminal here
    assert piped.exit_code == 0
    (tmp_path / "piped.xlsx").write_bytes(piped.stdout_bytes)
    assert _sheets(tmp_path / "piped.xlsx")["criminal-groups"][0][0] == "group"


def test_cells_are_typed_and_text_is_never_a_formula(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    query = ('SELECT ?text ?number ?decimal ?flag ?iri WHERE { VALUES (?text ?number ?decimal ?flag ?iri) '
             '{ ("=HYPERLINK(\\"http://example.org\\")" 5 2.5 true ckg:Claim) ("bell\\u0007" -1 0.1 false UNDEF) } }')
    target = tmp_path / "typed.xlsx"
    assert runner.invoke(main, ["sparql", query, "--format", "xlsx", "-o", str(target)]).exit_code == 0
    book = load_workbook(target)
    sheet = book["answer"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == '=HYPERLINK("http://example.org")'
    assert sheet["A3"].value == "bell\\x07"  # what XML cannot hold, shown as an escape
    assert (sheet["B2"].value, sheet["C2"].value, sheet["D2"].value) == (5, 2.5, True)
    assert (sheet["B3"].value, sheet["C3"].value, sheet["D3"].value) == (-1, 0.1, False)
    assert sheet["E2"].value == "https://w3id.org/crossroads-kg/ontology#Claim" and sheet["E3"].value is None


def test_an_ask_answer_and_a_rewritten_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An ASK is one cell; an existing file is replaced whole, with no temporary file left beside it."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "ask.xlsx"
    target.write_text("old", "utf-8")
    asked = runner.invoke(main, ["sparql", "ASK { ?s a ckg:Claim }", "--format", "xlsx", "-o", str(target)])
    assert asked.exit_code == 0
    assert _sheets(target) == {"answer": [("boolean",), (True,)]}
    assert sorted(p.name for p in folder.iterdir()) == ["ask.xlsx"]
    refused = runner.invoke(main, ["query", "no-such-question", "--format", "xlsx", "-o", str(target)])
    assert refused.exit_code == 2 and _sheets(target) == {"answer": [("boolean",), (True,)]}


@pytest.mark.parametrize(("titles", "expected"), [
    (["actor-facts", "evidence"], ["actor-facts", "evidence"]),
    (["a/b:c*d?e[f]g\\h"], ["a-b-c-d-e-f-g-h"]),
    (["x" * 40, "x" * 40], ["x" * 31, "x" * 27 + " (2)"]),
    (["Evidence", "evidence"], ["Evidence", "evidence (2)"]),
])
def test_sheet_titles_are_ones_excel_accepts(tmp_path: Path, titles: list[str], expected: list[str]) -> None:
    from kg.query import Result
    from kg.spreadsheet import Sheet, workbook

    target = tmp_path / "titles.xlsx"
    target.write_bytes(workbook([Sheet(title, Result(["x"], [])) for title in titles]))
    assert list(_sheets(target)) == expected


def test_a_value_beyond_a_cell_is_an_error(tmp_path: Path) -> None:
    import pyoxigraph as ox

    from kg.errors import KgError
    from kg.query import Result
    from kg.spreadsheet import CELL_CHARS, Sheet, workbook

    with pytest.raises(KgError, match="a spreadsheet cell holds at most 32,767"):
        workbook([Sheet("big", Result(["text"], [[ox.Literal("x" * (CELL_CHARS + 1))]]))])
