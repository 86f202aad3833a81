"""Countries to Wikidata items and ISO 3166 codes, from rigour's territories (and the few supranational unions
rigour knows, such as the EU, to their Wikidata items)."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from kg.graph import CKG
from kg.link.records import CONFIDENCE, SKOS_EXACT, WD, Entity, Outcome, Record, literal, need, slug, version_of

NOT_A_REGION = "no territory of that name (rigour lists countries and a few supranational unions, not regions)"


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
        found: dict[str, Any] = {}
        for name in entity.names:
            territory = territories.lookup_territory(name)
            if territory is not None:
                found[territory.code] = territory
        if entity.cls == "GeographicRegion":
            _link_region(entity, found, version, outcome)
        elif not found:
            outcome.unlinked(entity, "rigour", "no territory of that name")
        elif len(found) > 1 or not next(iter(found.values())).is_country:
            _add_candidates(entity, found, version, outcome)
        else:
            territory = next(iter(found.values()))
            _link_country(entity, territory, version, outcome)
            codes[entity.iri] = territory.code
    return codes


def _link_region(entity: Entity, found: dict[str, Any], version: str, outcome: Outcome) -> None:
    """A region is linked only when its names lead to one territory that is not a country (the EU)."""
    territory = next(iter(found.values())) if len(found) == 1 else None
    if territory is None or not territory.qid or territory.is_country:
        outcome.unlinked(entity, "rigour", NOT_A_REGION)
        return
    outcome.add(Record("Link", f"{slug(entity.iri)}-wikidata", entity.iri, SKOS_EXACT,
                       ox.NamedNode(WD + territory.qid), "ExactNameMatch", "rigour", version,
                       CONFIDENCE["ExactNameMatch"], f"{' / '.join(entity.names)} = rigour territory {territory.code}"))


def _add_candidates(entity: Entity, found: dict[str, Any], version: str, outcome: Outcome) -> None:
    """Names that lead to several territories, or to one that is not a country: candidates, never a guess."""
    for code, territory in sorted(found.items()):
        reason = ("its names lead to different rigour territories: " + ", ".join(sorted(found))
                  if len(found) > 1 else f"rigour territory {code} is not a country")
        outcome.add(Record("LinkCandidate", f"candidate-{slug(entity.iri)}-rigour-{code}", entity.iri, SKOS_EXACT,
                           ox.NamedNode(WD + territory.qid), "ExactNameMatch", "rigour", version,
                           CONFIDENCE["Candidate"], " / ".join(entity.names), reason=reason))


def _link_country(entity: Entity, territory: Any, version: str, outcome: Outcome) -> None:
    """The country's Wikidata item and its ISO 3166 alpha-2 and (where rigour has one) alpha-3 codes."""
    base = slug(entity.iri)
    shown = f"{' / '.join(entity.names)} = rigour territory {territory.code}"
    confidence = CONFIDENCE["ExactNameMatch"]
    values: list[tuple[str, str, ox.NamedNode | ox.Literal]] = [
        ("wikidata", SKOS_EXACT, ox.NamedNode(WD + territory.qid)),
        ("iso-alpha2", CKG + "isoAlpha2", literal(territory.code.upper())),
    ]
    if territory.alpha3:
        values.append(("iso-alpha3", CKG + "isoAlpha3", literal(territory.alpha3.upper())))
    for suffix, predicate, value in values:
        outcome.add(Record("Link", f"{base}-{suffix}", entity.iri, predicate, value, "ExactNameMatch", "rigour",
                           version, confidence, shown))
