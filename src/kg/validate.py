"""SHACL validation of the data (plus ontology) against `ontology/shapes/` with pyshacl.

The data graph is the union of ontology, vocabularies and data in one plain rdflib Graph (not a Dataset:
pyshacl 0.40 validates a Dataset's union and mutates it), so shapes can follow rdfs:subClassOf and read
`ckg:requiresClaim` from the ontology. No inference is run: the shapes say exactly what they check. The shapes
whose focus nodes come from a SPARQL query run on pyoxigraph (kg.shacl_sparql), the others on pyshacl; the
findings are pyshacl's own for all of them (tests/test_shacl_sparql.py).

Three things SHACL alone would get wrong are handled here:

* An ill-typed literal (`"abc"^^xsd:date`) is not caught by any shape unless one happens to say
  `sh:datatype` for that property, and rdflib reports it only as a traceback on stderr. Every literal of the
  data is checked (rdflib's `Literal.ill_typed`, plus the XSD lexical rules for the datatypes rdflib does not
  check, such as xsd:gYear), each bad one is a Violation of `kg:well-typed-literals`, and rdflib's logging
  and warnings are silenced while the graphs are built and validated.
* No shapes, or no data, would "conform" vacuously: both are a KgError instead.
* pyshacl nests the results behind an `sh:node` (or `sh:qualifiedValueShape`) violation under `sh:detail`;
  only the report's own `sh:result`s are findings, so the count matches pyshacl's and Jena's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kg import shacl_sparql
from kg.errors import KgError
from kg.graph import compact, rdflib_graph
from kg.layout import Layout

if TYPE_CHECKING:
    import rdflib
    from rdflib.term import Node

SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
WELL_TYPED = "kg:well-typed-literals"


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

    def to_text(self, width: int | None = None) -> str:
        """Each finding (what, then why and the shape), then the verdict; wrapped to `width` (default: the
        terminal's) at words, so that no IRI or CURIE is cut."""
        from kg.output import wrap

        lines = []
        for f in self.findings:
            what = f"{f.severity}: {f.focus}" + (f" {f.path}" if f.path else "") + (f" = {f.value}" if f.value else "")
            lines += wrap(what, width, "    ", "") + wrap(f"{f.message}  [{f.shape}]", width, "    ")
        verdict = "conforms" if self.conforms else f"does not conform: {len(self.violations)} violation(s)"
        others = len(self.findings) - len(self.violations)
        tail = f", {others} warning(s) or note(s)" if others else ""
        lines += wrap(f"Validation of {self.triples} triples: {verdict}{tail}.", width, "    ", "")
        return "\n".join(lines)


def validate_files(layout: Layout, data_files: list[Path] | None = None) -> Report:
    """Validate `data_files` (default: the layout's data) together with the layout's ontology.

    Raises KgError when there is nothing to validate against (no shapes) or nothing to validate (no data
    files): a report saying "conforms" would then be true only vacuously, and would hide a misspelled folder.
    """
    import pyshacl

    data_paths = layout.data_files() if data_files is None else list(data_files)
    if not data_paths:
        where = f"in {layout.data_dir}" if data_files is None else "given"
        raise KgError(f"no data files {where}: nothing to validate")
    shape_paths = layout.shapes_files()
    if not shape_paths:
        raise KgError(f"no SHACL shapes in {layout.shapes_dir}: nothing to validate against")
    with quiet_rdflib():
        with lexical_forms_kept():
            data = rdflib_graph(layout.ontology_files() + data_paths)
        shapes = rdflib_graph(shape_paths)
        if not count_shapes(shapes):
            raise KgError(f"no SHACL shapes in {layout.shapes_dir}: nothing to validate against")
        ill_typed = ill_typed_findings(data)
        sparql_shapes, others = shacl_sparql.split(shapes)
        store = shacl_sparql.store_of(data)
        found = [_finding(r, data) for r in shacl_sparql.evaluate(store, sparql_shapes, data)]
        conforms = not any(f.severity == "Violation" for f in found)
        if count_shapes(others):
            # in place: `data` is this call's own graph and the shapes hold no SHACL rules (a test checks), so
            # nothing writes to it and pyshacl's copy of it (a third of a small validation's time) is not needed
            pyshacl_conforms, results, text = pyshacl.validate(
                data, shacl_graph=others, inference="none", advanced=True, allow_warnings=True, inplace=True
            )
            if not hasattr(results, "subjects"):  # pyshacl returns its error instead of a results graph
                raise KgError(f"the shapes could not be run: {str(text).strip().splitlines()[-1][:300]}")
            conforms = conforms and bool(pyshacl_conforms)
            found += _findings(results, data, others)
        findings = _sorted(found + ill_typed)
    return Report(conforms=conforms and not ill_typed, findings=findings, triples=len(data))


def _finding(result: shacl_sparql.Result, data: rdflib.Graph) -> Finding:
    """A result of a SPARQL-target shape (kg.shacl_sparql) as a Finding, shown as pyshacl's results are."""
    return Finding(
        severity=result.severity.rsplit("#", 1)[-1],
        focus=_show(result.focus) if not _is_blank(result.focus) else _describe_blank(data, result.focus, _show),
        path=_show(result.path) if not _is_blank(result.path) else "[path]",
        value=_show(result.value),
        message=result.message,
        shape=_show(result.shape),
    )


@contextlib.contextmanager
def quiet_rdflib() -> Iterator[None]:
    """Keep rdflib from writing to stderr while the block runs, then restore its loggers and warnings.

    rdflib logs a full traceback ("Failed to convert Literal lexical form to value") through the `rdflib.term`
    logger for every ill-typed literal it builds, and warns (`warnings.warn`) about a "weird boolean". The
    library reports those literals as findings instead, so the noise is dropped here. Raising the level of the
    `rdflib` logger silences its children that have no level of their own; `rdflib.term` (and any other
    `rdflib.*` logger already made) is also raised and disabled explicitly, in case someone set its level.
    """
    names = ["rdflib", "rdflib.term"] + [
        name for name in list(logging.root.manager.loggerDict) if name.startswith("rdflib.")
    ]
    saved = []
    for name in dict.fromkeys(names):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.CRITICAL + 1)
        logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


