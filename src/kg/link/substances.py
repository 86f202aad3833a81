"""Substances to InChI and InChIKey: each structure parsed with OPSIN from its systematic (IUPAC) name in
`data/linking/structures.tsv`, checked against the structure typed there, and its identifiers computed with RDKit.

A structure typed by hand cites nothing; a systematic name is a verifiable source, since anyone can parse it again
with a maintained name-to-structure parser and get the same compound. The typed SMILES stays as an independent
check: a name that parses to another compound (same InChIKey or not) is an error, not a link. A substance is
linked only at the level that is true: a single compound gets its own InChI and InChIKey; a mixture or product
gets the InChIKey of its principal active compound, with a note; classes of substances and plants are not linked.
Every structure is checked against a reference formula by the tests.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import re
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError
from kg.graph import CKG, PREFIXES
from kg.layout import Layout, bundled_root
from kg.link.records import CONFIDENCE, Entity, Outcome, Record, literal, need, slug

STRUCTURES = Path("linking") / "structures.tsv"
LEVELS = ("compound", "active-compound", "category", "plant")
_OPSIN_JAR = re.compile(r"^opsin-cli-.*-jar-with-dependencies\.jar$")
_POM = "META-INF/maven/uk.ac.cam.ch.opsin/opsin-cli/pom.properties"


@dataclass(frozen=True)
class Structure:
    substance: str  # IRI
    level: str  # compound, active-compound, category, plant
    compound: str
    name: str  # the systematic name OPSIN parses (compounds and active compounds only)
    smiles: str  # the structure typed by hand: the check the parsed structure must match
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
        name = (row.get("systematic_name") or "").strip()
        if (level in ("compound", "active-compound")) != bool(smiles) or bool(smiles) != bool(name):
            raise KgError(f"{path}:{number}: a systematic name and a SMILES are required for compounds and active "
                          "compounds, and only for them")
        iri = PREFIXES[prefix] + local
        out[iri] = Structure(iri, level, (row.get("compound") or "").strip(), name, smiles,
                             (row.get("note") or "").strip())
    return out


def opsin_version() -> str:
    """The version of the OPSIN jar py2opsin bundles, read from the jar's own Maven metadata (py2opsin's version
    is not OPSIN's)."""
    package = importlib.resources.files(need("py2opsin"))
    jars = sorted(p.name for p in package.iterdir() if _OPSIN_JAR.match(p.name))
    if not jars:
        raise KgError("py2opsin bundles no OPSIN jar: reinstall py2opsin")
    with importlib.resources.as_file(package / jars[-1]) as jar, zipfile.ZipFile(jar) as archive:
        properties = archive.read(_POM).decode("utf-8")
    found = re.search(r"^version=(\S+)\s*$", properties, re.MULTILINE)
    if found is None:
        raise KgError(f"{jars[-1]}: no version in {_POM}")
    return found.group(1)


def parse_names(names: Sequence[str]) -> list[str]:
    """OPSIN's SMILES for each systematic name, in one Java run for all of them ('' where a name does not parse).

    py2opsin passes the names through a file; it is made in a temporary folder so that runs never share or leave
    one in the working directory. The answers are kept for the process (a name always parses to the same
    structure with one OPSIN jar): a second linking run in it, as `--check` and the tests make, starts no JVM."""
    return list(_parse_names(tuple(names)))


@functools.lru_cache(maxsize=16)
def _parse_names(names: tuple[str, ...]) -> tuple[str, ...]:
    opsin = need("py2opsin")
    if not names:
        return ()
    with tempfile.TemporaryDirectory(prefix="kg-opsin-") as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # OPSIN's parse errors: reported below, name by name
        try:
            out = opsin.py2opsin(list(names), "SMILES", tmp_fpath=str(Path(folder) / "names.txt"))
        except OSError as err:
            raise KgError(f"OPSIN needs a Java runtime (java on the PATH): {err.strerror}") from None
    if not isinstance(out, list) or len(out) != len(names):
        raise KgError("OPSIN failed to run (is a Java runtime, version 8 or newer, installed?)")
    return tuple(str(smiles).strip() for smiles in out)


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


def derive(structure: Structure, parsed: str) -> tuple[str, str, str]:
    """(InChI, InChIKey, formula) of the structure OPSIN parsed from `structure`'s name, which must be the
    compound typed by hand: same InChIKey, so same constitution, stereochemistry and formula."""
    where = f"{structure.substance.removeprefix(PREFIXES['substance'])} in data/{STRUCTURES.as_posix()}"
    if not parsed:
        raise KgError(f"{where}: OPSIN cannot parse the systematic name {structure.name!r}")
    inchi, key, formula = compute(parsed)
    typed = compute(structure.smiles)[1]
    if key != typed:
        raise KgError(f"{where}: the systematic name {structure.name!r} parses to InChIKey {key}, but the "
                      f"structure typed there is {typed}: one of them is wrong")
    return inchi, key, formula


def link_substances(substances: dict[str, Entity], structures: dict[str, Structure], outcome: Outcome,
                    enrich: bool = True) -> None:
    versions = outcome.versions
    toolkit = versions.setdefault("rdkit", f"{need('rdkit').__version__}")
    parser = versions.setdefault("opsin", opsin_version())
    linked = [s for s in (structures.get(iri) for iri in substances) if s and s.level not in ("category", "plant")]
    parsed = dict(zip((s.substance for s in linked), parse_names([s.name for s in linked]), strict=True))
    for entity in substances.values():
        structure = structures.get(entity.iri)
        if structure is None:
            outcome.unlinked(entity, "opsin", "no structure recorded in data/linking/structures.tsv")
        elif structure.level in ("category", "plant"):
            outcome.unlinked(entity, "opsin", f"a {structure.level}: {structure.note}")
        else:
            _link_structure(entity, structure, parsed[entity.iri], (parser, toolkit), outcome, enrich)


def _link_structure(entity: Entity, structure: Structure, parsed: str, versions: tuple[str, str], outcome: Outcome,
                    enrich: bool) -> None:
    """A compound's InChI and InChIKey, or a mixture's active-compound InChIKey, and (enriching) the formula: the
    source is OPSIN (the name it parsed, the structure it gave), RDKit the toolkit that computed the values."""
    inchi, key, formula = derive(structure, parsed)
    own = structure.level == "compound"
    values = [("Link", "inchi", "inchi", inchi), ("Link", "inchikey", "inchiKey", key)] if own else \
        [("Link", "active-compound-inchikey", "activeCompoundInchiKey", key)]
    if enrich:
        values.append(("ExternalStatement", "formula", "molecularFormula", formula))
    confidence = CONFIDENCE["Compound" if own else "ActiveCompound"]
    for kind, suffix, predicate, value in values:
        outcome.add(Record(kind, f"{slug(entity.iri)}-{suffix}", entity.iri, CKG + predicate, literal(value),
                           "ParsedFromSystematicName", "opsin", versions[0], confidence, structure.compound,
                           structure=parsed, note=structure.note or None, parsed_name=structure.name,
                           toolkit="rdkit", toolkit_version=versions[1]))
