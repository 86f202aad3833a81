"""crossroads-kg: a provenance-first knowledge graph of illicit drug markets.

A small library with a thin Click layer on top (`kg.cli`): commands parse arguments, call plain functions
and print. Data flows from files through one loader and one gate to one engine interface, and out
(docs/architecture.md draws it on one page):

    files ─ layout, reading, graph ─┐
    .rq files ─ catalog ────────────┴─ sparql (the gate) ─ query.Engine (LocalEngine | RemoteEngine) ─ output, files

Files
- `kg.layout`     where the ontology, shapes, data and stored queries live (bundled or a graph folder)
- `kg.reading`    reading input files within limits (no FIFO, no /dev/zero, no file beyond its size limit)
- `kg.graph`      parsing Turtle into rdflib graphs and a verified, cached pyoxigraph store; PREFIXES, CKG
- `kg.limits`     every limit as data (time, sizes, depth, rows), each overridable by `KG_LIMIT_<NAME>`
- `kg.errors`     KgError and its kinds: LimitExceeded, Refused, NotFound (messages name no CLI flag)

Questions and engines
- `kg.catalog`    the one loader of stored SPARQL: questions, audit checks, federated questions and the
                  library's own queries (`src/kg/queries/*.rq`), one header schema per kind, one name rule
- `kg.sparql`     the gate: query or update by tokens, SERVICE, nesting, parameter binding, list columns,
                  prefixes (declared, or predeclared for ad-hoc queries)
- `kg.syntax`     SPARQL syntax errors for people: line, column, what was expected, the line with a caret
- `kg.query`      the Engine every reading command uses: the embedded store or an endpoint, same answers
- `kg.remote`     the one HTTP client: User-Agent, a wall-clock budget per request, size caps, retries
- `kg.params`     typed parameters turned into RDF terms (an IRI parameter also takes a name)
- `kg.search_index` the names and quotes of the graph's terms, folded for matching (SQLite FTS5 in memory)
- `kg.search`     `kg search`: ranked full-text, prefix and nearest-spelling search over the index
- `kg.search_names` names wherever a term is: an IRI, a CURIE or a name resolved to one term, or an error

Commands' work
- `kg.stats`      counts of triples, claims, citations, sources and entities (`stats-*.rq`)
- `kg.evidence`   the claims behind an entity (one definition, the stored question evidence-for-entity) and
                  behind a row (`--why`), with quotes, citations and sources; `kg.grades` grades sources
- `kg.why`        `kg why TERM`: the evidence tree of one term, its claims grouped by the fact each backs
- `kg.audit`      provenance audits: the catalog's checks and quote fixity; `kg.report_html` renders a page
- `kg.validate`   SHACL validation with pyshacl, plus ill-typed literals; `kg.shacl_sparql` runs the shapes
                  whose targets are SPARQL queries on pyoxigraph (pyshacl's findings, ~2× faster)
- `kg.reason`     OWL 2 DL reasoning over the ontology and the data with owlready2 + HermiT
- `kg.load`       putting the graph into a server (Graph Store Protocol), verified
- `kg.link`       offline links to open datasets (a package: entities, countries, places, substances,
                  records, Turtle writer, report with Jinja2 templates in `src/kg/templates/`)
- `kg.wikidata`   live lookups in Wikidata; `kg.federated` federated questions (the graph joined with an
                  endpoint); `kg.answer_cache` the on-disk answers of those external endpoints

Out
- `kg.output`     rendering results as tables, CSV, TSV, JSON and Markdown; `printable` for terminals;
                  `wrap` and `terminal_width`: text for people fitted to the terminal, no word or IRI cut
- `kg.graph_answer` the graphs of CONSTRUCT and DESCRIBE: canonical, sorted, as Turtle, N-Triples, JSON-LD
- `kg.spreadsheet` answers as Excel workbooks (openpyxl): a sheet per result, a sheet of the evidence
- `kg.files`      atomic writes of output files
- `kg.docs`       generated Markdown pages (docs/queries.md, docs/coverage.md)
- `kg.prose`      generated prose from the Jinja2 templates in `src/kg/templates/` (no prose in code)
- `kg.watchdog`   the `kg` process's time limit and signal handling
"""

__version__ = "0.1.0"
