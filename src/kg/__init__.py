"""crossroads-kg: a provenance-first knowledge graph of illicit drug markets.

The library is a handful of plain modules; `kg.cli` is a thin Click layer on top of them:

- `kg.layout`   where the ontology, shapes, data and stored queries live (bundled or `--data DIR`)
- `kg.graph`    parsing Turtle into rdflib graphs and a cached pyoxigraph store
- `kg.validate` SHACL validation with pyshacl
- `kg.reason`   OWL 2 DL reasoning with owlready2 + HermiT
- `kg.stats`    counts of triples, claims, citations, sources and entities
- `kg.catalog`  the stored SPARQL questions (`queries/*.rq` with grlc-style headers)
- `kg.query`    running questions on the embedded store or a SPARQL endpoint
- `kg.output`   rendering results as tables, CSV, TSV, JSON and Markdown
"""

__version__ = "0.1.0"