@contextlib.contextmanager
def lexical_forms_kept() -> Iterator[None]:
    """Build rdflib literals with the lexical forms the files hold, not rdflib's normalized ones.

    By default rdflib rewrites a literal from its value: `"01"^^xsd:integer` becomes `"1"`, and the ill-typed
    `"maybe"^^xsd:boolean` becomes `"false"`, hiding the error it should report. Kept as written, the data is
    the same terms the query store holds (RDF term equality, as sh:in and sh:hasValue use). pyshacl sets the
    same flag while it loads shapes; it is restored afterwards."""
    import rdflib

    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def count_shapes(shapes: rdflib.Graph) -> int:
    """How many shapes `shapes` declares: typed sh:NodeShape or sh:PropertyShape, or implied by a target or by
    being a value of sh:property (SHACL 2.1). Zero means every graph would "conform"."""
    from rdflib import RDF, URIRef

    found: set[Node] = set()
    for kind in ("NodeShape", "PropertyShape"):
        found.update(shapes.subjects(RDF.type, URIRef(SH + kind)))
    for target in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
        found.update(shapes.subjects(URIRef(SH + target), None))
    found.update(shapes.objects(None, URIRef(SH + "property")))
    return len(found)


# --- Ill-typed literals -----------------------------------------------------------------------------------
# XSD 1.1 Part 2 lexical spaces for the datatypes rdflib leaves unchecked (`ill_typed` is None) or accepts too
# loosely (it reads xsd:dateTime with Python's `fromisoformat`, which takes "2020-01-01" without a time).
# rdflib's check still runs as well, and catches what a pattern cannot, such as 2023-02-30.

_TZ = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?([1-9]\d{3,}|0\d{3})"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12]\d|3[01])"
_TIME = r"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?|24:00:00(\.0+)?)"
_DECIMAL = r"[+-]?(\d+(\.\d*)?|\.\d+)"
LEXICAL: dict[str, re.Pattern[str]] = {
    XSD + name: re.compile(pattern)
    for name, pattern in {
        "boolean": r"true|false|1|0",
        "integer": r"[+-]?\d+",
        "decimal": _DECIMAL,
        "double": rf"{_DECIMAL}([eE][+-]?\d+)?|[+-]?INF|NaN",
        "float": rf"{_DECIMAL}([eE][+-]?\d+)?|[+-]?INF|NaN",
        "date": rf"{_YEAR}-{_MONTH}-{_DAY}{_TZ}",
        "time": rf"{_TIME}{_TZ}",
        "dateTime": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}",
        "dateTimeStamp": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))",
        "gYear": rf"{_YEAR}{_TZ}",
        "gYearMonth": rf"{_YEAR}-{_MONTH}{_TZ}",
        "gMonth": rf"--{_MONTH}{_TZ}",
        "gDay": rf"---{_DAY}{_TZ}",
        "gMonthDay": rf"--{_MONTH}-{_DAY}{_TZ}",
    }.items()
}
# The longest day of each month in any year (February 29 in leap years), for xsd:gMonthDay.
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_ill_typed(literal: rdflib.Literal) -> bool:
    """Whether `literal`'s lexical form is not in its datatype's lexical space.

    XSD's whiteSpace facet is `collapse` for all of these datatypes, so leading and trailing spaces are
    allowed, as rdflib allows them."""
    if literal.ill_typed:
        return True
    pattern = LEXICAL.get(str(literal.datatype)) if literal.datatype is not None else None
    if pattern is None:
        return False
    text = str(literal).strip(" \t\n\r")
    if not pattern.fullmatch(text):
        return True
    if str(literal.datatype) == XSD + "gMonthDay":
        month, day = int(text[2:4]), int(text[5:7])
        return day > MONTH_DAYS[month - 1]
    return False


