"""Developer helper: how completely the data covers the report.

Usage: python tools/coverage.py notes|quotes|gaps|dups [--min 0.6]

  notes   footnotes 1–88 that no claim cites (prov:wasDerivedFrom), and body markers whose sentence has no
          claim citing that note
  quotes  per section, every claim's quote in the order it stands in the report (with its citation)
  gaps    sentences of the report (from the executive summary on) that claim quotes cover less than --min
  dups    candidate duplicates: roles with the same holder, role type and substances; events of one class
          with the same date and substances; measurements with the same indicator, place and substance;
          flows with the same from, to and cargo
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import rdflib
from rdflib import RDF

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT.parent / "shared" / "report" / "crossroads-kazakhstan-2023.txt"
CKG = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
ID = "https://w3id.org/crossroads-kg/id/"


def short(term: rdflib.term.Node) -> str:
    text = str(term)
    return text[len(ID):].replace("/", ":", 1) if text.startswith(ID) else text.rsplit("#", 1)[-1]


def load() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((ROOT / "data" / "triples").rglob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def claims(graph: rdflib.Graph, text: str) -> list[dict]:
    out = []
    for claim in graph.subjects(RDF.type, CKG.Claim):
        selector = graph.value(claim, OA.hasSelector)
        exact = str(graph.value(selector, OA.exact))
        prefix = graph.value(selector, OA.prefix)
        hits = [m.start() for m in re.finditer(re.escape(exact), text)]
        if prefix is not None:
            hits = [h for h in hits if text[:h].endswith(str(prefix))] or hits
        out.append({
            "claim": claim, "exact": exact, "pos": hits[0] if hits else -1,
            "section": short(graph.value(claim, CKG.section)),
            "cites": sorted(short(c) for c in graph.objects(claim, PROV.wasDerivedFrom)),
        })
    return out


def cmd_notes(graph: rdflib.Graph, text: str) -> None:
    cls = claims(graph, text)
    cited = {c for cl in cls for c in cl["cites"]}
    uncited = [n for n in range(1, 89) if f"citation:note-{n:02d}" not in cited]
    print(f"footnotes cited by at least one claim: {88 - len(uncited)} of 88; uncited: {uncited}")
    body_end = text.index("\nNOTES\n")
    for marker in re.finditer(f"[{SUP}]+", text[:body_end]):
        number = int(marker.group().translate(str.maketrans(SUP, "0123456789")))
        end = marker.start()
        starts = [m.end() for m in re.finditer(rf"[.?!;:][{SUP}]*\s+|\n\n|[{SUP}]", text[: end - 1])]
        start = starts[-1] if starts else 0
        key = f"citation:note-{number:02d}"
        if any(key in cl["cites"] and start <= cl["pos"] < end for cl in cls):
            continue
        # a sentence broken by a figure caption or a mid-sentence marker: a citing quote ends shortly before
        near = [cl for cl in cls
                if key in cl["cites"] and 0 <= cl["pos"] < end and end - cl["pos"] - len(cl["exact"]) < 700]
        if near:
            state = f"cited by a quote just before it ({short(near[0]['claim'])})"
        else:
            state = "its sentence cites it nowhere; the note is cited elsewhere" if key in cited else "NOT CITED"
        print(f"  marker {number}: {state}: {text[start:end][:100]!r}")


def cmd_quotes(graph: rdflib.Graph, text: str) -> None:
    by_section: dict[str, list[dict]] = {}
    for cl in claims(graph, text):
        by_section.setdefault(cl["section"], []).append(cl)
    order = {short(s): int(o) for s, o in graph.subject_objects(CKG.sectionOrder)}
    for section in sorted(by_section, key=lambda s: order.get(s, 99)):
        print(f"== {section}")
        for cl in sorted(by_section[section], key=lambda c: c["pos"]):
            line = text.count("\n", 0, cl["pos"]) + 1
            print(f"  L{line:<4} {short(cl['claim'])} [{', '.join(cl['cites'])}] {cl['exact'][:110]}")


def cmd_gaps(graph: rdflib.Graph, text: str, minimum: float) -> None:
    covered = bytearray(len(text))
    for cl in claims(graph, text):
        if cl["pos"] >= 0:
            covered[cl["pos"]: cl["pos"] + len(cl["exact"])] = b"\x01" * len(cl["exact"])
    start = text.index("EXECUTIVE SUMMARY")
    for line in re.finditer(r"[^\n]+", text[start:]):
        offset = start + line.start()
        for sentence in re.finditer(rf".+?(?:[.?!][’']?[{SUP}]*(?=\s|$)|$)", line.group()):
            a, b = offset + sentence.start(), offset + sentence.end()
            if b - a < 25:
                continue
            share = sum(covered[a:b]) / (b - a)
            if share < minimum:
                print(f"{share:.2f} L{text.count(chr(10), 0, a) + 1}: {text[a:b].strip()[:200]}")


def cmd_dups(graph: rdflib.Graph) -> None:
    def key(node: rdflib.term.Node, props: list) -> tuple:
        return tuple(tuple(sorted(short(o) for o in graph.objects(node, p))) for p in props)

    checks = [
        ("Role", [CKG.holder, CKG.roleType, CKG.substance]),
        ("Measurement", [CKG.indicator, CKG.place, CKG.substance, CKG.date]),
        ("Flow", [CKG["from"], CKG.to, CKG.carries, CKG.participant]),
    ] + [(c, [CKG.date, CKG.substance, CKG.place]) for c in (
        "Seizure", "Arrest", "LabDismantlement", "Clash", "PolicyAdoption", "JointOperation", "Prosecution")]
    for cls, props in checks:
        groups: dict[tuple, list[str]] = {}
        for node in graph.subjects(RDF.type, CKG[cls]):
            groups.setdefault(key(node, props), []).append(short(node))
        for k, nodes in groups.items():
            if len(nodes) > 1:
                print(cls, k, sorted(nodes))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"notes", "quotes", "gaps", "dups"}:
        print(__doc__)
        return 2
    graph, text = load(), REPORT.read_text(encoding="utf-8")
    if argv[0] == "notes":
        cmd_notes(graph, text)
    elif argv[0] == "quotes":
        cmd_quotes(graph, text)
    elif argv[0] == "gaps":
        minimum = float(argv[argv.index("--min") + 1]) if "--min" in argv else 0.6
        cmd_gaps(graph, text, minimum)
    else:
        cmd_dups(graph)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
