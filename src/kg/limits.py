"""The limits every command works within, as data: a wall-clock budget, sizes, depths and row counts.

A limit that is hit is never a partial answer: the library raises `kg.errors.LimitExceeded` naming the
limit, and the CLI prints one line and exits 2. Each limit can be changed with an environment variable
(`KG_LIMIT_<NAME>`, e.g. `KG_LIMIT_TIME_SECONDS=900`); the CLI also has `--time-limit`.
docs/reliability.md lists them with what each command may read, write and contact.
"""

from __future__ import annotations

import os

from kg.errors import KgError

DEFAULTS: dict[str, float] = {
    # whole-command wall-clock budget, enforced by the CLI's watchdog (kg.watchdog)
    "time_seconds": 600.0,
    # a remote SPARQL request, from connecting to the last byte of the answer
    "request_seconds": 30.0,
    # the text of one SPARQL query
    "query_chars": 1_000_000,
    # nesting of { } and ( ) in one SPARQL query (the parser recurses; 5,000 levels crash it)
    "query_depth": 100,
    # one answer read from an endpoint
    "answer_bytes": 256 * 1024 * 1024,
    # rows of one answer, embedded or remote
    "answer_rows": 2_000_000,
    # one Turtle file of the graph, and a report text given to check quotes against
    "turtle_file_bytes": 256 * 1024 * 1024,
    "source_text_bytes": 64 * 1024 * 1024,
    # one stored-question or audit-check file, and the nesting of [ ] and { } in its YAML header (PyYAML's
    # time grows faster than the square of the depth: 2,000 levels took 2 s)
    "stored_file_bytes": 1_000_000,
    "header_depth": 32,
}


def limit(name: str) -> float:
    """The value of limit `name`: `$KG_LIMIT_<NAME>` when set, else the default."""
    if name not in DEFAULTS:
        raise KeyError(name)
    raw = os.environ.get(f"KG_LIMIT_{name.upper()}")
    if raw is None or raw == "":
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        raise KgError(f"KG_LIMIT_{name.upper()} must be a number, got {raw!r}") from None
    if value <= 0:
        raise KgError(f"KG_LIMIT_{name.upper()} must be positive, got {raw!r}")
    return value


def int_limit(name: str) -> int:
    return int(limit(name))