def ill_typed_findings(data: rdflib.Graph) -> list[Finding]:
    """One Violation per triple whose object is an ill-typed literal: focus the subject, path the predicate.

    A literal is built (and rdflib decides `ill_typed`) when the graph is; call this inside `quiet_rdflib`,
    because asking rdflib about a literal's value can log again."""
    from rdflib import Literal

    findings = []
    for subject, predicate, value in data:
        if not isinstance(value, Literal) or not is_ill_typed(value):
            continue
        datatype = compact(str(value.datatype))
        findings.append(
            Finding(
                severity="Violation",
                focus=_show(subject) if not _is_blank(subject) else _describe_blank(data, subject, _show),
                path=_show(predicate),
                value=_show(value),
                message=f"ill-typed literal: {_show(value)} is not a valid {datatype}",
                shape=WELL_TYPED,
            )
        )
    return findings


def _show(term: Node | None) -> str:
    """A term for people: IRIs compacted, blank nodes named as such, literals quoted and cut at 80 characters."""
    from rdflib import BNode, Literal, URIRef

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


def _is_blank(term: Node | None) -> bool:
    from rdflib import BNode

    return isinstance(term, BNode)


def report_results(results: rdflib.Graph) -> list[Node]:
    """The results of the validation report: the objects of `sh:result` of each `sh:ValidationReport`.

    Results reached only through `sh:detail` (the reasons behind an sh:node or sh:qualifiedValueShape
    violation) are part of their parent result, not findings of their own; counting them would report more
    violations than pyshacl and Jena do."""
    from rdflib import RDF, URIRef

    found: list[Node] = []
    for report in results.subjects(RDF.type, URIRef(SH + "ValidationReport")):
        found.extend(r for r in results.objects(report, URIRef(SH + "result")) if r not in found)
    return found


def _details(results: rdflib.Graph, result: Node, limit: int = 3) -> list[str]:
    """The messages of the first `limit` results nested under `result` by sh:detail (pyshacl's own message
    says "See details for more information", so the details are shown with it)."""
    from rdflib import URIRef

    messages = []
    for detail in results.objects(result, URIRef(SH + "detail")):
        message = results.value(detail, URIRef(SH + "resultMessage"))
        if message is not None:
            messages.append(str(message))
    return sorted(messages)[:limit]


def _findings(results: rdflib.Graph, data: rdflib.Graph, shapes: rdflib.Graph) -> list[Finding]:
    """The report's results as Findings: shapes named by their node shape, blank focus nodes described."""
    from rdflib import BNode, URIRef

    findings = []
    for result in report_results(results):
        def one(prop: str, result: Node = result) -> Node | None:
            return results.value(result, URIRef(SH + prop))

        severity = one("resultSeverity")
        shape = one("sourceShape")
        parent = shapes.value(None, URIRef(SH + "property"), shape) if isinstance(shape, BNode) else None
        shape_name = _show(parent or shape) if not isinstance(parent or shape, BNode) else "[shape]"
        focus = one("focusNode")
        message = str(one("resultMessage") or "")
        details = _details(results, result)
        if details:
            message += " Details: " + "; ".join(details)
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=_show(focus) if not isinstance(focus, BNode) else _describe_blank(data, focus, _show),
                path=_show(one("resultPath")) if not isinstance(one("resultPath"), BNode) else "[path]",
                value=_show(one("value")),
                message=message,
                shape=shape_name,
            )
        )
    return findings


def _sorted(findings: list[Finding]) -> list[Finding]:
    """Violations first, then warnings and notes; within each, by shape, focus, path and value."""
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return sorted(findings, key=lambda f: (order.get(f.severity, 3), f.shape, f.focus, f.path, f.value))


def _describe_blank(data: rdflib.Graph, node: Node, show: Callable[[Node | None], str]) -> str:
    """Name a blank node by the IRI that points at it, e.g. `claim:x oa:hasSelector [...]`."""
    for subject, predicate in data.subject_predicates(node):
        return f"{show(subject)} {show(predicate)} [...]"
    return "[blank node]"
