"""SHACL validation of the data (plus ontology) against `ontology/shapes/` with pyshacl.

The data graph is the union of ontology, vocabularies and data in one plain rdflib Graph (not a Dataset:
pyshacl 0.40 validates a Dataset's union and mutates it), so shapes can follow rdfs:subClassOf and read
`ckg:requiresClaim` from the ontology. No inference is run: the shapes say exactly what they check.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from kg.errors import KgError
from kg.graph import compact, rdflib_graph
from kg.layout import Layout

SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, with IRIs compacted for people."""

    severity: str
    focus: str
    path: str
    value: str
    message: str
    shape: str


@dataclass(frozen=True)
class Report:
    conforms: bool
    findings: list[Finding]
    triples: int

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    def to_json(self) -> str:
        return json.dumps(
            {"conforms": self.conforms, "triples": self.triples, "results": [asdict(f) for f in self.findings]},
            ensure_ascii=False,
            indent=2,
        )

    def to_text(self) -> str:
        lines = [
            f"{f.severity}: {f.focus}" + (f" {f.path}" if f.path else "") + (f" = {f.value}" if f.value else "")
            + f"\n    {f.message}  [{f.shape}]"
            for f in self.findings
        ]
        verdict = "conforms" if self.conforms else f"does not conform: {len(self.violations)} violation(s)"
        others = len(self.findings) - len(self.violations)
        tail = f", {others} warning(s) or note(s)" if others else ""
        lines.append(f"Validation of {self.triples} triples: {verdict}{tail}.")
        return "\n".join(lines)


def validate_files(layout: Layout, data_files: list | None = None) -> Report:
    """Validate `data_files` (default: the layout's data) together with the layout's ontology."""
    import pyshacl

    files = layout.ontology_files() + (layout.data_files() if data_files is None else list(data_files))
    data = rdflib_graph(files)
    shapes = rdflib_graph(layout.shapes_files())
    conforms, results, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    if not hasattr(results, "subjects"):  # pyshacl returns its error instead of a results graph
        raise KgError(f"the shapes could not be run: {str(text).strip().splitlines()[-1][:300]}")
    return Report(conforms=bool(conforms), findings=_findings(results, data, shapes), triples=len(data))


def _findings(results, data, shapes) -> list[Finding]:  # type: ignore[no-untyped-def]
    from rdflib import RDF, BNode, Literal, URIRef

    def show(term) -> str:  # type: ignore[no-untyped-def]
        if term is None:
            return ""
        if isinstance(term, URIRef):
            return compact(str(term))
        if isinstance(term, BNode):
            return "[blank node]"
        if isinstance(term, Literal):
            text = str(term)
            return json.dumps(text[:80] + ("…" if len(text) > 80 else ""), ensure_ascii=False)
        return str(term)

    findings = []
    for result in results.subjects(RDF.type, URIRef(SH + "ValidationResult")):
        def one(prop: str, result=result):  # type: ignore[no-untyped-def]
            return results.value(result, URIRef(SH + prop))

        severity = one("resultSeverity")
        shape = one("sourceShape")
        parent = shapes.value(None, URIRef(SH + "property"), shape) if isinstance(shape, BNode) else None
        shape_name = show(parent or shape) if not isinstance(parent or shape, BNode) else "[shape]"
        focus = one("focusNode")
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=show(focus) if not isinstance(focus, BNode) else _describe_blank(data, focus, show),
                path=show(one("resultPath")) if not isinstance(one("resultPath"), BNode) else "[path]",
                value=show(one("value")),
                message=str(one("resultMessage") or ""),
                shape=shape_name,
            )
        )
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    findings.sort(key=lambda f: (order.get(f.severity, 3), f.shape, f.focus, f.path, f.value))
    return findings


def _describe_blank(data, node, show) -> str:  # type: ignore[no-untyped-def]
    """Name a blank node by the IRI that points at it, e.g. `claim:x oa:hasSelector [...]`."""
    for subject, predicate in data.subject_predicates(node):
        return f"{show(subject)} {show(predicate)} [...]"
    return "[blank node]"
