"""Commands that ask the graph: `queries`, `query`, `sparql`, `why`, `stats`, `audit` (each runs on the
embedded graph or, with `--endpoint`, on any SPARQL 1.1 endpoint)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli.base import (
    FINDINGS,
    GRAPH_FORMATS,
    OUTPUT,
    ROW_FORMATS,
    WORKBOOK_FORMATS,
    _emit,
    _engine,
    _layout,
    add_note,
    answer_options,
    answer_or_graph_options,
    check_destination,
    main,
    reading_options,
)
from kg.errors import KgError

if TYPE_CHECKING:
    from kg.query import Engine, Result


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True,
              help="md: the coverage report (docs/coverage.md); with --by-section only.")
@click.option("--by-section", is_flag=True, help="Claims, entities and citations per section of the report.")
@reading_options
@click.pass_context
def stats(ctx: click.Context, fmt: str, by_section: bool, endpoint: str | None, timeout: float,
          output: Path | None) -> None:
    """Count triples, claims, citations, sources, conflicts and entities per class."""
    from kg import stats as statistics

    engine = _engine(ctx, endpoint, timeout)
    if by_section:
        sections = statistics.by_section(engine)
        if fmt == "md":
            from kg.docs import coverage_markdown

            _emit(coverage_markdown(statistics.compute(engine), sections), output)
        else:
            text = json.dumps(sections, indent=2) if fmt == "json" else statistics.by_section_table(sections)
            _emit(text + "\n", output, fmt)
        return
    if fmt == "md":
        raise KgError("--format md goes with --by-section")
    numbers = statistics.compute(engine)
    _emit((statistics.to_json(numbers) if fmt == "json" else statistics.to_table(numbers)) + "\n", output, fmt)


@main.command("queries")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True,
              help="md: the catalog page (docs/queries.md).")
@OUTPUT
@click.pass_context
def list_queries(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """List the stored questions with their parameters."""
    from kg.catalog import load_catalog

    catalog = load_catalog(_layout(ctx).queries_dir, ("question",)).questions
    if fmt == "json":
        _emit(json.dumps([q.as_dict() for q in catalog], ensure_ascii=False, indent=2) + "\n", output, fmt)
        return
    if fmt == "md":
        from kg.docs import catalog_markdown

        _emit(catalog_markdown(catalog), output)
        return
    from kg.output import terminal_width, wrap

    lines, indent = [], " " * 33
    for q in catalog:
        params = [f"[-p {p.name}=<{p.type}>]" if not p.required else f"-p {p.name}=<{p.type}>" for p in q.params]
        lines += wrap(q.title, None, indent, f"{q.name:<32} ")
        if params:  # on one line if they fit, else one a line: a `-p` is never parted from its value
            fits = len(indent) + len(" ".join(params)) <= terminal_width()
            lines += [indent + " ".join(params)] if fits else [indent + param for param in params]
    _emit("\n".join(lines) + "\n", output)


def _answer_text(result: Result, fmt: str, engine: Engine, why: bool) -> str:
    """The answer in `fmt`; with `why`, the evidence of each row (as columns, or as a tree under a table)."""
    from kg.output import render

    if not why or result.boolean is not None:
        return render(result, fmt)
    from kg.evidence import to_text, with_evidence_columns
    from kg.output import human, terminal_width, wrap

    extended, per_row = with_evidence_columns(engine, result)
    if fmt not in ("table", "md"):
        return render(extended, fmt)
    parts = [render(result, fmt)]
    for number, (row, items) in enumerate(zip(result.rows, per_row, strict=True), start=1):
        cells = " | ".join(text for text in (human(t) for t in row if t is not None) if text)  # no empty cells
        title = wrap(cells, terminal_width() - 2, "    ", f"row {number}: ")  # two lines at most, room for " …"
        parts.append("\n" + "\n".join(title[:2]) + (" …" if len(title) > 2 else "") + "\n")
        parts.append((to_text(items) if items else "    (no claim found for the terms of this row)") + "\n")
    return "".join(parts)


def _answer(result: Result, fmt: str, engine: Engine, why: bool, title: str) -> str | bytes:
    """The answer in `fmt`: text (`_answer_text`) or, for xlsx, a workbook with a sheet called `title` and,
    with `why`, a sheet of the evidence (one row per claim, `why_row` numbering the answer's rows)."""
    if fmt not in WORKBOOK_FORMATS:
        return _answer_text(result, fmt, engine, why)
    import pyoxigraph as ox

    from kg.query import Result as Rows
    from kg.spreadsheet import Sheet, workbook

    if result.boolean is not None:  # an ASK: one cell, true or false
        return workbook([Sheet(title, Rows(["boolean"], [[ox.Literal(result.boolean)]]))])
    if not why:
        return workbook([Sheet(title, result)])
    from kg.evidence import evidence_rows

    evidence, _ = evidence_rows(engine, result)
    numbers = [ox.Literal(number) for number in range(1, len(result.rows) + 1)]
    numbered = Rows(["row", *result.variables], [[n, *row] for n, row in zip(numbers, result.rows, strict=True)])
    return workbook([Sheet(title, numbered), Sheet("evidence", evidence)])


@main.command("query")
@click.argument("name")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter value (repeatable).")
@answer_options
@click.pass_context
def query_command(ctx: click.Context, name: str, params: tuple[str, ...], fmt: str, limit: int | None, why: bool,
                  endpoint: str | None, timeout: float, output: Path | None) -> None:
    """Answer the stored question NAME (see `kg queries`)."""
    from kg.catalog import find
    from kg.cli.find import defaults_line, resolution_note
    from kg.params import bind_in, check, parse_assignments

    check_destination(fmt, output)
    stored = find(_layout(ctx).queries_dir, name)
    given = parse_assignments(params)
    check(stored, given)  # before the graph is loaded or the endpoint contacted
    engine = _engine(ctx, endpoint, timeout)
    bound = bind_in(engine, stored, given)
    for parameter, resolution in bound.resolved.items():
        add_note(ctx, resolution_note(resolution, parameter))
    from kg.syntax import in_stored_file

    with in_stored_file(stored):  # a syntax error names the file and its line
        text = _answer(engine.select(stored.sparql, bound.terms, limit=limit), fmt, engine, why, name)
    defaults = defaults_line(bound)
    if defaults and isinstance(text, str) and fmt in ("table", "md"):  # a line above; CSV, JSON… stay exact
        text = defaults + ("\n\n" if fmt == "md" else "\n") + text
    elif defaults:
        add_note(ctx, defaults)
    _emit(text, output, fmt)


@main.command("sparql")
@click.argument("query_text", required=False, metavar="QUERY")
@click.option("-f", "--file", "query_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Read the query from this file ('-' for standard input).")
@answer_or_graph_options
@click.pass_context
def sparql_command(ctx: click.Context, query_text: str | None, query_file: Path | None, fmt: str | None,
                   limit: int | None, why: bool, endpoint: str | None, timeout: float, output: Path | None) -> None:
    """Run an ad-hoc read-only SPARQL query: SELECT and ASK answer with rows, CONSTRUCT and DESCRIBE with a
    graph (Turtle by default; --limit caps its triples). The prefixes of `kg prefixes` need no PREFIX line.
    Updates and, on the embedded graph, SERVICE are refused."""
    if (query_text is None) == (query_file is None):
        raise KgError("give a query as an argument or with -f FILE, not both and not neither")
    if query_file is not None:
        try:
            query_text = _read_query_file(query_file)
        except OSError as err:
            raise KgError(f"{query_file}: cannot read: {err.strerror}") from None
        except UnicodeDecodeError:
            raise KgError(f"{query_file}: not UTF-8 text") from None
    assert query_text is not None
    check_destination(fmt or "", output)
    import contextlib

    from kg.graph import PREFIXES
    from kg.syntax import in_query_file

    engine = _engine(ctx, endpoint, timeout)
    named = contextlib.nullcontext() if query_file is None else \
        in_query_file("standard input" if str(query_file) == "-" else query_file, query_text)
    with named:  # a syntax error in a query file names the file
        answer = _answer_sparql(engine, query_text, fmt, limit, why, output, PREFIXES)
    if answer is not None and not answer.rows and not answer.boolean:
        from kg.graph import compact
        from kg.query import absent_terms

        absent = [compact(iri) for iri in absent_terms(engine, query_text, PREFIXES)]
        if absent:
            add_note(ctx, f"{', '.join(absent)} {'occurs' if len(absent) == 1 else 'occur'} nowhere in the graph "
                          "(a misspelling? `kg search TEXT` finds terms by name)")


def _answer_sparql(engine: Engine, query_text: str, fmt: str | None, limit: int | None, why: bool,
                   output: Path | None, prefixes: dict[str, str]) -> Result | None:
    """Rows for SELECT and ASK, a graph for CONSTRUCT and DESCRIBE, in `fmt` (by default a table or Turtle);
    the rows are returned (None for a graph)."""
    prepared = engine.prepare(query_text, prefixes=prefixes)
    if prepared.form in ("CONSTRUCT", "DESCRIBE"):
        from kg.graph_answer import serialize

        fmt = fmt or "ttl"
        if fmt not in GRAPH_FORMATS:
            raise KgError(f"a {prepared.form} query answers with a graph: --format {', '.join(GRAPH_FORMATS)} "
                          f"(not {fmt}, which is for the rows of SELECT and ASK)")
        if why:
            raise KgError(f"--why adds evidence to rows; a {prepared.form} query answers with a graph")
        _emit(serialize(engine.graph(prepared, limit), fmt, prefixes), output, fmt)
        return None
    fmt = fmt or "table"
    if fmt in GRAPH_FORMATS:
        raise KgError(f"a {prepared.form} query answers with rows: --format {', '.join(ROW_FORMATS)} "
                      f"(--format {fmt} is for the graphs of CONSTRUCT and DESCRIBE)")
    result = engine.rows(prepared, limit)
    _emit(_answer(result, fmt, engine, why, "answer"), output, fmt)
    return result


@main.command("prefixes")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sparql", "ttl"]), default="table",
              show_default=True, help="sparql: PREFIX lines; ttl: @prefix lines; json: {prefix: namespace}.")
