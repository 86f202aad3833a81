"""Where a graph's files live.

A graph folder has the design card's layout: `ontology/` (OWL in Turtle, SHACL shapes in
`ontology/shapes/`), `data/triples/` (the facts and claims, any depth) and `queries/` (stored questions).
The bundled graph ships inside the installed package (`kg/_bundle`), so a plain `pip install` can answer
questions; in a source checkout the repository itself is the bundle. `kg --data DIR` points at another
folder; a part it lacks (say, it has only `data/triples/`) falls back to the bundled one, so users can
replace the data and keep the ontology, shapes and questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError

PARTS = ("ontology", "data/triples", "queries")


def bundled_root() -> Path:
    """The folder holding the bundled graph: the installed copy, else the source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_bundle"
    if (installed / "ontology").is_dir():
        return installed
    checkout = here.parents[1]
    if (checkout / "ontology").is_dir() and (checkout / "data" / "triples").is_dir():
        return checkout
    raise KgError("the bundled graph is missing from this installation; reinstall crossroads-kg")


@dataclass(frozen=True)
class Layout:
    """Resolved folders of one graph."""

    ontology_dir: Path
    data_dir: Path
    queries_dir: Path

    @property
    def shapes_dir(self) -> Path:
        return self.ontology_dir / "shapes"

    @property
    def audits_dir(self) -> Path:
        """Audit checks: stored SPARQL queries with a severity (`kg audit`)."""
        return self.queries_dir / "audits"

    @property
    def federated_dir(self) -> Path:
        """Federated questions that join the graph with an external endpoint (`kg link`)."""
        return self.queries_dir / "federated"

    def ontology_files(self) -> list[Path]:
        """The OWL ontology and its vocabularies (not the shapes)."""
        return sorted(self.ontology_dir.glob("*.ttl"))

    def shapes_files(self) -> list[Path]:
        return sorted(self.shapes_dir.glob("*.ttl"))

    def data_files(self) -> list[Path]:
        return sorted(self.data_dir.rglob("*.ttl"))

    def graph_files(self) -> list[Path]:
        """Everything that makes up the queryable graph: ontology, vocabularies and data."""
        return self.ontology_files() + self.data_files()


def resolve(data: Path | None = None) -> Layout:
    """The layout of `data` (a graph folder), or of the bundled graph when `data` is None."""
    bundled = bundled_root()
    if data is None:
        return Layout(bundled / "ontology", bundled / "data" / "triples", bundled / "queries")
    root = Path(data)
    if not root.is_dir():
        raise KgError(f"--data {root}: no such folder")
    present = [part for part in PARTS if (root / part).is_dir()]
    if not present:
        raise KgError(f"--data {root}: has none of {', '.join(p + '/' for p in PARTS)}")

    def pick(part: str) -> Path:
        return root / part if (root / part).is_dir() else bundled / part

    return Layout(pick("ontology"), pick("data/triples"), pick("queries"))
