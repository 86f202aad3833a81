"""Finding terms by name: `kg search`, and the notes that say what a name given for a term was taken to mean
(`kg query -p place=Almaty`, `kg why Burkin`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli.base import FORMAT, _emit, _engine, add_note, main, reading_options

if TYPE_CHECKING:
    from kg.params import Bound
    from kg.search_names import Resolution


def resolution_note(resolution: Resolution, parameter: str | None = None) -> str:
    """`'Almaty' is place:almaty (Almaty)`; for a name that is not a whole name, 'is taken as'."""
    from kg.graph import compact

    given = (f"{parameter}=" if parameter else "") + repr(resolution.given)
    label = f" ({resolution.label})" if resolution.label else ""
    if resolution.how == "exact":
        return f"{given} is {compact(resolution.iri)}{label}"
    nearest = ", the nearest spelling" if resolution.how == "nearest spelling" else ""
    return f"{given} is taken as {compact(resolution.iri)}{label}{nearest}"


def defaults_line(bound: Bound) -> str:
    """`with place=place:shymkent (the default)` for the optional parameters left out, "" when none was."""
    from kg.output import human

    if not bound.defaults:
        return ""
    values = ", ".join(f"{name}={human(bound.terms[name])}" for name in bound.defaults)
    return f"with {values} (the default{'s' if len(bound.defaults) > 1 else ''})"


@main.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--class", "class_name", metavar="CLASS", default=None,
              help="Only terms of this class or a subclass: a CURIE, an IRI or a name (Place, ckg:City).")
@FORMAT
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show at most N matches.")
@reading_options
@click.pass_context
def search_command(ctx: click.Context, text: tuple[str, ...], class_name: str | None, fmt: str, limit: int,
                   endpoint: str | None, timeout: float, output: Path | None) -> None:
    """Find the terms whose names, alternative names, aliases or quotes contain TEXT (case, accents and small
    typos aside), best first, with their class and how many claims back them.

    The claims column is the number of claims `kg why TERM` shows: for an entity or a fact, the claims behind
    it (the stored question evidence-for-entity); for a claim, 1; for a citation, the claims citing it; for a
    source, the claims resting on it; 0 for anything `kg why` does not explain (a section, the report). In the
    snippet the matched words are marked **like this**."""
    from kg import search as searching
    from kg.output import render
    from kg.search_index import build

    engine = _engine(ctx, endpoint, timeout)
    index = build(engine)
    within = searching.class_named(index, class_name) if class_name is not None else None
    found = searching.search(index, " ".join(text), within)
    for word, near in found.corrections.items():
        spellings = " or ".join(repr(w) for w in near)
        add_note(ctx, f"no word in the graph starts with {word!r}; matched its nearest spelling, {spellings}"
                 if near else f"no word in the graph starts with {word!r} or is spelt like it")
    if len(found.hits) > limit:
        add_note(ctx, f"the first {limit} of {len(found.hits)} matches (--limit N shows more)")
    shown = [hit.term for hit in found.hits[:limit]]
    _emit(render(searching.to_result(found, searching.claim_counts(engine, shown), limit), fmt), output, fmt)