@OUTPUT
def prefixes_command(fmt: str, output: Path | None) -> None:
    """List the prefixes `kg sparql` knows without PREFIX lines (a PREFIX line of the query's own wins)."""
    from kg.graph import PREFIXES
    from kg.sparql import declarations

    if fmt == "json":
        _emit(json.dumps(PREFIXES, indent=2) + "\n", output, fmt)
    elif fmt == "table":
        width = max(len(name) for name in PREFIXES) + 1
        _emit("".join(f"{name + ':':<{width + 1}}{namespace}\n" for name, namespace in PREFIXES.items()), output)
    else:
        _emit(declarations(PREFIXES, turtle=fmt == "ttl"), output, fmt)


def _read_query_file(path: Path) -> str:
    """A query from a regular file or standard input, at most the `query_chars` limit (a FIFO or /dev/zero
    cannot hold the command forever)."""
    import stat

    from kg.errors import LimitExceeded
    from kg.limits import int_limit

    cap = int_limit("query_chars")
    if str(path) == "-":
        text = sys.stdin.read(cap + 1)
    else:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise KgError(f"{path}: not a regular file")
        with open(path, encoding="utf-8") as handle:
            text = handle.read(cap + 1)
    if len(text) > cap:
        raise LimitExceeded(f"{path}: the query is longer than {cap:,} characters", "query_chars")
    return text


