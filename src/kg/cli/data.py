"""Commands that check or move the graph itself: `validate` (SHACL), `reason` (HermiT), `load` (into a
server)."""

from __future__ import annotations

import json

import click

from kg.cli.base import FINDINGS, TIMEOUT, _emit, _layout, main


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


