"""The `kg` command: a thin Click layer over the library.

Commands parse arguments, call plain functions and print. Heavy libraries (rdflib, pyshacl, owlready2,
SPARQLWrapper) are imported inside the functions that need them, so `kg query` starts fast.
Exit codes follow pyshacl: 0 success or conforms, 1 findings (violations, inconsistency), 2 bad input or
runtime error (one line on stderr, never a traceback).

- `kg.cli.base`  the group, its error handling (one `kg:` line, exit codes, flag hints), shared options
- `kg.cli.ask`   queries, query, sparql, why, stats, audit
- `kg.cli.find`  search, and the notes saying what a name given for a term was taken to mean
- `kg.cli.data`  validate, reason, load
- `kg.cli.link`  link offline, report, wikidata, federated
"""

from kg.cli import ask, data, find, link  # noqa: F401  (registers the commands on `main`)
from kg.cli.base import main, run

__all__ = ["main", "run"]
