"""Generated documentation pages, from the Jinja2 templates in `kg/templates/`: the query catalog
(docs/queries.md) and the coverage report (docs/coverage.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg.catalog import StoredQuery
from kg.prose import render

if TYPE_CHECKING:
    from kg.stats import Stats


def coverage_markdown(totals: Stats, sections: Stats) -> str:
    """docs/coverage.md: what the graph holds per section of the report (template `coverage.md.j2`)."""
    return render("coverage.md.j2", totals=totals, sections=sections)


def catalog_markdown(catalog: list[StoredQuery]) -> str:
    """docs/queries.md: the stored questions, their parameters and what each answers (`queries.md.j2`)."""
    return render("queries.md.j2", catalog=catalog)