@main.command("audit")
@click.option("--check", "names", multiple=True, metavar="NAME", help="Run only this check (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "html"]), default="text",
              show_default=True, help="html: one self-contained page, an editor's checklist.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Exit 1 when a check of this severity or above finds something.")
@click.option("--source-text", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Verify every quote verbatim against this text (records its SHA-256).")
@click.option("--list", "list_only", is_flag=True, help="List the checks and exit.")
@click.option("--all", "everything", is_flag=True,
              help="Text: show every check and all findings (by default: error and warning findings only).")
@reading_options
@click.pass_context
def audit_command(ctx: click.Context, names: tuple[str, ...], fmt: str, fail_on: str, source_text: Path | None,
                  list_only: bool, everything: bool, endpoint: str | None, timeout: float,
                  output: Path | None) -> None:
    """Audit provenance: checks stored as SPARQL with a severity (exit 1 on findings at --fail-on or above)."""
    from kg import audit as audits

    checks = audits.checks_for(_layout(ctx))
    if list_only:
        _emit(audits.list_checks(checks, " (with --source-text)"), output)
        return
    if audits.FIXITY in names and source_text is None:
        raise KgError(f"the {audits.FIXITY} check needs --source-text PATH")
    selected = audits.select_checks(checks, list(names))
    report = audits.audit(_engine(ctx, endpoint, timeout), selected, fail_on=fail_on, source_text=source_text)
    _emit(audits.render(report, fmt, everything, " (--all shows them)"), output, fmt)
    ctx.exit(0 if report.passed else FINDINGS)


@main.command("why")
@click.argument("term")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reading_options
@click.pass_context
def why_command(ctx: click.Context, term: str, fmt: str, endpoint: str | None, timeout: float,
                output: Path | None) -> None:
    """The evidence tree of TERM (an IRI, a CURIE or a name): claims, quotes, footnotes, sources, grades, conflicts."""
    from kg.cli.find import resolution_note
    from kg.search_names import resolve
    from kg.why import explain, explanation_to_dict, explanation_to_text

    engine = _engine(ctx, endpoint, timeout)
    resolution = resolve(engine, term)
    if resolution.how != "iri":
        add_note(ctx, resolution_note(resolution))
    explanation = explain(engine, resolution.iri)
    if fmt == "json":
        _emit(json.dumps(explanation_to_dict(explanation), ensure_ascii=False, indent=2) + "\n", output, fmt)
    else:
        _emit(explanation_to_text(explanation), output)


