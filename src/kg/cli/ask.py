"""Commands that ask the graph: `queries`, `query`, `sparql`, `why`, `stats`, `audit` (each runs on the
embedded graph or, with `--endpoint`, on any SPARQL 1.1 endpoint)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli.base import ENDPOINT, FINDINGS, OUTPUT, TIMEOUT, _emit, _engine, _layout, answer_options, main
from kg.errors import KgError

if TYPE_CHECKING:
    from kg.query import Engine, Result


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True,
              help="md: the coverage report (docs/coverage.md); with --by-section only.")
@click.option("--by-section", is_flag=True, help="Claims, entities and citations per section of the report.")
@ENDPOINT
@TIMEOUT
@OUTPUT
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
    lines = []
    for q in catalog:
        params = " ".join(f"[-p {p.name}=<{p.type}>]" if not p.required else f"-p {p.name}=<{p.type}>"
                          for p in q.params)
        lines.append(f"{q.name:<32} {q.title}" + (f"\n{'':<32} {params}" if params else ""))
    _emit("\n".join(lines) + "\n", output)


def _answer_text(result: Result, fmt: str, engine: Engine, why: bool) -> str:
    """The answer in `fmt`; with `why`, the evidence of each row (as columns, or as a tree under a table)."""
    from kg.output import render

    if not why or result.boolean is not None:
        return render(result, fmt)
    from kg.evidence import to_text, with_evidence_columns
    from kg.output import human

    extended, per_row = with_evidence_columns(engine, result)
    if fmt not in ("table", "md"):
        return render(extended, fmt)
    parts = [render(result, fmt)]
    for number, (row, items) in enumerate(zip(result.rows, per_row, strict=True), start=1):
        title = " | ".join(human(t) for t in row if t is not None)[:100]
        parts.append(f"\nrow {number}: {title}\n")
        parts.append((to_text(items) if items else "    (no claim found for the terms of this row)") + "\n")
    return "".join(parts)


@main.command("query")
@click.argument("name")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter value (repeatable).")
@answer_options
@click.pass_context
def query_command(ctx: click.Context, name: str, params: tuple[str, ...], fmt: str, limit: int | None, why: bool,
                  endpoint: str | None, timeout: float, output: Path | None) -> None:
    """Answer the stored question NAME (see `kg queries`)."""
    from kg.catalog import find
    from kg.params import bind, parse_assignments

    stored = find(_layout(ctx).queries_dir, name)
    bindings = bind(stored, parse_assignments(params))
    engine = _engine(ctx, endpoint, timeout)
    _emit(_answer_text(engine.select(stored.sparql, bindings, limit=limit), fmt, engine, why), output, fmt)


@main.command("sparql")
@click.argument("query_text", required=False, metavar="QUERY")
@click.option("-f", "--file", "query_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Read the query from this file ('-' for standard input).")
@answer_options
@click.pass_context
def sparql_command(ctx: click.Context, query_text: str | None, query_file: Path | None, fmt: str, limit: int | None,
                   why: bool, endpoint: str | None, timeout: float, output: Path | None) -> None:
    """Run an ad-hoc read-only SPARQL SELECT or ASK query (updates and, on the embedded graph, SERVICE are refused)."""
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
    engine = _engine(ctx, endpoint, timeout)
    _emit(_answer_text(engine.select(query_text, limit=limit), fmt, engine, why), output, fmt)


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
@ENDPOINT
@TIMEOUT
@OUTPUT
@click.pass_context
def audit_command(ctx: click.Context, names: tuple[str, ...], fmt: str, fail_on: str, source_text: Path | None,
                  list_only: bool, endpoint: str | None, timeout: float, output: Path | None) -> None:
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
    _emit(audits.render(report, fmt), output, fmt)
    ctx.exit(0 if report.passed else FINDINGS)


@main.command("why")
@click.argument("term")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@ENDPOINT
@TIMEOUT
@OUTPUT
@click.pass_context
def why_command(ctx: click.Context, term: str, fmt: str, endpoint: str | None, timeout: float,
                output: Path | None) -> None:
    """The evidence tree of TERM (an IRI, a CURIE or a label): claims, quotes, footnotes, sources, grades, conflicts."""
    from kg.evidence import explain, explanation_to_dict, explanation_to_text

    explanation = explain(_engine(ctx, endpoint, timeout), term)
    if fmt == "json":
        _emit(json.dumps(explanation_to_dict(explanation), ensure_ascii=False, indent=2) + "\n", output, fmt)
    else:
        _emit(explanation_to_text(explanation), output)


