"""Every quote in the data occurs verbatim in the report (read from ../shared/report/, skipped without it).

A quote that occurs more than once must carry an oa:prefix that makes it unique. The data stores only
short quotes: none may exceed the length of a long sentence.
"""

from __future__ import annotations

import pytest
import rdflib

from tests.conftest import REPORT

OA = rdflib.Namespace("http://www.w3.org/ns/oa#")


def _quotes() -> list[tuple[str, str, str | None]]:
    from kg.layout import resolve

    out = []
    for path in resolve().data_files():
        graph = rdflib.Graph().parse(path, format="turtle")
        for selector, exact in graph.subject_objects(OA.exact):
            prefix = graph.value(selector, OA.prefix)
            out.append((path.name, str(exact), None if prefix is None else str(prefix)))
    return sorted(out)


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
