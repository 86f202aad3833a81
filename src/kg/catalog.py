"""The catalog of stored SPARQL files: questions, audit checks, federated questions and library queries.

Every stored query is one `.rq` file whose name is its name, with a grlc-style header of YAML in `#+` comment
lines at the top:

    #+ title: Criminal groups and networks
    #+ question: Which criminal groups or networks are active in or through Kazakhstan?
    #+ description: One row per group, with its base, nationality and main substances.
    #+ tags: [actors, cq1]
    #+ params:
    #+   - name: country
    #+     type: iri
    #+     default: place:kazakhstan
    #+     description: The country to look at.

A parameter that names what the question is about has no `default` (it is required) and gives an `example`
(for the catalog page and the tests) and, where only one class makes sense, the `class` its value must be of
(a name given for it is looked up among the instances of that class and its subclasses; see kg.search_names).

The folder says what a file is (`KIND_FOLDERS`) and the kind says which header keys it takes (`KINDS`):

- `queries/NAME.rq`, a **question** users ask (`kg query NAME`). A question with a `severity` is also an audit
  check: one file, one definition, one answer, whether asked with `kg query` or run by `kg audit`.
- `queries/audits/NAME.rq`, a **check** only: findings an editor fixes, not a question a user asks.
- `queries/federated/NAME.rq`, a **federated** question: a `#@ local` part for the graph and a `#@ remote`
  part for an external endpoint, joined on the variable named by `join` (see kg.federated).
- `src/kg/queries/NAME.rq`, a **library** query the commands run (`kg stats`, `kg why`, linking). These ship
  inside the package and are never read from a graph folder, so a third-party folder cannot change them.

Names are unique across a catalog and follow one rule (`NAME`). Parameters are SPARQL variables of the same
name (`?country`); values are bound as RDF terms by the engine (kg.query), never pasted into query text.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg.errors import KgError, LimitExceeded, NotFound
from kg.limits import int_limit

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "year", "boolean")
SEVERITIES = ("error", "warning", "info")
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")  # a stored file: lower-case words joined by hyphens
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PART = re.compile(r"^#@\s*(local|remote)\s*$", re.MULTILINE)
LIBRARY_DIR = Path(__file__).resolve().parent / "queries"


@dataclass(frozen=True)
class Kind:
    """What a kind of stored file is for, and the header keys it requires and allows."""

    name: str
    folder: str  # inside a queries folder ("" is the folder itself); the library has its own folder
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    noun: str = "stored query"
    invalid: str = "invalid header"  # how a problem with a file of this kind begins

    @property
    def keys(self) -> frozenset[str]:
        return self.required | self.optional


KINDS = {
    kind.name: kind
    for kind in (
        Kind("question", "", frozenset({"title", "question", "description", "tags"}),
             frozenset({"params", "endpoint_note", "severity"}), "stored question"),
        Kind("check", "audits", frozenset({"title", "description", "severity", "tags"}), frozenset(), "audit check",
             "invalid audit header"),
        Kind("federated", "federated", frozenset({"title", "question", "description", "tags", "join"}),
             frozenset({"endpoint"}), "federated question", "invalid federated question"),
        Kind("library", "", frozenset({"title", "description"}), frozenset({"params", "tags"}), "library query",
             "invalid library query"),
    )
}
GRAPH_KINDS = ("question", "check", "federated")  # the kinds a graph folder's queries/ holds


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    default: str | None = None
    example: str | None = None
    of_class: str | None = None  # an IRI: a name given for this parameter is looked up in this class

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class StoredQuery:
    """One stored file. `sparql` is the whole query (for a federated question, its local part)."""

    name: str
    path: Path | None
    kind: str
    title: str
    description: str
    tags: list[str]
    sparql: str = ""
    question: str = ""
    params: list[Param] = field(default_factory=list)
    severity: str | None = None  # set: an audit check
    endpoint_note: str = ""
    join: str = ""  # federated only: the variable both parts share
    endpoint: str = ""  # federated only: the external endpoint it was written for
    remote: str = ""  # federated only: the remote part

    @property
    def is_check(self) -> bool:
        return self.severity is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "question": self.question,
            "description": self.description,
            "tags": self.tags,
            "parameters": [
                {"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                 "example": p.example, "class": p.of_class, "description": p.description}
                for p in self.params
            ],
        }


# --- The header ------------------------------------------------------------------------------------------

# PyYAML's safe loader on libyaml where the wheel has it (the same constructors as yaml.SafeLoader, ~6× faster:
# every `kg audit` and `kg queries` reads all the headers)
SAFE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_header(path: Path, text: str) -> dict[str, Any]:
    lines = [line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        raise KgError(f"{path}: no '#+' header (title, description, tags, …)")
    depth, cap = _nesting("\n".join(lines)), int_limit("header_depth")
    if depth > cap:  # refused before PyYAML, whose time grows faster than the square of the depth
        raise LimitExceeded(f"{path}: header nests too deeply to be read ({depth} levels, more than the "
                            f"limit of {cap})", "header_depth")
    try:
        header = yaml.load("\n".join(lines), Loader=SAFE_LOADER)  # a safe loader (above)
    except yaml.YAMLError as err:
        raise KgError(f"{path}: header is not valid YAML: {str(err).splitlines()[0]}") from None
    except RecursionError:  # YAML nested thousands deep ("[[[[..."): the parser recurses once per level
        raise KgError(f"{path}: header nests too deeply to be read") from None
    if not isinstance(header, dict):
        raise KgError(f"{path}: header must be a YAML mapping")
    bad = _not_unicode(header)
    if bad:
        raise KgError(f"{path}: header holds text that is not valid Unicode ({bad!r})")
    return header


def _nesting(text: str) -> int:
    """The deepest nesting of flow collections (`[` and `{`) in a YAML text, brackets inside quotes counted too:
    an upper bound, cheap to take before the parser sees the text.

    >>> _nesting("tags: [a, [b, {c: d}]]")
    3
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _not_unicode(value: object) -> str | None:
    """The first string in a YAML value that cannot be written as UTF-8 (a lone surrogate from a `\ud800`
    escape), else None. Each node is visited once: YAML aliases share nodes, and a header of nested aliases
    would otherwise take exponential time to walk."""
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item.encode("ascii", "backslashreplace").decode("ascii")[:40]
        elif isinstance(item, dict):
            todo += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            todo += item
    return None


