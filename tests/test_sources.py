"""Footnotes and sources, checked against the report's own notes (read independently of the data)."""

from __future__ import annotations

import re

import pytest
import rdflib

CKG = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
CITE = "https://w3id.org/crossroads-kg/id/citation/"


def report_notes(report_text: str) -> dict[int, str]:
    """Note number → its text, from the NOTES section of the report."""
    notes_part = report_text.split("\nNOTES\n", 1)[1]
    notes: dict[int, str] = {}
    current = None
    for line in notes_part.splitlines():
        match = re.match(r"^\s*-\s+(\d{1,2})\s+(.*)$", line)
        if match and int(match.group(1)) == (current or 0) + 1:
            current = int(match.group(1))
            notes[current] = match.group(2)
        elif current and line.strip() and not line.startswith("**"):
            notes[current] += " " + line.strip().lstrip("- ")
        if current == 88 and not line.strip():
            break
    return notes


def test_all_88_footnotes_are_citations(data_graph) -> None:  # type: ignore[no-untyped-def]
    numbers = sorted(int(n) for n in data_graph.objects(None, CKG.noteNumber))
    assert numbers == list(range(1, 89))


def test_ibid_notes_resolve_to_the_previous_note(data_graph, report_text: str) -> None:  # type: ignore[no-untyped-def]
    expected = {n: n - 1 for n, text in report_notes(report_text).items() if text.strip().startswith("Ibid")}
    assert expected == {7: 6, 11: 10, 36: 35, 51: 50, 75: 74}
    found = {
        int(data_graph.value(note, CKG.noteNumber)): int(data_graph.value(target, CKG.noteNumber))
        for note, target in data_graph.subject_objects(CKG.ibidOf)
    }
    assert found == expected


@pytest.mark.parametrize("number", range(1, 89))
def test_footnote_resolves_to_typed_sources(data_graph, number: int) -> None:  # type: ignore[no-untyped-def]
    note = rdflib.URIRef(f"{CITE}note-{number:02d}")
    sources = list(data_graph.objects(note, PROV.hadPrimarySource))
    assert sources, f"note {number} has no source"
    for source in sources:
        assert data_graph.value(source, CKG.sourceType) is not None, f"{source} has no type"


def test_source_urls_are_given_by_the_report(data_graph, report_text: str) -> None:  # type: ignore[no-untyped-def]
    # Note 15's URL is broken across two lines by the PDF extraction ("…/knb/>" then "- press/…"): join it.
    flat = re.sub(r"\s+", "", re.sub(r"/>\s*-\s*", "/", report_text))
    invented = [str(url) for url in data_graph.objects(None, CKG.url) if re.sub(r"\s+", "", str(url)) not in flat]
    assert invented == []


def test_every_footnote_url_is_recorded(data_graph, report_text: str) -> None:  # type: ignore[no-untyped-def]
    recorded = {re.sub(r"\s+", "", str(url)) for url in data_graph.objects(None, CKG.url)}
    urls = set()
    for text in report_notes(report_text).values():
        text = re.sub(r"/>\s+(?=[a-z])", "/", text)  # note 15's URL, broken across lines by the extraction
        for url in re.findall(r"<(https?://[^\s>]+)", text):
            urls.add(url.rstrip(";"))
    missing = sorted(u for u in urls if u not in recorded)
    assert missing == []
