"""The `kg` group and what every command shares: the options, writing the answer, and the error contract —
each KgError is one `kg:` line on stderr with exit 2 (with the flag or command that helps, which the
library's messages never name), findings exit 1, and `run`, the console entry point, adds the watchdog and
one-line usage errors."""

from __future__ import annotations

import contextlib
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
    from kg.query import Engine

FINDINGS = 1

OUTPUT = click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
                      help="Write to this file (atomically) instead of standard output.")

ENDPOINT = click.option("--endpoint", default=None, metavar="URL",
                        help="Run on this SPARQL 1.1 endpoint instead of the embedded graph.")
TIMEOUT = click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                       help="Seconds a remote request may take, from connecting to the last byte of the answer.")
ROW_FORMATS = ["table", "csv", "tsv", "json", "md"]
GRAPH_FORMATS = ["ttl", "nt", "jsonld"]  # the graphs of CONSTRUCT and DESCRIBE: Turtle, N-Triples, JSON-LD
FORMAT = click.option("--format", "fmt", type=click.Choice(ROW_FORMATS), default="table", show_default=True)
WORKBOOK_FORMATS = ["xlsx"]  # answers as a spreadsheet: bytes, for a file (`-o FILE`), never for a terminal
ANSWER_FORMAT = click.option("--format", "fmt", type=click.Choice(ROW_FORMATS + WORKBOOK_FORMATS), default="table",
                             show_default=True, help="xlsx: an Excel workbook (with -o FILE); with --why it has "
                                                     "a sheet of the evidence.")
ANY_FORMAT = click.option("--format", "fmt", type=click.Choice(ROW_FORMATS + WORKBOOK_FORMATS + GRAPH_FORMATS),
                          default=None, help="Rows: table (the default), csv, tsv, json, md, xlsx (an Excel "
                                             "workbook, with -o FILE). Graphs (CONSTRUCT, DESCRIBE): ttl (the "
                                             "default), nt, jsonld.")
LIMIT = click.option("--limit", type=click.IntRange(min=0), default=None, help="Return at most N rows.")
WHY = click.option("--why", is_flag=True,
                   help="Add, for each row, the claims it rests on: quote, section, footnote, source, status, grade.")



def reading_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of every command that reads the graph (`stats`, `why`, `audit`, `search`, `link report`):
    an endpoint instead of the embedded graph, its timeout, and an output file."""
    for option in (OUTPUT, TIMEOUT, ENDPOINT):
        command = option(command)
    return command


def answer_options(command: Callable[..., None], fmt: Callable[..., Any] = ANSWER_FORMAT) -> Callable[..., None]:
    """The options of every command that answers with rows (`query`, `sparql`): format, limit, why, endpoint,
    timeout and output file."""
    for option in (WHY, LIMIT, fmt):
        command = option(command)
    return reading_options(command)


def answer_or_graph_options(command: Callable[..., None]) -> Callable[..., None]:
    """`answer_options` for a command whose answer may also be a graph (`sparql`): `--format` takes the graph
    formats too, and has no default (it depends on the query's form)."""
    return answer_options(command, ANY_FORMAT)


EXACT_FORMATS = ("csv", "tsv", "json", *GRAPH_FORMATS)  # graph formats escape what a terminal obeys themselves


def check_destination(fmt: str, output: Path | None) -> None:
    """A workbook goes to a file: `-o FILE`, or `-o -` into a pipe, never onto a terminal (checked before the
    question is asked)."""
    from kg.files import is_stdout

    if fmt in WORKBOOK_FORMATS and (output is None or (is_stdout(output) and sys.stdout.isatty())):
        raise KgError(f"--format {fmt} writes a workbook, which a terminal cannot show: give -o FILE")


def _emit(text: str | bytes, output: Path | None, fmt: str = "text") -> None:
    """Print, or write the file atomically (kg.files); `-o -` is standard output. Text for people has its
    control characters shown as escapes (a quote in the data cannot drive the terminal); CSV, TSV and JSON
    keep every value exact; a workbook (bytes) goes to its file as it is."""
    if isinstance(text, bytes):
        check_destination(fmt, output)
        from kg.output import write_atomically

        assert output is not None  # (check_destination)
        write_atomically(output, text)
        return
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
            _excerpt(err)
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


def _excerpt(err: KgError) -> None:
    """Below a SPARQL syntax error, on a terminal only, the offending line with a caret: a person reads it there,
    while a program reading standard error still gets one `kg:` line (the line and column are in it)."""
    from kg.sparql import SparqlSyntaxError

    if isinstance(err, SparqlSyntaxError) and sys.stderr.isatty():
        from kg.output import terminal_width
        from kg.syntax import excerpt

        for line in excerpt(err, terminal_width()):
            click.echo(line, err=True)


def _say_note(ctx: click.Context) -> None:
    """The notes about the answer — the graph used (a part taken from the bundled graph), what a name was
    taken to mean, the defaults used — after the answer: on a failure the one `kg:` line is the error's."""
    obj = ctx.obj or {}
    for note in [obj.get("note"), *obj.get("notes", [])]:
        if note:
            click.echo(f"kg: {one_line(note)}", err=True)


def add_note(ctx: click.Context, text: str) -> None:
    """A note said on stderr after the answer (`note: …`), if the command succeeds."""
    ctx.obj.setdefault("notes", []).append(f"note: {text}")


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
            "federated question": "`kg link federated` lists them", "term": "`kg search TEXT` finds terms by name"}


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


def _engine(ctx: click.Context, endpoint: str | None, timeout: float) -> Engine:
    from kg.query import LocalEngine, RemoteEngine

    return RemoteEngine(endpoint, timeout) if endpoint else LocalEngine(_store(ctx))


def run(argv: list[str] | None = None) -> None:
    """The `kg` console entry point: the watchdog, then `invoke`, and its code as the process's exit code."""
    global _GUARDED
    _GUARDED = True
    sys.exit(invoke(argv))


def invoke(argv: list[str] | None = None) -> int:
    """Run the command line `argv` in this process and return its exit code, with one `kg:` line for usage
    errors and closed pipes (what `run` does, without the watchdog a test process must not get)."""
    if sys.stdout is None or sys.stderr is None:  # started with a closed descriptor
        if sys.stderr is not None:
            sys.stderr.write("kg: standard output is closed: there is nowhere to write the answer\n")
        return 2
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
    return code


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