def strip_header(text: str) -> str:
    """The SPARQL text of a stored file without its `#+` header lines."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#+"))


def _text(key: str, value: object) -> list[str]:
    return [] if isinstance(value, str) and value.strip() else [f"'{key}' must be a non-empty string"]


def _tags(key: str, value: object) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        return []
    return [f"'{key}' must be a non-empty list of strings"]


def _severity(key: str, value: object) -> list[str]:
    return [] if value in SEVERITIES else [f"'{key}' must be one of {', '.join(SEVERITIES)}"]


def _variable(key: str, value: object) -> list[str]:
    ok = isinstance(value, str) and VARIABLE.match(value)
    return [] if ok else [f"'{key}' must name the variable both parts share"]


def _url(key: str, value: object) -> list[str]:
    ok = isinstance(value, str) and re.match(r"^https?://\S+$", value)
    return [] if ok else [f"'{key}' must be an http(s) URL"]


def _params(key: str, value: object) -> list[str]:
    if not isinstance(value, list):
        return [f"'{key}' must be a list"]
    problems = []
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            problems.append(f"params[{i}] must be a mapping")
            continue
        extra = sorted(set(p) - {"name", "type", "default", "example", "class", "description"})
        if extra:
            problems.append(f"params[{i}] has unknown keys {extra}")
        if not isinstance(p.get("name"), str) or not PARAM_NAME.match(p["name"]):
            problems.append(f"params[{i}].name must match {PARAM_NAME.pattern}")
        if p.get("type") not in PARAM_TYPES:
            problems.append(f"params[{i}].type must be one of {', '.join(PARAM_TYPES)}")
        if not isinstance(p.get("description"), str) or not p["description"].strip():
            problems.append(f"params[{i}].description must be a non-empty string")
        for key in ("default", "example"):
            if key in p and isinstance(p[key], list | dict):
                problems.append(f"params[{i}].{key} must be a plain value, not a list or mapping")
        if "class" in p and (not isinstance(p["class"], str) or not p["class"].strip()):
            problems.append(f"params[{i}].class must be a CURIE or an IRI")
    return problems


KEY_RULES: dict[str, Callable[[str, object], list[str]]] = {
    "title": _text, "question": _text, "description": _text, "endpoint_note": _text, "tags": _tags,
    "params": _params, "severity": _severity, "join": _variable, "endpoint": _url,
}


def check_header(header: dict[str, Any], kind: str = "question") -> list[str]:
    """Problems with a header against its kind's keys (empty when it is valid)."""
    schema = KINDS[kind]
    problems = [f"unknown key '{k}'" for k in header if k not in schema.keys]
    for key in sorted(schema.keys, key=list(KEY_RULES).index):
        if key in header or key in schema.required:
            problems += KEY_RULES[key](key, header.get(key))
    return problems


