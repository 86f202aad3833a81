"""Substances to InChI and InChIKey, computed with RDKit from the structures in `data/linking/structures.tsv`.

A substance is linked only at the level that is true: a single compound gets its own InChI and InChIKey; a
mixture or product gets the InChIKey of its principal active compound, with a note; classes of substances and
plants are not linked. Every SMILES is checked against a reference formula by the tests.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError
from kg.graph import CKG, PREFIXES
from kg.layout import Layout, bundled_root
from kg.link.records import CONFIDENCE, Entity, Outcome, Record, literal, need, slug

STRUCTURES = Path("linking") / "structures.tsv"
LEVELS = ("compound", "active-compound", "category", "plant")


@dataclass(frozen=True)
class Structure:
    substance: str  # IRI
    level: str  # compound, active-compound, category, plant
    compound: str
    smiles: str
    note: str


def structures_path(layout: Layout) -> Path:
    """`data/linking/structures.tsv` beside the data's triples (the bundled one when the folder has none)."""
    own = layout.data_dir.parent / STRUCTURES
    return own if own.is_file() else bundled_root() / "data" / STRUCTURES


def read_structures(path: Path) -> dict[str, Structure]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as err:
        raise KgError(f"{path}: cannot read: {err.strerror}") from None
    out = {}
    for number, row in enumerate(rows, start=2):
        curie = (row.get("substance") or "").strip()
        prefix, _, local = curie.partition(":")
        if prefix not in PREFIXES or not local:
            raise KgError(f"{path}:{number}: substance must be a CURIE such as substance:heroin, got {curie!r}")
        level = (row.get("level") or "").strip()
        if level not in LEVELS:
            raise KgError(f"{path}:{number}: level must be compound, active-compound, category or plant")
        smiles = (row.get("smiles") or "").strip()
        if (level in ("compound", "active-compound")) != bool(smiles):
            raise KgError(f"{path}:{number}: a SMILES is required for compounds and active compounds, and only "
                          "for them")
        iri = PREFIXES[prefix] + local
        out[iri] = Structure(iri, level, (row.get("compound") or "").strip(), smiles, (row.get("note") or "").strip())
    return out


def compute(smiles: str) -> tuple[str, str, str]:
    """(InChI, InChIKey, Hill formula) of a SMILES, with RDKit's stereo warnings kept off the terminal."""
    chem = need("rdkit.Chem")
    rdlogger = need("rdkit.RDLogger")
    descriptors = need("rdkit.Chem.rdMolDescriptors")
    rdlogger.DisableLog("rdApp.*")
    molecule = chem.MolFromSmiles(smiles)
    if molecule is None:
        raise KgError(f"RDKit cannot read the SMILES {smiles!r}")
    inchi: str = chem.MolToInchi(molecule)
    return inchi, chem.InchiToInchiKey(inchi), descriptors.CalcMolFormula(molecule)


def link_substances(substances: dict[str, Entity], structures: dict[str, Structure], outcome: Outcome,
                    enrich: bool = True) -> None:
    rdkit = need("rdkit")
    version = outcome.versions.setdefault("rdkit", f"{rdkit.__version__}")
    for entity in substances.values():
        structure = structures.get(entity.iri)
        if structure is None:
            outcome.unlinked(entity, "rdkit", "no structure recorded in data/linking/structures.tsv")
        elif structure.level in ("category", "plant"):
            outcome.unlinked(entity, "rdkit", f"a {structure.level}: {structure.note}")
        else:
            _link_structure(entity, structure, version, outcome, enrich)


def _link_structure(entity: Entity, structure: Structure, version: str, outcome: Outcome, enrich: bool) -> None:
    """A compound's InChI and InChIKey, or a mixture's active-compound InChIKey, and (enriching) the formula."""
    inchi, key, formula = compute(structure.smiles)
    own = structure.level == "compound"
    values = [("Link", "inchi", "inchi", inchi), ("Link", "inchikey", "inchiKey", key)] if own else \
        [("Link", "active-compound-inchikey", "activeCompoundInchiKey", key)]
    if enrich:
        values.append(("ExternalStatement", "formula", "molecularFormula", formula))
    confidence = CONFIDENCE["Compound" if own else "ActiveCompound"]
    for kind, suffix, predicate, value in values:
        outcome.add(Record(kind, f"{slug(entity.iri)}-{suffix}", entity.iri, CKG + predicate, literal(value),
                           "ComputedFromStructure", "rdkit", version, confidence, structure.compound,
                           structure=structure.smiles, note=structure.note or None))
