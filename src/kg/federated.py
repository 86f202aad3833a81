"""Federated questions: the local graph joined with an external endpoint.

A federated question (`queries/federated/NAME.rq`, loaded by kg.catalog) joins the local graph with an external
endpoint: its local part runs on the local engine, the distinct values of its join variable are bound to the
remote part in batches (`engine.select(remote, {join: keys})`, the one way values are bound), and the rows
are left-joined here — a local row without a remote match is kept with empty remote columns. rdflib's
in-process `SERVICE` is not used: a second SERVICE re-runs the first, a prefixed endpoint silently returns
nothing and there is no timeout.

The remote engine is kg.answer_cache's (answers kept on disk, retries for public endpoints).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from kg.answer_cache import WIKIDATA_ENDPOINT, Progress, batches, remote_engine
from kg.catalog import StoredQuery, find, load_catalog
from kg.errors import KgError, Refused
from kg.query import Engine, LocalEngine, Result, Term

__all__ = ["batches", "catalog", "endpoint_to_use", "find_question", "listing", "remote_columns", "remote_engine",
           "run"]


def catalog(queries_dir: Path) -> list[StoredQuery]:
    """The federated questions of a queries folder (its `federated/`), by name."""
    return load_catalog(queries_dir, ("federated",)).federated


def listing(questions: list[StoredQuery]) -> str:
    return "".join(f"{q.name:<32} {q.title}\n" for q in questions)


def find_question(queries_dir: Path, name: str) -> StoredQuery:
    """The federated question `name`, or kg.errors.NotFound with the closest names."""
    return find(queries_dir, name, "federated")


def endpoint_to_use(question: StoredQuery, given: str | None) -> str:
    """`given`, else the question's own endpoint (Wikidata's when it names none) — but only for a question of
    the bundled graph: a stored file from any other folder would choose which host `kg` contacts, and only
    the user may."""
    from kg.layout import bundled_root, is_installed_path

    if given:
        return given
    own = question.endpoint or WIKIDATA_ENDPOINT
    path = question.path
    if path is not None and (is_installed_path(path) or bundled_root().resolve() in path.resolve().parents):
        return own
    raise Refused(f"{path} names its own endpoint ({own}); a federated question from outside the bundled graph "
                  "is only sent to an endpoint given explicitly")


def run(question: StoredQuery, local: Engine, remote: Engine, progress: Progress | None = None) -> Result:
    """Run the local part, send its join keys to the remote part in batches, and left-join the rows here."""
    answer = local.select(question.sparql)
    if question.join not in answer.variables:
        raise KgError(f"{question.path}: the local part does not project ?{question.join}")
    at = answer.variables.index(question.join)
    keys = sorted({str(row[at]): row[at] for row in answer.rows if row[at] is not None}.values(), key=str)
    columns, matches = _remote_rows(question, remote, [k for k in keys if k is not None], progress)
    extra = [v for v in columns if v not in answer.variables]
    picks = [columns.index(v) for v in extra]
    rows = []
    for row in answer.rows:
        found = matches.get(str(row[at]), []) if row[at] is not None else []
        rows += [list(row) + [match[i] for i in picks] for match in found] or [list(row) + [None] * len(extra)]
    return Result(answer.variables + extra, rows)


def _remote_rows(question: StoredQuery, remote: Engine, keys: list[Term], progress: Progress | None,
                 ) -> tuple[list[str], dict[str, list[list[Term | None]]]]:
    """The remote part's columns, and its rows by join key, asked in batches of keys."""
    rows: dict[str, list[list[Term | None]]] = defaultdict(list)
    columns: list[str] | None = None
    for batch in batches(keys):
        result = remote.select(question.remote, {question.join: batch})
        if question.join not in result.variables:
            raise KgError(f"{question.path}: the remote part does not project ?{question.join}")
        columns = columns or result.variables
        where = result.variables.index(question.join)
        order = [result.variables.index(v) for v in columns]
        for row in result.rows:
            if row[where] is not None:
                rows[str(row[where])].append([row[i] for i in order])
        if progress:
            progress(1)
    return (columns if columns is not None else remote_columns(question)), rows


def remote_columns(question: StoredQuery) -> list[str]:
    """The columns of the remote part, for an answer with no keys to send: read off the remote part run with
    no keys on an empty embedded store (nothing is contacted); just the join variable if it cannot run there."""
    try:
        return LocalEngine(ox.Store()).select(question.remote, {question.join: []}).variables
    except KgError:
        return [question.join]
