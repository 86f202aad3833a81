"""OWL 2 DL reasoning over the ontology with owlready2 and HermiT.

owlready2 cannot read Turtle, so the ontology (classes, properties, vocabularies) is handed to it as
N-Triples made from the same parse as every other command. HermiT runs on Java; Pellet is not used
(owlready2 0.50+ ships a Pellet built for Java 25, which fails on the Java 17 found here).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KgError
from kg.graph import compact, rdflib_graph
from kg.layout import Layout


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


def reason(layout: Layout, extra_files: Sequence[Path] | None = None) -> ReasonerReport:
    """Check the ontology (plus `extra_files`, e.g. a test fixture) for consistency and unsatisfiable classes."""
    if shutil.which(os.environ.get("KG_JAVA", "java")) is None:
        raise KgError("the OWL reasoner (HermiT) needs a Java runtime: install one, e.g. default-jre-headless")
    import owlready2

    owlready2.JAVA_EXE = os.environ.get("KG_JAVA", "java")
    graph = rdflib_graph(layout.ontology_files() + list(extra_files or []))
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
        individuals = len(list(world.individuals()))
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
