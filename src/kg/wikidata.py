"""Live lookups in Wikidata (or any SPARQL endpoint in its shape).

Lookups go by exact identifiers the graph already holds — ISO 3166 codes (P297), GeoNames IDs (P1566),
InChIKeys (P235) — bound in batches to one stored query (`wikidata-by-property`, with the property bound too)
and sent through kg.query.RemoteEngine (User-Agent, a time budget, retries with backoff on 429 and 503),
answers cached on disk (kg.answer_cache.CachedEngine). Persons and organizations can only be matched by label,
so those matches are written as candidates for review, never as identities. The link file is written only
when every batch has succeeded, so a failed or partial run leaves the existing links untouched.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from kg.answer_cache import WIKIDATA_ENDPOINT, CachedEngine, batches, remote_engine
from kg.catalog import library
from kg.graph import CKG, oxigraph_store
from kg.layout import Layout, ensure_writable
from kg.link.entities import LINKS_FOLDER_PATH, links_dir
from kg.link.records import CONFIDENCE, SKOS_EXACT, Record, slug
from kg.link.turtle import file_header, link_file_triples, previous_dates, to_turtle, write_files
from kg.query import Engine, LocalEngine, Result, bound, records

__all__ = ["LOOKUPS", "WIKIDATA_ENDPOINT", "LiveOutcome", "Lookup", "link_wikidata", "lookup", "lookup_engine",
           "plan", "summary", "write_live"]

WDT = "http://www.wikidata.org/prop/direct/"
LIVE_FILE = f"{LINKS_FOLDER_PATH}/wikidata.ttl"  # in words, for messages
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Lookup:
    """Entities holding `local` (a ckg or other property) are looked up by Wikidata property `wikidata`."""

    name: str
    local: str
    wikidata: str
    target: str
    suffix: str


LOOKUPS = (
    Lookup("ISO 3166 code", CKG + "isoAlpha2", "P297", SKOS_EXACT, "wikidata-live"),
    Lookup("GeoNames ID", CKG + "geonamesId", "P1566", SKOS_EXACT, "wikidata-live"),
    Lookup("InChIKey", CKG + "inchiKey", "P235", SKOS_EXACT, "wikidata-live"),
    Lookup("active compound InChIKey", CKG + "activeCompoundInchiKey", "P235", CKG + "activeCompoundMatch",
           "active-compound-wikidata-live"),
)
LABEL_CLASSES = ("Person", "Organization")


@dataclass(frozen=True)
class Keyed:
    """An identifier an entity holds, and the confidence of the link it came from (1 when none backs it)."""

    entity: str
    key: ox.Literal
    confidence: Decimal


@dataclass(frozen=True)
class Plan:
    """What to look up: the identifiers per lookup, the (entity, label) pairs, and the Wikidata items already
    linked offline (for cross-checking)."""

    identifiers: list[tuple[Lookup, list[Keyed]]]
    labels: list[tuple[str, str]]
    existing: dict[str, set[str]]

    def jobs(self) -> list[tuple[Lookup | None, list[ox.Literal]]]:
        """The queries to send: each lookup's distinct keys in batches, then the distinct labels (lookup None)."""
        jobs: list[tuple[Lookup | None, list[ox.Literal]]] = []
        for lookup, keyed in self.identifiers:
            distinct = sorted({str(k.key): k.key for k in keyed}.values(), key=str)
            jobs += [(lookup, batch) for batch in batches(distinct)]
        labels = sorted({ox.Literal(label, language="en") for _, label in self.labels}, key=str)
        return jobs + [(None, batch) for batch in batches(labels)]


@dataclass
class LiveOutcome:
    records: list[Record]
    looked_up: int  # identifiers and labels sent
    found: int  # identifiers with exactly one item
    not_found: list[str]
    queries: int  # queries sent to the endpoint (not from the cache)


Answers = dict[tuple[str, str], list[tuple[str, str]]]  # (Wikidata property or "label", key) → (item, note)


