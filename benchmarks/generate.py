"""Grow the bundled graph, in the shape of the real data, to a target number of triples.

Every IRI under https://w3id.org/crossroads-kg/id/ that is not a shared name (places, substances, the report,
its sections, units, vocabulary) is copied with a suffix, and blank nodes are renamed per copy, so each copy
adds the same mix of claims, events, routes, roles and citations as the report itself while joining on the
same places and substances. The ontology and vocabularies are kept once.

    python benchmarks/generate.py 100000 /tmp/kg-100k.nt
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox

from kg.graph import iter_triples
from kg.layout import resolve

ID = "https://w3id.org/crossroads-kg/id/"
SHARED = ("place/", "substance/", "report/", "section/")


def generate(target: int, out: Path) -> int:
    layout = resolve()
    schema = list(iter_triples(layout.ontology_files()))
    data = list(iter_triples(layout.data_files()))
    copies = max(1, -(-(target - len(schema)) // len(data)))

    def rename(term, k: int):  # type: ignore[no-untyped-def]
        local = term.value[len(ID):] if isinstance(term, ox.NamedNode) and term.value.startswith(ID) else None
        if local is not None and k and not local.startswith(SHARED):
            return ox.NamedNode(f"{term.value}-c{k}")
        if isinstance(term, ox.BlankNode):
            return ox.BlankNode(f"{term.value}c{k}")
        return term

    def triples():  # type: ignore[no-untyped-def]
        yield from schema
        written = len(schema)
        for k in range(copies):
            for t in data:
                if written >= target:
                    return
                yield ox.Triple(rename(t.subject, k), t.predicate, rename(t.object, k))
                written += 1

    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        ox.serialize(triples(), handle, format=ox.RdfFormat.N_TRIPLES)
    tmp.replace(out)
    return sum(1 for _ in out.open("rb"))


if __name__ == "__main__":
    size, target_path = int(sys.argv[1]), Path(sys.argv[2])
    print(f"{generate(size, target_path)} triples written to {target_path}")
