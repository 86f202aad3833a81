"""The renderings of a `Result`: what reaches a terminal is printable, machine formats keep values exact,
ASK answers render in every format, and empty answers render cleanly."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields

import pyoxigraph as ox
import pytest

from kg.output import FORMATS, human, printable, render, to_csv, to_json, to_markdown, to_table, to_tsv
from kg.query import Result, run_local

HOSTILE = "red \x1b[31mALERT\x1b[0m \u202eevil\u202c end"
SHOWN = "red \\x1b[31mALERT\\x1b[0m \\u202eevil\\u202c end"


def result(variables: list[str], rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | None]],
           boolean: bool | None = None) -> Result:
    """A `Result`, also before kg.query's dataclass had its `boolean` field (then it is set on the instance)."""
    if any(f.name == "boolean" for f in fields(Result)):
        return Result(variables, rows, boolean)
    made = Result(variables, rows)
    if boolean is not None:
        object.__setattr__(made, "boolean", boolean)
    return made


def ask(value: bool) -> Result:
    return result([], [], value)


# --- printable -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    (HOSTILE, SHOWN),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("bell\x07 cr\r nul\x00 del\x7f", "bell\\x07 cr\\x0d nul\\x00 del\\x7f"),
    ("c1 \x85 \x9b csi", "c1 \\x85 \\x9b csi"),
    ("separators \u2028 \u2029", "separators \\u2028 \\u2029"),
    ("isolates \u2066\u2067\u2068\u2069 embeds \u202a\u202b\u202d", "isolates \\u2066\\u2067\\u2068\\u2069 embeds "
     "\\u202a\\u202b\\u202d"),
    ("Алматы — ¥ 🌍 العربية", "Алматы — ¥ 🌍 العربية"),
])
def test_printable_escapes_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_human_is_printable_for_literals_iris_and_blank_nodes() -> None:
    assert human(ox.Literal(HOSTILE)) == SHOWN
    assert human(ox.NamedNode("http://example.org/a\u202eb")) == "http://example.org/a\\u202eb"
    assert human(None) == ""


# --- the human renderings ------------------------------------------------------------------------------------


def hostile_result() -> Result:
    return result(["label", "thing"], [[ox.Literal(HOSTILE), ox.NamedNode("http://example.org/x")]])


def assert_no_controls(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\u202c" not in text


def test_table_shows_escapes_not_raw_controls() -> None:
    text = to_table(hostile_result(), width=160)
    assert_no_controls(text)
    assert SHOWN in text


def test_records_show_escapes_not_raw_controls() -> None:
    many = result([f"column_{i}" for i in range(12)], [[ox.Literal(HOSTILE)] * 12])
    text = to_table(many, width=40)
    assert text.startswith("-[ 1 ]")  # too many columns for 40: the record layout
    assert_no_controls(text)
    assert "\\x1b[31mALERT" in text


def test_markdown_shows_escapes_not_raw_controls() -> None:
    text = to_markdown(hostile_result())
    assert_no_controls(text)
    assert SHOWN in text


# --- machine formats keep the value exact ---------------------------------------------------------------------


def test_csv_keeps_the_exact_value() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(hostile_result()), newline="")))
    assert rows == [["label", "thing"], [HOSTILE, "http://example.org/x"]]


def test_tsv_keeps_the_exact_term() -> None:
    cell = to_tsv(hostile_result()).splitlines()[1].split("\t")[0]
    assert cell == str(ox.Literal(HOSTILE))  # N-Triples: ESC as \u001B, the override as itself


def test_json_keeps_the_exact_value() -> None:
    answer = json.loads(to_json(hostile_result()))
    assert answer["results"]["bindings"][0]["label"] == {"type": "literal", "value": HOSTILE}


def test_json_omits_unbound_values() -> None:
    answer = json.loads(to_json(result(["a", "b"], [[ox.Literal("x"), None]])))
    assert answer["results"]["bindings"] == [{"a": {"type": "literal", "value": "x"}}]


# --- ASK -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_ask_json_is_the_sparql_boolean_form(value: bool) -> None:
    assert to_json(ask(value)) == f'{{"head": {{}}, "boolean": {"true" if value else "false"}}}'


@pytest.mark.parametrize("value", [True, False])
def test_ask_in_every_format(value: bool) -> None:
    word = "true" if value else "false"
    expected = {"table": f"{word}\n", "md": f"{word}\n", "csv": f"{word}\r\n", "tsv": f"{word}\n",
                "json": f'{{"head": {{}}, "boolean": {word}}}'}
    assert {fmt: render(ask(value), fmt) for fmt in FORMATS} == expected


def test_ask_from_the_embedded_engine() -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://ex/s"), ox.NamedNode("http://ex/p"), ox.Literal("o")))
    yes = run_local(store, "ASK { ?s ?p ?o }")
    no = run_local(store, "ASK { ?s <http://ex/missing> ?o }")
    assert (render(yes, "table"), render(no, "table")) == ("true\n", "false\n")
    assert json.loads(render(yes, "json")) == {"head": {}, "boolean": True}


# --- empty answers -------------------------------------------------------------------------------------------


def test_table_with_no_rows() -> None:
    text = to_table(result(["a", "b"], []), width=80)
    assert text.splitlines() == ["a | b", "--+--", "(0 rows)"]


def test_table_with_no_columns_counts_the_rows() -> None:
    assert to_table(result([], []), width=80) == "(no columns)\n(0 rows)\n"
    assert to_table(result([], [[]]), width=80) == "(no columns)\n(1 row)\n"


def test_markdown_with_no_columns_and_no_rows() -> None:
    assert to_markdown(result([], [[]])) == "(no columns)\n(1 row)\n"
    assert to_markdown(result(["a"], [])) == "| a |\n|---|\n"


def test_select_star_on_nothing_renders_everywhere() -> None:
    empty = run_local(ox.Store(), "SELECT * WHERE { }")
    assert (empty.variables, empty.rows) == ([], [[]])
    for fmt in FORMATS:
        assert isinstance(render(empty, fmt), str)
    assert json.loads(render(empty, "json")) == {"head": {"vars": []}, "results": {"bindings": [{}]}}