def lookup_engine(endpoint: str | None, timeout: float, refresh: bool = False) -> CachedEngine:
    """The cached remote engine for `endpoint` (default: Wikidata's query service)."""
    return remote_engine(endpoint or WIKIDATA_ENDPOINT, timeout, refresh)


def live_inputs(layout: Layout) -> list[Path]:
    """The graph without the live links themselves (they never feed their own lookup)."""
    own = (links_dir(layout) / "wikidata.ttl").resolve()
    return [p for p in layout.graph_files() if p.resolve() != own]


def plan(engine: Engine, with_labels: bool = True) -> Plan:
    """What the graph read through `engine` holds to look up."""
    answer = engine.select(library("link-identifiers").sparql,
                           {"local": [ox.NamedNode(lookup.local) for lookup in LOOKUPS]})
    by_local: dict[str, list[Keyed]] = defaultdict(list)
    for row in records(answer):
        entity, key, confidence = row["entity"], row["key"], row["confidence"]
        if isinstance(key, ox.Literal) and isinstance(entity, ox.NamedNode):
            by_local[bound(row, "local").value].append(
                Keyed(entity.value, key, Decimal(confidence.value) if confidence else Decimal("1")))
    identifiers = [(lookup, sorted(by_local[lookup.local], key=lambda k: (k.entity, k.key.value)))
                   for lookup in LOOKUPS]
    labels: set[tuple[str, str]] = set()
    if with_labels:
        found = engine.select(library("link-labels").sparql, {"top": [ox.NamedNode(CKG + c) for c in LABEL_CLASSES]})
        labels = {(bound(row, "entity").value, bound(row, "label").value) for row in records(found)}
    existing: dict[str, set[str]] = defaultdict(set)
    for row in records(engine.select(library("link-wikidata-items").sparql)):
        existing[bound(row, "entity").value].add(bound(row, "item").value)
    return Plan(identifiers, sorted(labels), existing)


def lookup(engine: Engine, by: Lookup | None, keys: list[ox.Literal]) -> Result:
    """The endpoint's items whose property `by.wikidata` has one of `keys` (`by` None: whose label is one)."""
    if by is None:
        return engine.select(library("wikidata-by-label").sparql, {"key": keys})
    return engine.select(library("wikidata-by-property").sparql,
                         {"property": ox.NamedNode(WDT + by.wikidata), "key": keys})


def ask(engine: Engine, jobs: list[tuple[Lookup | None, list[ox.Literal]]], progress: Progress | None = None,
        ) -> Answers:
    """Send every job; the items found per (property, key). A failure of any batch is raised as it is."""
    answers: Answers = defaultdict(list)
    for by, batch in jobs:
        for row in records(lookup(engine, by, batch)):
            key, item, described = row["key"], row["item"], row.get("description")
            if key is not None and isinstance(item, ox.NamedNode):
                note = described.value if isinstance(described, ox.Literal) else ""
                answers[(by.wikidata if by else "label", str(key))].append((item.value, note))
        if progress:
            progress(1)
    return answers


def identifier_records(work: Plan, answers: Answers, version: str) -> tuple[list[Record], int, list[str]]:
    """A link for each identifier with exactly one item that agrees with the offline links, candidates for the
    rest; also the number linked and what was not found."""
    out: list[Record] = []
    not_found: list[str] = []
    found = 0
    for lookup_, keyed in work.identifiers:
        for k in keyed:
            items = sorted(set(answers.get((lookup_.wikidata, str(k.key)), [])))
            if not items:
                not_found.append(f"{k.entity}: no item with wdt:{lookup_.wikidata} {k.key.value}")
                continue
            offline = set(work.existing.get(k.entity, set())) if lookup_.target == SKOS_EXACT else set()
            if len(items) == 1 and (not offline or items[0][0] in offline):
                found += 1
                out.append(_live_link(lookup_, k, items[0][0], version))
            else:
                out += _live_candidates(lookup_, k, [item for item, _ in items], offline, version)
    return out, found, not_found


def _shown(by: Lookup, keyed: Keyed) -> str:
    return f"{by.name} {keyed.key.value} (wdt:{by.wikidata})"


