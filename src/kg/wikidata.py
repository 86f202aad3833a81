"""Live lookups in Wikidata (or any SPARQL endpoint in its shape) and federated questions.

Lookups go by exact identifiers the graph already holds — ISO 3166 codes (P297), GeoNames IDs (P1566),
InChIKeys (P235) — sent in batched `VALUES` blocks through SPARQLWrapper with a User-Agent naming the tool, a
timeout, and retries with backoff on 429 and 503. Persons and organizations can only be matched by label, so
those matches are written as candidates for review, never as identities. Answers are cached per endpoint and
query; the link file is written only when every batch has succeeded, so a failed or partial run leaves the
existing links untouched.

Federated questions (`queries/federated/*.rq`) join the local graph with an external endpoint: a local SPARQL
part runs on the embedded store, the distinct values of its join variable are sent to the remote part as
`VALUES`, and the rows are joined here. rdflib's in-process `SERVICE` is not used: a second SERVICE re-runs
the first, a prefixed endpoint silently returns nothing and there is no timeout (design notes §6).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError, Refused
from kg.graph import PREFIXES, cache_dir, oxigraph_store
from kg.layout import Layout, ensure_writable
from kg.query import Result, Term

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"
CKG = PREFIXES["ckg"]
WD = "http://www.wikidata.org/entity/"
SKOS_EXACT = PREFIXES["skos"] + "exactMatch"
BATCH = 50
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


# ---------------------------------------------------------------------------------------------------
# Talking to an endpoint


@dataclass
class Client:
    """Sends SELECT queries through kg.remote (User-Agent, a time budget, retries with backoff) with a cache on disk."""

    endpoint: str
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 2.0
    use_cache: bool = True
    sent: int = 0  # queries that went to the endpoint (not answered from the cache)

    def cache_file(self, sparql: str) -> Path | None:
        folder = cache_dir()
        if folder is None:
            return None
        digest = hashlib.sha256(f"{self.endpoint}\n{sparql}".encode()).hexdigest()[:32]
        return folder / "sparql" / f"{digest}.json"

    def select(self, sparql: str) -> Result:
        cached = self.cache_file(sparql)
        if self.use_cache and cached is not None and cached.is_file():
            try:
                return to_result(cached.read_bytes(), self.endpoint)
            except (OSError, KgError):
                pass  # a damaged cache entry is fetched again
        answer = self._send(sparql)
        result = to_result(answer, self.endpoint)
        if cached is not None:
            try:
                from kg.output import write_atomically

                cached.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(cached, answer.decode("utf-8"))
            except (OSError, KgError, UnicodeDecodeError):
                pass  # no cache is not an error
        return result

    def _send(self, sparql: str) -> bytes:
        """The endpoint's SPARQL JSON answer, through the one HTTP client (kg.remote): a wall-clock budget,
        a size limit, same-host redirects, retries on 429 and 503."""
        from kg.remote import Answer, exchange, query_request, redact
        from kg.sparql import require_query

        require_query(sparql, embedded=False)

        def consume(answer: Answer) -> bytes:
            if answer.media_type not in ("application/sparql-results+json", "application/json"):
                raise KgError(f"{redact(self.endpoint)} did not answer with SPARQL JSON results "
                              f"(it sent {answer.media_type or 'no media type'})")
            return answer.body.read()

        self.sent += 1
        return exchange(query_request(self.endpoint, sparql), consume, timeout=self.timeout,
                        tries=self.retries + 1, backoff=self.backoff)


def to_result(answer: bytes, endpoint: str) -> Result:
    """A SPARQL JSON SELECT answer as a Result, or a KgError when it is anything else."""
    from kg.remote import redact

    try:
        parsed = ox.parse_query_results(answer, format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, ValueError) as err:
        raise KgError(f"{redact(endpoint)} did not return SPARQL JSON results: "
                      f"{' '.join(str(err).split())[:200]}") from None
    if not isinstance(parsed, ox.QuerySolutions):
        raise KgError(f"{redact(endpoint)} answered a SELECT with a boolean")
    return Result([v.value for v in parsed.variables], [list(solution) for solution in parsed])


def values_block(variable: str, terms: list[Term]) -> str:
    return f"VALUES ?{variable} {{ {' '.join(str(t) for t in terms)} }}"


def batches(items: list, size: int = BATCH) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------------------------------------------
# Live lookups


def live_inputs(layout: Layout) -> list[Path]:
    """The graph without the live links themselves (they never feed their own lookup)."""
    from kg.link import links_dir

    own = (links_dir(layout) / "wikidata.ttl").resolve()
    return [p for p in layout.graph_files() if p.resolve() != own]


KEYS = """
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
SELECT ?local ?entity ?key (MIN(?c) AS ?confidence) WHERE {
  ?entity ?local ?key .
  OPTIONAL { ?link ckg:linkSubject ?entity ; ckg:linkPredicate ?local ; ckg:linkObject ?key ; ckg:confidence ?c }
} GROUP BY ?local ?entity ?key
"""

LABELS = """
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?top ?entity ?label WHERE {
  ?entity a ?cls . ?cls rdfs:subClassOf* ?top . ?entity rdfs:label ?label .
  FILTER (LANG(?label) = "en" && !CONTAINS(?label, "(unnamed)"))
}
"""

EXISTING = """
SELECT ?entity ?item WHERE { ?entity <http://www.w3.org/2004/02/skos/core#exactMatch> ?item .
  FILTER (STRSTARTS(STR(?item), "http://www.wikidata.org/entity/")) }
