"""Every quote in the data occurs verbatim in the report (read from ../shared/report/, skipped without it).

A quote that occurs more than once must carry an oa:prefix that makes it unique. The data stores only
short quotes: none may exceed the length of a long sentence.
"""

from __future__ import annotations

import pyoxigraph
import pytest

from tests.conftest import REPORT

OA = "http://www.w3.org/ns/oa#"


def _quotes() -> list[tuple[str, str, str | None]]:
    """(file, oa:exact, its oa:prefix or None) for every quote selector of the data. Read with pyoxigraph's
    parser (these cases are collected by every xdist worker, and rdflib's Turtle parser took ~1.3 s of each);
    the triples are the same (tests/test_graph.py compares the two parsers on these files)."""
    from kg.layout import resolve

    exact, prefix = pyoxigraph.NamedNode(OA + "exact"), pyoxigraph.NamedNode(OA + "prefix")
    out = []
    for path in resolve().data_files():
        triples = set(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
        prefixes = {t.subject: t.object.value for t in sorted(triples, key=str) if t.predicate == prefix}
        for t in triples:
            if t.predicate == exact:
                out.append((path.name, t.object.value, prefixes.get(t.subject)))
    return sorted(out, key=lambda q: (q[0], q[1], q[2] or ""))


QUOTES = _quotes()


def test_there_are_quotes() -> None:
    assert len(QUOTES) > 500


@pytest.mark.parametrize(("file", "exact", "prefix"), QUOTES, ids=[f"{q[0]}:{q[1][:40]}" for q in QUOTES])
def test_quote_is_verbatim(report_text: str, file: str, exact: str, prefix: str | None) -> None:
    assert exact in report_text, f"{file}: not verbatim in {REPORT.name}: {exact!r}"
    if prefix is not None:
        assert prefix + exact in report_text, f"{file}: prefix + quote not found: {prefix!r}"
    else:
        assert report_text.count(exact) == 1, f"{file}: quote occurs {report_text.count(exact)} times; add oa:prefix"


@pytest.mark.parametrize(("file", "exact", "prefix"), QUOTES, ids=[f"{q[0]}:{q[1][:40]}" for q in QUOTES])
def test_quote_is_short(file: str, exact: str, prefix: str | None) -> None:
    assert len(exact) <= 600, f"{file}: quote of {len(exact)} characters is a passage, not a sentence"
