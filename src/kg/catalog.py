"""The catalog of stored questions: one SPARQL file per question in `queries/`, with a grlc-style header.

A header is YAML in `#+` comment lines at the top of the file:

    #+ title: Criminal groups and networks
    #+ question: Which criminal groups or networks are active in or through Kazakhstan?
    #+ description: One row per group, with its base, nationality and main substances.
    #+ tags: [actors, cq1]
    #+ params:
    #+   - name: country
    #+     type: iri
    #+     default: place:kazakhstan
    #+     description: The country to look at.

Each parameter is a SPARQL variable of the same name (`?country`). Values are bound as RDF terms (see
`kg.params`), never pasted into the query text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kg.errors import KgError

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "year", "boolean")
HEADER_KEYS = {"title", "question", "description", "tags", "params", "endpoint_note"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class StoredQuery:
    name: str
    path: Path
    title: str
    question: str
    description: str
    tags: list[str]
    params: list[Param] = field(default_factory=list)
    sparql: str = ""

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "question": self.question,
            "description": self.description,
            "tags": self.tags,
            "parameters": [
                {"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                 "description": p.description}
                for p in self.params
            ],
        }


def parse_header(path: Path, text: str) -> dict:
    lines = [line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        raise KgError(f"{path}: no '#+' header (title, question, description, tags, params)")
    try:
        header = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as err:
        raise KgError(f"{path}: header is not valid YAML: {str(err).splitlines()[0]}") from None
    except RecursionError:
        raise KgError(f"{path}: header nests too deeply to be read") from None
    if not isinstance(header, dict):
        raise KgError(f"{path}: header must be a YAML mapping")
    bad = _not_unicode(header)
    if bad:
        raise KgError(f"{path}: header holds text that is not valid Unicode ({bad!r})")
    return header


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


def check_header(path: Path, header: dict) -> list[str]:
    """Problems with a header against the catalog's schema (empty when it is valid)."""
    problems = [f"unknown key '{k}'" for k in header if k not in HEADER_KEYS]
    for key in ("title", "question", "description"):
        if not isinstance(header.get(key), str) or not header[key].strip():
            problems.append(f"'{key}' must be a non-empty string")
    tags = header.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        problems.append("'tags' must be a non-empty list of strings")
    params = header.get("params", [])
    if not isinstance(params, list):
        problems.append("'params' must be a list")
        params = []
    for i, p in enumerate(params):
        if not isinstance(p, dict):
            problems.append(f"params[{i}] must be a mapping")
            continue
        extra = sorted(set(p) - {"name", "type", "default", "description"})
        if extra:
            problems.append(f"params[{i}] has unknown keys {extra}")
        if not isinstance(p.get("name"), str) or not NAME.match(p["name"]):
            problems.append(f"params[{i}].name must match {NAME.pattern}")
        if p.get("type") not in PARAM_TYPES:
            problems.append(f"params[{i}].type must be one of {', '.join(PARAM_TYPES)}")
        if not isinstance(p.get("description"), str) or not p["description"].strip():
            problems.append(f"params[{i}].description must be a non-empty string")
        if "default" in p and isinstance(p["default"], list | dict):
            problems.append(f"params[{i}].default must be a plain value, not a list or mapping")
    return problems


def read_stored_file(path: Path) -> str:
    """The text of one stored SPARQL file: a regular UTF-8 file within the `stored_file_bytes` limit."""
    from kg.reading import read_text

    return read_text(path, "stored_file_bytes", "a stored file")


def load_query(path: Path) -> StoredQuery:
    text = read_stored_file(path)
    header = parse_header(path, text)
    problems = check_header(path, header)
    if problems:
        raise KgError(f"{path}: invalid header: {'; '.join(problems)}")
    params = [
        Param(p["name"], p["type"], p["description"].strip(), None if p.get("default") is None else str(p["default"]))
        for p in header.get("params", [])
    ]
    body = strip_header(text)
    return StoredQuery(
        name=path.stem, path=path, title=header["title"].strip(), question=header["question"].strip(),
        description=" ".join(header["description"].split()), tags=list(header["tags"]), params=params, sparql=body,
    )


def load_catalog(queries_dir: Path) -> list[StoredQuery]:
    return [load_query(p) for p in sorted(queries_dir.glob("*.rq"))]


def find(queries_dir: Path, name: str) -> StoredQuery:
    """The stored question called `name`, or a KgError suggesting the closest names."""
    path = queries_dir / f"{name}.rq"
    if NAME.match(name.replace("-", "_")) and path.is_file():
        return load_query(path)
    names = sorted(p.stem for p in queries_dir.glob("*.rq"))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `kg queries` lists them"
    raise KgError(f"no stored question named '{name}'{hint}")
