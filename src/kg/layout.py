"""Where a graph's files live.

A graph folder has the design card's layout: `ontology/` (OWL in Turtle, SHACL shapes in
`ontology/shapes/`), `data/triples/` (the facts and claims, any depth) and `queries/` (stored questions).
The bundled graph ships inside the installed package (`kg/_bundle`), so a plain `pip install` can answer
questions; in a source checkout the repository itself is the bundle. `kg --data DIR` points at another
folder; a part it lacks (say, it has only `data/triples/`) falls back to the bundled one, so users can
replace the data and keep the ontology, shapes and questions.

A fallback is recorded (`Layout.fallbacks`) and `fallback_note` words it, so that the CLI can say so on
stderr: a misspelled `data/tripels/` would otherwise silently answer from the bundled data. The copy inside
the installed package is read-only: every library function that writes into a graph folder calls
`ensure_writable` first, which refuses (`Refused`) to write into it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError, Refused

PARTS = ("ontology", "data/triples", "queries")
# Folders an installer puts packages in: a `kg/_bundle` below one of them is the installed copy.
PACKAGE_FOLDERS = ("site-packages", "dist-packages")
READ_ONLY = "the bundled graph inside the installed package is read-only; copy it to a folder and point at it"


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


def is_installed_path(path: Path) -> bool:
    """Whether `path` lies in the bundled graph inside an installed package (`.../site-packages/kg/_bundle`,
    or this package's own `_bundle` wherever it was installed), as opposed to a source checkout or a folder
    of the user's. Such a folder is shared by every user of the installation and replaced by the next
    install, so nothing may be written there."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop: judge the path as given
        resolved = Path(path).absolute()
    chain = [resolved, *resolved.parents]
    for i, folder in enumerate(chain[:-2]):
        if folder.name == "_bundle" and chain[i + 1].name == "kg" and chain[i + 2].name in PACKAGE_FOLDERS:
            return True
    own = Path(__file__).resolve().parent / "_bundle"
    return own.is_dir() and (resolved == own or own in resolved.parents)


@dataclass(frozen=True)
class Layout:
    """Resolved folders of one graph.

    `root` is the graph folder the parts were looked up in (the bundled graph's folder when none was given);
    `fallbacks` names the parts (of `PARTS`) that `root` lacks and were taken from the bundled graph instead.
    """

    ontology_dir: Path
    data_dir: Path
    queries_dir: Path
    root: Path | None = None
    fallbacks: tuple[str, ...] = ()

    @property
    def is_installed_bundle(self) -> bool:
        """True when the graph folder is the read-only copy inside the installed package (`kg/_bundle` in
        site-packages), False for a source checkout or a folder of the user's."""
        return is_installed_path(self.root if self.root is not None else self.data_dir)

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
        return Layout(bundled / "ontology", bundled / "data" / "triples", bundled / "queries", root=bundled)
    root = Path(data)
    if not root.is_dir():
        raise KgError(f"graph folder {root}: no such folder")
    present = [part for part in PARTS if (root / part).is_dir()]
    if not present:
        raise KgError(f"graph folder {root}: has none of {', '.join(p + '/' for p in PARTS)}")

    def pick(part: str) -> Path:
        return root / part if (root / part).is_dir() else bundled / part

    fallbacks = tuple(part for part in PARTS if part not in present)
    return Layout(pick("ontology"), pick("data/triples"), pick("queries"), root=root, fallbacks=fallbacks)


def fallback_note(layout: Layout) -> str | None:
    """One line saying which parts of the graph folder were missing and came from the bundled graph, e.g.
    `note: DIR has no data/triples/; using the bundled data/triples/`; None when nothing fell back.

    A near miss in the folder (`data/tripels/`) is named, since a typo is the usual reason."""
    if not layout.fallbacks or layout.root is None:
        return None
    parts = [f"{part}/" for part in layout.fallbacks]
    near = [hint for part in layout.fallbacks if (hint := _near_miss(layout.root, part))]
    seen = f" (there is {', '.join(near)})" if near else ""
    return f"note: {layout.root} has no {', '.join(parts)}{seen}; using the bundled {', '.join(parts)}"


def _near_miss(root: Path, part: str) -> str | None:
    """A folder in `root` whose name is close to `part`'s (for `data/triples`, one inside `data/`)."""
    parent, _, name = part.rpartition("/")
    where = root / parent if parent else root
    try:
        names = sorted(p.name for p in where.iterdir() if p.is_dir())
    except OSError:
        return None
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"{parent + '/' if parent else ''}{close[0]}/" if close else None


def ensure_writable(layout: Layout, what: str) -> None:
    """Refuse to write `what` (words for the file or folder, e.g. "data/triples/links/wikidata.ttl") into a
    graph whose data lies in the installed package, either because the folder is the installed bundle or
    because its `data/triples/` fell back to the bundled one. Called before any work is done, so that a
    refused command neither contacts anything nor leaves files half-written."""
    if layout.is_installed_bundle or is_installed_path(layout.data_dir):
        raise Refused(f"cannot write {what}: {READ_ONLY}")


def ensure_writable_path(path: Path) -> None:
    """Refuse to write the file `path` when it lies in the installed package (the last guard, for writers
    that are handed paths rather than a layout)."""
    if is_installed_path(path):
        raise Refused(f"cannot write {path}: {READ_ONLY}")