"""


def remote_lookup_query(lookup: Lookup, keys: list[ox.Literal]) -> str:
    return (
        "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?key ?item ?itemLabel WHERE {\n"
        f"  {values_block('key', list(keys))}\n"
        f"  ?item wdt:{lookup.wikidata} ?key .\n"
        '  OPTIONAL { ?item rdfs:label ?itemLabel . FILTER (LANG(?itemLabel) = "en") }\n'
        "}\nORDER BY ?key ?item\n"
    )


def remote_label_query(labels: list[ox.Literal]) -> str:
    return (
        "PREFIX schema: <http://schema.org/>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?key ?item ?description WHERE {\n"
        f"  {values_block('key', list(labels))}\n"
        "  ?item rdfs:label ?key .\n"
        '  OPTIONAL { ?item schema:description ?description . FILTER (LANG(?description) = "en") }\n'
        "}\nORDER BY ?key ?item\n"
    )


@dataclass
class LiveOutcome:
    records: list  # kg.link.Record
    looked_up: int  # identifiers and labels sent
    found: int  # identifiers with exactly one item
    not_found: list[str]
    queries: int  # queries sent to the endpoint (not from the cache)


def plan(layout: Layout, with_labels: bool = True) -> tuple[list[tuple[Lookup, list]], list[tuple[str, str]], dict]:
    """What to look up: (lookup, [(entity, key literal, confidence)]) per lookup, (entity, label) pairs, and the
    Wikidata items already linked offline (for cross-checking)."""
    store = oxigraph_store(live_inputs(layout), use_cache=False)
    work = []
    for lookup in LOOKUPS:
        rows = store.query(KEYS, substitutions={ox.Variable("local"): ox.NamedNode(lookup.local)})
        keyed = sorted(
            ((r["entity"].value, r["key"], Decimal(r["confidence"].value) if r["confidence"] else Decimal("1"))
             for r in rows if isinstance(r["key"], ox.Literal) and isinstance(r["entity"], ox.NamedNode)),
            key=lambda x: (x[0], x[1].value),
        )
        work.append((lookup, keyed))
    labels: list[tuple[str, str]] = []
    if with_labels:
        for top in LABEL_CLASSES:
            for r in store.query(LABELS, substitutions={ox.Variable("top"): ox.NamedNode(CKG + top)}):
                labels.append((r["entity"].value, r["label"].value))
    existing: dict[str, set[str]] = defaultdict(set)
    for r in store.query(EXISTING):
        existing[r["entity"].value].add(r["item"].value)
    return work, sorted(set(labels)), existing


def link_wikidata(layout: Layout, client: Client, with_labels: bool = True,
                  progress: Callable[[int], None] | None = None, total: Callable[[int], None] | None = None,
                  ) -> LiveOutcome:
    """Look up every identifier (and, for persons and organizations, every label) at the endpoint; returns the
    records. Nothing is written here, so a failure part-way leaves the link files as they were.

    The records exist to be written by `write_live`, so a graph that cannot be written (the installed bundle)
    is refused here, before a single query is sent."""
    from kg.link import CONFIDENCE, LINKS_FOLDER_PATH, Record, slug

    ensure_writable(layout, f"{LINKS_FOLDER_PATH}/wikidata.ttl")
    work, labels, existing = plan(layout, with_labels)
    jobs: list[tuple[Lookup | None, list]] = []
    for lookup, keyed in work:
        distinct = sorted({str(k): k for _, k, _ in keyed}.values(), key=str)
        jobs += [(lookup, batch) for batch in batches(distinct)]
    if with_labels:
        distinct_labels = sorted({ox.Literal(label, language="en") for _, label in labels}, key=str)
        jobs += [(None, batch) for batch in batches(distinct_labels)]
    if total:
        total(len(jobs))
    answers: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (wikidata property, key) → items
    for lookup, batch in jobs:
        sparql = remote_lookup_query(lookup, batch) if lookup else remote_label_query(batch)
        result = client.select(sparql)
        column = {v: i for i, v in enumerate(result.variables)}
        for row in result.rows:
            key, item = row[column["key"]], row[column["item"]]
            if key is None or not isinstance(item, ox.NamedNode):
                continue
            described = row[column["description"]] if "description" in column else None
            note = described.value if isinstance(described, ox.Literal) else ""
            answers[(lookup.wikidata if lookup else "label", str(key))].append((item.value, note))
        if progress:
            progress(1)

    version = client.endpoint
    records = []
    not_found = []
    found = 0
    for lookup, keyed in work:
        for entity, key, confidence in keyed:
            items = sorted(set(answers.get((lookup.wikidata, str(key)), [])))
            shown = f"{lookup.name} {key.value} (wdt:{lookup.wikidata})"
            base = slug(entity)
            if not items:
                not_found.append(f"{entity}: no item with wdt:{lookup.wikidata} {key.value}")
                continue
            offline = {i for i in existing.get(entity, set())} if lookup.target == SKOS_EXACT else set()
            if len(items) == 1 and (not offline or items[0][0] in offline):
                found += 1
                records.append(Record("Link", f"{base}-{lookup.suffix}-{lookup.wikidata.lower()}", entity,
                                      lookup.target, ox.NamedNode(items[0][0]), "LiveLookup", "wikidata", version,
                                      min(CONFIDENCE["ExactCodeMatch"], confidence), shown))
                continue
            for item, _ in items:
                if item in offline:
                    continue
                reason = (f"{len(items)} items share wdt:{lookup.wikidata} {key.value}" if len(items) > 1 else
                          f"disagrees with the offline link to {', '.join(sorted(offline))}")
                records.append(Record("LinkCandidate", f"candidate-{base}-wikidata-{item.rsplit('/', 1)[-1]}",
                                      entity, lookup.target, ox.NamedNode(item), "LiveLookup", "wikidata", version,
                                      CONFIDENCE["Candidate"], shown, reason=reason))
    for entity, label in labels:
        for item, description in sorted(set(answers.get(("label", str(ox.Literal(label, language="en"))), []))):
            reason = "same English label only: review before linking" + (f" (Wikidata: {description})"
                                                                          if description else "")
            records.append(Record("LinkCandidate", f"candidate-{slug(entity)}-wikidata-{item.rsplit('/', 1)[-1]}",
                                  entity, SKOS_EXACT, ox.NamedNode(item), "LabelSearch", "wikidata", version,
                                  CONFIDENCE["LabelCandidate"], f"label {label!r}", reason=reason))
    records.sort(key=lambda r: r.key)
    looked_up = sum(len(k) for _, k in work) + len(labels)
    return LiveOutcome(records, looked_up, found, not_found, client.sent)


def write_live(layout: Layout, outcome: LiveOutcome, today: str | None = None) -> list[Path]:
    """Write data/triples/links/wikidata.ttl (dates of unchanged links kept); returns the files that changed.
    Refused (nothing written) when the graph is the read-only installed bundle."""
    import datetime

    from kg.link import LINKS_FOLDER_PATH, link_file_triples, links_dir, previous_dates, to_turtle, write_files

    ensure_writable(layout, f"{LINKS_FOLDER_PATH}/wikidata.ttl")
    today = today or datetime.date.today().isoformat()
    path = links_dir(layout) / "wikidata.ttl"
    triples = link_file_triples(outcome.records, previous_dates(path), today)
    header = ("Links found by live lookups at a SPARQL endpoint in Wikidata's shape (the endpoint is the dataset\n"
              "version), and label-only candidates for review. Generated by `kg link wikidata`; do not edit.")
    return write_files({path: to_turtle(triples, header)})


# ---------------------------------------------------------------------------------------------------
# Federated questions

FEDERATED_KEYS = {"title", "question", "description", "tags", "join", "endpoint"}
PART = re.compile(r"^#@\s*(local|remote)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class FederatedQuery:
    name: str
    path: Path
    title: str
    question: str
    description: str
    tags: list[str]
    join: str
    endpoint: str
    local: str
    remote: str

    def remote_for(self, terms: list[Term]) -> str:
        return self.remote.replace(f"VALUES ?{self.join} {{}}", values_block(self.join, terms), 1)

    def endpoint_to_use(self, given: str | None) -> str:
        """`given`, else the question's own endpoint — but only for a question of the bundled graph: a stored
        file from any other folder would choose which host `kg` contacts, and only the user may."""
        from kg.layout import bundled_root, is_installed_path

        if given:
            return given
        bundled = bundled_root().resolve()
        if is_installed_path(self.path) or bundled in self.path.resolve().parents:
            return self.endpoint
        raise Refused(f"{self.path} names its own endpoint ({self.endpoint}); a federated question from outside "
                      "the bundled graph is only sent to an endpoint given explicitly")


def load_federated(path: Path) -> FederatedQuery:
    from kg.catalog import check_header, parse_header, read_stored_file, strip_header

    text = read_stored_file(path)
    header = parse_header(path, text)
    problems = [f"unknown key '{k}'" for k in header if k not in FEDERATED_KEYS]
    problems += check_header(path, {k: v for k, v in header.items() if k in ("title", "question", "description",
                                                                               "tags")})
    join = header.get("join")
    if not isinstance(join, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", join):
        problems.append("'join' must name the variable both parts share")
    parts = PART.split(strip_header(text))
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"local", "remote"} or len(parts) != 5:
        problems.append("needs one '#@ local' part and one '#@ remote' part, in that order")
    elif isinstance(join, str) and f"VALUES ?{join} {{}}" not in sections["remote"]:
        problems.append(f"the remote part needs the placeholder 'VALUES ?{join} {{}}' where the keys go")
    if problems:
        raise KgError(f"{path}: invalid federated question: {'; '.join(problems)}")
    return FederatedQuery(
        name=path.stem, path=path, title=header["title"].strip(), question=header["question"].strip(),
        description=" ".join(header["description"].split()), tags=list(header["tags"]), join=join,
        endpoint=str(header.get("endpoint") or WIKIDATA_ENDPOINT), local=sections["local"].strip() + "\n",
        remote=sections["remote"].strip() + "\n",
    )


def federated_catalog(folder: Path) -> list[FederatedQuery]:
    return [load_federated(p) for p in sorted(folder.glob("*.rq"))]


def find_federated(folder: Path, name: str) -> FederatedQuery:
    path = folder / f"{name}.rq"
    if re.match(r"^[a-z0-9][a-z0-9-]*$", name) and path.is_file():
        return load_federated(path)
    names = ", ".join(sorted(p.stem for p in folder.glob("*.rq"))) or "none"
    raise KgError(f"no federated question named '{name}' (there are: {names})")


def run_federated(question: FederatedQuery, store: ox.Store, client: Client,
                  progress: Callable[[int], None] | None = None) -> Result:
    """Run the local part, send its join keys to the remote part in batches, and left-join the rows here."""
    from kg.query import run_local

    local = run_local(store, question.local)
    if question.join not in local.variables:
        raise KgError(f"{question.path}: the local part does not project ?{question.join}")
    at = local.variables.index(question.join)
    keys = sorted({str(row[at]): row[at] for row in local.rows if row[at] is not None}.values(), key=str)
    remote_rows: dict[str, list[list[Term | None]]] = defaultdict(list)
    remote_vars: list[str] | None = None
    for batch in batches(keys):
        result = client.select(question.remote_for(batch))
        if question.join not in result.variables:
            raise KgError(f"{question.path}: the remote part does not project ?{question.join}")
        remote_vars = remote_vars or result.variables
        where = result.variables.index(question.join)
        for row in result.rows:
            if row[where] is not None:
                remote_rows[str(row[where])].append([row[result.variables.index(v)] for v in remote_vars])
        if progress:
            progress(1)
    if remote_vars is None:  # no keys: still show the remote columns
        remote_vars = remote_variables(question.remote)
    extra = [v for v in remote_vars if v not in local.variables]
    picks = [remote_vars.index(v) for v in extra]
    rows = []
    for row in local.rows:
        matches = remote_rows.get(str(row[at])) if row[at] is not None else None
        for match in matches or [None]:
            rows.append(list(row) + ([match[i] for i in picks] if match else [None] * len(extra)))
    return Result(local.variables + extra, rows)


def remote_variables(sparql: str) -> list[str]:
    """The projected variables of a SELECT (for the header of an answer with no keys to send)."""
    found = re.search(r"SELECT\s+(?:DISTINCT\s+)?(.*?)\s+WHERE", sparql, re.IGNORECASE | re.DOTALL)
    return re.findall(r"\?(\w+)", found.group(1)) if found else []