# --- Loading ---------------------------------------------------------------------------------------------

def read_stored_file(path: Path) -> str:
    """The text of one stored SPARQL file: a regular UTF-8 file within the `stored_file_bytes` limit."""
    from kg.reading import read_text

    return read_text(path, "stored_file_bytes", "a stored file")


def load_query(path: Path, kind: str = "question") -> StoredQuery:
    """The stored file at `path` as a `kind`, or one KgError naming the file and every problem found."""
    text = read_stored_file(path)
    header = parse_header(path, text)
    problems = check_header(header, kind)
    if not NAME.match(path.stem):
        problems.append(f"file name '{path.stem}' must be lower-case words joined by hyphens")
    body = strip_header(text)
    local = remote = ""
    if kind == "federated":
        local, remote, more = _parts(body, header.get("join"))
        problems += more
    params = header.get("params")
    if "severity" in header and isinstance(params, list) and any(
            isinstance(p, dict) and p.get("default") is None for p in params):
        problems.append("a question with a severity is also an audit check, which runs with the defaults: "
                        "every parameter needs a default")
    if problems:
        raise KgError(f"{path}: {KINDS[kind].invalid}: {'; '.join(problems)}")
    return StoredQuery(
        name=path.stem, path=path, kind=kind, title=header["title"].strip(),
        description=" ".join(header["description"].split()), tags=list(header.get("tags", [])),
        sparql=local or body, question=str(header.get("question", "")).strip(), params=_typed_params(header),
        severity=header.get("severity"), endpoint_note=" ".join(str(header.get("endpoint_note", "")).split()),
        join=str(header.get("join", "")), endpoint=str(header.get("endpoint", "")), remote=remote,
    )


def _typed_params(header: dict[str, Any]) -> list[Param]:
    from kg.params import expand

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return [Param(p["name"], p["type"], p["description"].strip(), text(p.get("default")), text(p.get("example")),
                  None if p.get("class") is None else expand(str(p["class"]).strip()))
            for p in header.get("params", [])]


def _parts(body: str, join: object) -> tuple[str, str, list[str]]:
    """The local and remote parts of a federated question, and what is wrong with them."""
    parts = PART.split(body)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"local", "remote"} or len(parts) != 5 or parts[1] != "local":
        return "", "", ["needs one '#@ local' part and one '#@ remote' part, in that order"]
    local, remote = sections["local"].strip() + "\n", sections["remote"].strip() + "\n"
    if isinstance(join, str) and re.search(rf"VALUES\s+\?{re.escape(join)}\s*\{{\s*\}}", remote):
        return local, remote, [f"the remote part holds an empty 'VALUES ?{join} {{}}': the join keys are bound "
                               "by the engine, drop the placeholder"]
    return local, remote, []


