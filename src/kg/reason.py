"""OWL 2 DL reasoning over the ontology and the data with owlready2 and HermiT.

owlready2 cannot read Turtle, so the graph (classes, properties, vocabularies and, unless asked otherwise,
every individual of the data) is handed to it as N-Triples made from the same parse as every other command.
HermiT runs on Java; Pellet is not used (owlready2 0.50+ ships a Pellet built for Java 25, which fails on the
Java 17 found here).

The data dates its facts with xsd:date, xsd:gYearMonth and xsd:gYear, by their precision; those datatypes
are outside the OWL 2 datatype map, and HermiT refuses a literal of any of them. The reasoner is given each
such date as the xsd:dateTime at which the day, month or year it names begins (`2023-03` → `2023-03-01T00:00:00`,
a timezone kept), which is in the map; no property of the ontology has a date range, so the choice of instant
cannot make the graph inconsistent, while a date where a string or a number is required still does. The
other datatypes outside the map (xsd:gMonthDay, gMonth, gDay, time, duration) are given as xsd:string.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import KgError
from kg.graph import compact, rdflib_graph
from kg.layout import Layout

if TYPE_CHECKING:
    import rdflib


@dataclass(frozen=True)
class ReasonerReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    classes: int = 0
    properties: int = 0
    individuals: int = 0
    explanation: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable

    def to_text(self) -> str:
        lines = [
            f"HermiT on {self.classes} classes, {self.properties} properties, {self.individuals} individuals:",
            "  consistent" if self.consistent else f"  INCONSISTENT: {self.explanation}",
        ]
        if self.unsatisfiable:
            lines.append(f"  {len(self.unsatisfiable)} unsatisfiable class(es): " + ", ".join(self.unsatisfiable))
        elif self.consistent:
            lines.append("  no unsatisfiable classes")
        return "\n".join(lines)


def java_error(text: str) -> str:
    """The Java exception and its message from a HermiT failure, on one line (not the stack trace)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("at ")]
    start = next((i for i, line in enumerate(lines) if "Exception" in line), None)
    message = " ".join(lines[start:start + 4]) if start is not None else (lines[-1] if lines else "no message")
    return message.replace('Exception in thread "main" ', "")[:400]


XSD = "http://www.w3.org/2001/XMLSchema#"
AS_DATETIME = {XSD + "date": "T00:00:00", XSD + "gYearMonth": "-01T00:00:00", XSD + "gYear": "-01-01T00:00:00"}
AS_STRING = {XSD + name for name in ("gMonthDay", "gMonth", "gDay", "time", "duration")}
_DATE = re.compile(r"^(-?\d{4,}(?:-\d{2}){0,2})(Z|[+-]\d{2}:\d{2})?$")


def for_the_reasoner(graph: rdflib.Graph) -> rdflib.Graph:
    """`graph` with its dates as xsd:dateTime and the other datatypes outside the OWL 2 datatype map as
    xsd:string (see the module docstring), in place."""
    from rdflib import Literal, URIRef

    changed = []
    for subject, predicate, value in graph:
        if not isinstance(value, Literal) or value.datatype is None:
            continue
        datatype = str(value.datatype)
        if datatype in AS_DATETIME:
            match = _DATE.match(str(value).strip())
            if match is None:  # ill-typed: kg validate reports it; the reasoner sees the text
                changed.append((subject, predicate, value, Literal(str(value))))
                continue
            start = match.group(1) + AS_DATETIME[datatype] + (match.group(2) or "")
            changed.append((subject, predicate, value, Literal(start, datatype=URIRef(XSD + "dateTime"))))
        elif datatype in AS_STRING:
            changed.append((subject, predicate, value, Literal(str(value))))
    for subject, predicate, old, new in changed:
        graph.remove((subject, predicate, old))
        graph.add((subject, predicate, new))
    return graph


def _individuals(graph: rdflib.Graph) -> int:
    """How many named things the graph types with one of its OWL classes (owlready2 counts only those declared
    owl:NamedIndividual; HermiT reads every class assertion)."""
    from rdflib import OWL, RDF, URIRef

    classes = set(graph.subjects(RDF.type, OWL.Class))
    return len({s for s, o in graph.subject_objects(RDF.type) if o in classes and isinstance(s, URIRef)})


def reason(layout: Layout, extra_files: Sequence[Path] | None = None, with_data: bool = True) -> ReasonerReport:
    """Check the ontology and (`with_data`) the data, plus `extra_files` (e.g. a test fixture), for consistency
    and unsatisfiable classes."""
    if shutil.which(os.environ.get("KG_JAVA", "java")) is None:
        raise KgError("the OWL reasoner (HermiT) needs a Java runtime: install one, e.g. default-jre-headless")
    import owlready2

    owlready2.JAVA_EXE = os.environ.get("KG_JAVA", "java")
    from kg.validate import lexical_forms_kept, quiet_rdflib

    data = layout.data_files() if with_data else []
    with quiet_rdflib(), lexical_forms_kept():  # a date keeps its timezone as written ("2023-03-15+05:00")
        graph = for_the_reasoner(rdflib_graph(layout.ontology_files() + data + list(extra_files or [])))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ontology.nt")
        graph.serialize(destination=path, format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            onto = world.get_ontology(f"file://{path}").load(format="ntriples")
        except Exception as err:  # owlready2 raises plain Exceptions on unreadable input
            raise KgError(f"owlready2 could not read the ontology: {err}") from None
        classes = len(list(world.classes()))
        properties = len(list(world.properties()))
        individuals = _individuals(graph)
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as err:
            lines = str(err).strip().splitlines() or ["HermiT reports the ontology inconsistent"]
            return ReasonerReport(consistent=False, explanation=lines[-1][:300], classes=classes,
                                   properties=properties, individuals=individuals)
        except owlready2.OwlReadyJavaError as err:
            raise KgError(f"HermiT failed: {java_error(str(err))}") from None
        unsatisfiable = sorted(
            compact(c.iri) for c in world.inconsistent_classes() if c.iri != "http://www.w3.org/2002/07/owl#Nothing"
        )
    return ReasonerReport(consistent=True, unsatisfiable=unsatisfiable, classes=classes,
                           properties=properties, individuals=individuals)
