"""crossroads-kg: a provenance-first knowledge graph of illicit drug markets.

The library is a handful of plain modules; `kg.cli` is a thin Click layer on top of them. Data flows from
files (`layout`, `reading`, `graph`) through the gate (`sparql`) to an engine (`query`, `remote`) and out
(`output`, `files`):

- `kg.layout`     where the ontology, shapes, data and stored queries live (bundled or a graph folder)
- `kg.reading`    reading input files within limits (no FIFO, no /dev/zero, no file beyond its size limit)
- `kg.graph`      parsing Turtle into rdflib graphs and a verified, cached pyoxigraph store
- `kg.limits`     every limit as data (time, sizes, depth, rows), each overridable by `KG_LIMIT_<NAME>`
- `kg.errors`     KgError and its kinds: LimitExceeded, Refused
- `kg.sparql`     the gate: query or update by tokens, SERVICE, nesting, parameter binding, list columns
- `kg.query`      running questions on the embedded store or an endpoint, with one binding semantics
- `kg.remote`     the one HTTP client: a wall-clock budget per request, size caps, same-host redirects
- `kg.catalog`    the stored SPARQL questions (`queries/*.rq` with grlc-style headers)
- `kg.params`     typed parameters turned into RDF terms
- `kg.output`     rendering results as tables, CSV, TSV, JSON and Markdown; `printable` for terminals
- `kg.files`      atomic writes of output files
- `kg.validate`   SHACL validation with pyshacl, plus ill-typed literals
- `kg.reason`     OWL 2 DL reasoning with owlready2 + HermiT
- `kg.stats`      counts of triples, claims, citations, sources and entities
- `kg.load`       putting the graph into a server (Graph Store Protocol), verified
- `kg.audit`      provenance audits as stored checks; `kg.report_html` renders them as a page
- `kg.evidence`   the evidence behind a term or a row (`kg why`, `--why`); `kg.grades` grades sources
- `kg.link`       offline links to open datasets; `kg.wikidata` live lookups and federated questions
- `kg.docs`       generated Markdown pages
- `kg.watchdog`   the `kg` process's time limit and signal handling
"""

__version__ = "0.1.0"