def _kind_folder(queries_dir: Path, kind: str) -> Path:
    return queries_dir / KINDS[kind].folder if KINDS[kind].folder else queries_dir


@dataclass(frozen=True)
class Catalog:
    """Every stored file of a graph's queries folder, by kind; names are unique across kinds."""

    queries_dir: Path
    entries: tuple[StoredQuery, ...]

    def of_kind(self, *kinds: str) -> list[StoredQuery]:
        return [q for q in self.entries if q.kind in kinds]

    @property
    def questions(self) -> list[StoredQuery]:
        return self.of_kind("question")

    @property
    def checks(self) -> list[StoredQuery]:
        """The audit checks: questions with a severity, and check-only files."""
        return sorted((q for q in self.entries if q.is_check), key=lambda q: q.name)

    @property
    def federated(self) -> list[StoredQuery]:
        return self.of_kind("federated")


def load_catalog(queries_dir: Path, kinds: Iterable[str] = GRAPH_KINDS) -> Catalog:
    """The stored files of `kinds` in `queries_dir` (questions), `audits/` (checks) and `federated/`, or a KgError
    when one is invalid or a name is defined twice — in any folder of the catalog, loaded or not."""
    entries: dict[str, StoredQuery] = {}
    kinds = tuple(kinds)
    for kind in kinds:
        folder = _kind_folder(queries_dir, kind)
        for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
            stored = load_query(path, kind)
            if stored.name in entries:
                raise KgError(f"{path}: '{stored.name}' is defined twice (also in {entries[stored.name].path}); "
                              "each stored query exists once")
            entries[stored.name] = stored
    others = [kind for kind in GRAPH_KINDS if kind not in kinds] if set(kinds) <= set(GRAPH_KINDS) else []
    for kind in others:  # their names only: a listing of questions does not read every check
        folder = _kind_folder(queries_dir, kind)
        for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
            if path.stem in entries:
                raise KgError(f"{path}: '{path.stem}' is defined twice (also in {entries[path.stem].path}); "
                              "each stored query exists once")
    return Catalog(queries_dir, tuple(sorted(entries.values(), key=lambda q: (q.kind, q.name))))


def find(queries_dir: Path, name: str, kind: str = "question") -> StoredQuery:
    """The stored `kind` called `name` (reading only that file, and checking that no other folder of the
    catalog defines the name too), or a NotFound error with the closest names."""
    folder = _kind_folder(queries_dir, kind)
    path = folder / f"{name}.rq"
    if NAME.match(name) and path.is_file():
        if kind in GRAPH_KINDS:
            for other in GRAPH_KINDS:
                twin = _kind_folder(queries_dir, other) / f"{name}.rq"
                if other != kind and twin.is_file():
                    raise KgError(f"{twin}: '{name}' is defined twice (also in {path}); each stored query exists once")
        return load_query(path, kind)
    known = sorted(p.stem for p in folder.glob("*.rq") if p.stem != name) if folder.is_dir() else []
    rule = "" if NAME.match(name) else "; names are lower-case words joined by hyphens"
    raise not_found(name, KINDS[kind].noun, known, rule)


def not_found(name: str, noun: str, known: Iterable[str], note: str = "") -> NotFound:
    """`no <noun> named 'x'; did you mean …?` and `note` (the suggestions are kept on the error for the
    caller)."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return NotFound(f"no {noun} named '{name}'{hint}{note}", noun, close)


@functools.cache
def library(name: str) -> StoredQuery:
    """The library query `name` from the package's own `queries/` folder (the commands' SPARQL)."""
    return find(LIBRARY_DIR, name, "library")