def _live_link(by: Lookup, keyed: Keyed, item: str, version: str) -> Record:
    return Record("Link", f"{slug(keyed.entity)}-{by.suffix}-{by.wikidata.lower()}", keyed.entity, by.target,
                  ox.NamedNode(item), "LiveLookup", "wikidata", version,
                  min(CONFIDENCE["ExactCodeMatch"], keyed.confidence), _shown(by, keyed))


def _live_candidates(by: Lookup, keyed: Keyed, items: list[str], offline: set[str], version: str) -> list[Record]:
    """Several items share the key, or the one item disagrees with the offline link: candidates for review."""
    reason = (f"{len(items)} items share wdt:{by.wikidata} {keyed.key.value}" if len(items) > 1 else
              f"disagrees with the offline link to {', '.join(sorted(offline))}")
    return [Record("LinkCandidate", f"candidate-{slug(keyed.entity)}-wikidata-{item.rsplit('/', 1)[-1]}",
                   keyed.entity, by.target, ox.NamedNode(item), "LiveLookup", "wikidata", version,
                   CONFIDENCE["Candidate"], _shown(by, keyed), reason=reason)
            for item in items if item not in offline]


def label_records(work: Plan, answers: Answers, version: str) -> list[Record]:
    """Every item with the same English label as a person or organization: a candidate, never a link."""
    out = []
    for entity, label in work.labels:
        for item, description in sorted(set(answers.get(("label", str(ox.Literal(label, language="en"))), []))):
            reason = "same English label only: review before linking" + (f" (Wikidata: {description})"
                                                                          if description else "")
            out.append(Record("LinkCandidate", f"candidate-{slug(entity)}-wikidata-{item.rsplit('/', 1)[-1]}",
                              entity, SKOS_EXACT, ox.NamedNode(item), "LabelSearch", "wikidata", version,
                              CONFIDENCE["LabelCandidate"], f"label {label!r}", reason=reason))
    return out


def link_wikidata(layout: Layout, engine: CachedEngine, with_labels: bool = True, progress: Progress | None = None,
                  total: Progress | None = None) -> LiveOutcome:
    """Look up every identifier (and, for persons and organizations, every label) at the endpoint; returns the
    records. Nothing is written here, so a failure part-way leaves the link files as they were.

    The records exist to be written by `write_live`, so a graph that cannot be written (the installed bundle)
    is refused here, before a single query is sent."""
    ensure_writable(layout, LIVE_FILE)
    work = plan(LocalEngine(oxigraph_store(live_inputs(layout), use_cache=False)), with_labels)
    jobs = work.jobs()
    if total:
        total(len(jobs))
    answers = ask(engine, jobs, progress)
    version = engine.remote.endpoint
    found_records, found, not_found = identifier_records(work, answers, version)
    live = sorted(found_records + label_records(work, answers, version), key=lambda r: r.key)
    looked_up = sum(len(k) for _, k in work.identifiers) + len(work.labels)
    return LiveOutcome(live, looked_up, found, not_found, engine.sent)


def write_live(layout: Layout, outcome: LiveOutcome, today: str | None = None) -> list[Path]:
    """Write data/triples/links/wikidata.ttl (dates of unchanged links kept); returns the files that changed.
    Refused (nothing written) when the graph is the read-only installed bundle."""
    ensure_writable(layout, LIVE_FILE)
    today = today or datetime.date.today().isoformat()
    path = links_dir(layout) / "wikidata.ttl"
    triples = link_file_triples(outcome.records, previous_dates(path), today)
    return write_files({path: to_turtle(triples, file_header("wikidata"))})


def summary(outcome: LiveOutcome, changed: list[Path]) -> str:
    """What `kg link wikidata` did, in a few lines."""
    links = sum(1 for r in outcome.records if r.asserted)
    lines = [f"{outcome.looked_up} identifiers and labels looked up ({outcome.queries} queries sent): {links} links, "
             f"{len(outcome.records) - links} candidates for review, {len(outcome.not_found)} not found"]
    lines += [f"wrote {p}" for p in changed] or ["no change: the live links are current"]
    return "\n".join(lines) + "\n"
