"""Reading SPARQL text before anything runs it: which form it is, how deep it nests, whether it calls
SERVICE, where its parameters are bound and which columns are GROUP_CONCAT lists.

A regular expression over lines cannot tell `PREFIX ex: <http://ex/> DROP ALL` (an update) from
`SELECT ?delete WHERE { ?s ?p "DROP ALL" }` (a query). This module tokenizes the text by the SPARQL 1.1
grammar's terminals (§19.8: IRIs, prefixed names, variables, the four string forms, comments, numbers,
punctuation), so keywords are only ever seen where they are keywords. The engines then parse the text for
real (`kg.query.check_query`); this module is the gate in front of them:

- a text that is not a SELECT, ASK, CONSTRUCT or DESCRIBE query is refused before any request is made;
- `SERVICE` is refused for the embedded engine (it would make HTTP calls from inside pyoxigraph, with no
  time limit, to any host a query or a stored file names);
- nesting deeper than the `query_depth` limit is refused (the parsers recurse; 5,000 levels crash them);
- parameters are bound by one VALUES block placed first in the query's top-level group, so a FILTER sees
  them, and the very same text runs embedded and on any endpoint (one binding semantics everywhere);
- GROUP_CONCAT columns are found so their items can be put in a deterministic order;
- prefixed names are checked against the prefixes the text declares and those predeclared for it (as the
  Wikidata Query Service predeclares its own), and the declarations it lacks are written on one line before
  it (`prologue`), so an error's line in the parser's text is one more than in the user's.

A syntax error is a `SparqlSyntaxError`, which keeps its line and column in the user's text (`kg.syntax`
turns the parser's errors into these and words them for people).

>>> analyse("PREFIX ex: <http://ex/> DROP ALL").form
'DROP'
>>> analyse('SELECT ?delete WHERE { ?delete ?p "DROP ALL" }').form
'SELECT'
>>> analyse("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }").calls_service
True
>>> analyse('SELECT (GROUP_CONCAT(?n; SEPARATOR="; ") AS ?names) { ?s ?p ?n }').lists
{'names': '; '}
>>> sorted(analyse("PREFIX ex: <http://ex/> SELECT * { ?s ex:p ?o ; rdfs:label ?l }").prefixed)
['ex', 'rdfs']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from kg.errors import KgError, LimitExceeded, Refused
from kg.limits import int_limit

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_FORMS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")

# Terminals of the SPARQL 1.1 grammar (§19.8), in the order they must be tried.
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
# The grammar's classes written as complements, `[^…]`: the same characters (tests/test_sparql.py checks every
# code point against the classes above), but compiled about 3x faster, which every `kg` process pays at start.
# Regenerate with tests/test_sparql.py::negated_class if a class above changes.
POSITIVE_CLASSES = {
    "base": f"[{_PN_CHARS_BASE}]",
    "u09": f"[{_PN_CHARS_U}0-9]",
    "var_rest": f"[{_PN_CHARS_U}0-9\\u00b7\\u0300-\\u036f\\u203f-\\u2040]",
    "chars": f"[{_PN_CHARS}]",
    "chars_dot": f"[{_PN_CHARS}.]",
    "u_colon_09": f"[{_PN_CHARS_U}:0-9]",
    "chars_dot_colon": f"[{_PN_CHARS}.:]",
    "chars_colon": f"[{_PN_CHARS}:]",
}
NEGATED_CLASSES = {
    "base": (
        r"[^\x00-\x40\x5b-\x60\x7b-\xbf\xd7\xf7\u0300-\u036f\u037e\u2000-\u200b\u200e-\u206f"
        r"\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff\U000f0000-\U0010ffff]"
    ),
    "u09": (
        r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xbf\xd7\xf7\u0300-\u036f\u037e\u2000-\u200b"
        r"\u200e-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "var_rest": (
        r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\xd7\xf7\u037e\u2000-\u200b\u200e-\u203e"
        r"\u2041-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "chars": (
        r"[^\x00-\x2c\x2e-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\xd7\xf7\u037e\u2000-\u200b"
        r"\u200e-\u203e\u2041-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "chars_dot": (
        r"[^\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\xd7\xf7\u037e\u2000-\u200b"
        r"\u200e-\u203e\u2041-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "u_colon_09": (
        r"[^\x00-\x2f\x3b-\x40\x5b-\x5e\x60\x7b-\xbf\xd7\xf7\u0300-\u036f\u037e\u2000-\u200b"
        r"\u200e-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "chars_dot_colon": (
        r"[^\x00-\x2c\x2f\x3b-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\xd7\xf7\u037e\u2000-\u200b"
        r"\u200e-\u203e\u2041-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
    "chars_colon": (
        r"[^\x00-\x2c\x2e-\x2f\x3b-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\xd7\xf7\u037e\u2000-\u200b"
        r"\u200e-\u203e\u2041-\u206f\u2190-\u2bff\u2ff0-\u3000\ud800-\uf8ff\ufdd0-\ufdef\ufffe-\uffff"
        r"\U000f0000-\U0010ffff]"
    ),
}
_N = NEGATED_CLASSES
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PREFIX = f"{_N['base']}(?:{_N['chars_dot']}*{_N['chars']})?"
_LOCAL = (f"(?:{_N['u_colon_09']}|{_PLX})(?:(?:{_N['chars_dot_colon']}|{_PLX})*"
          f"(?:{_N['chars_colon']}|{_PLX}))?")
TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$]""" + _N["u09"] + _N["var_rest"] + r"""*)
  | (?P<bnode>_:""" + _N["u09"] + r"""(?:""" + _N["chars_dot"] + r"""*""" + _N["chars"] + r""")?)
  | (?P<pname>(?:""" + _PREFIX + r""")?:(?:""" + _LOCAL + r""")?)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<number>[+-]?(?:\d+\.?\d*[eE][+-]?\d+|\.\d+[eE][+-]?\d+|\d*\.\d+|\d+))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\].,;=<>!+\-*/^|])
    """,
    re.VERBOSE,
)
OPEN, CLOSE = "{([", "})]"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        """The upper-cased word for keyword tokens, '' for anything else (names, strings, IRIs…)."""
        return self.text.upper() if self.kind == "word" else ""


class SparqlSyntaxError(KgError):
    """A query text that is not SPARQL: `problem` at `line` and `column` (from 1, in characters) of `text`,
    the text as its author wrote it; `where` names the file it came from ('' for text given directly) and
    `file_line` the line there (a stored file's header lines are not part of its query text).

    The message is one line; `kg.syntax.excerpt` shows the offending line with a caret under the column.
    """

    def __init__(self, problem: str, text: str, line: int, column: int, where: str = "",
                 file_line: int | None = None) -> None:
        self.problem, self.text, self.line, self.column = problem, text, line, column
        self.where, self.file_line = where, file_line
        place = f"{where}: " if where else ""
        super().__init__(f"{place}SPARQL syntax error at line {self.shown_line}, column {column}: {problem}")

    @property
    def shown_line(self) -> int:
        """The line number people see: in the file when there is one, else in the text."""
        return self.file_line if self.file_line is not None else self.line

    @classmethod
    def at(cls, problem: str, text: str, offset: int) -> SparqlSyntaxError:
        """The error at character `offset` of `text`."""
        line_start = text.rfind("\n", 0, offset) + 1
        return cls(problem, text, text.count("\n", 0, offset) + 1, offset - line_start + 1)

    def source_line(self) -> str:
        """The line of `text` the error is on (without its line break)."""
        lines = self.text.split("\n")
        return lines[self.line - 1].removesuffix("\r") if 0 < self.line <= len(lines) else ""


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of `text` (no whitespace or comments), or a SparqlSyntaxError at the first
    character that starts no SPARQL token."""
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            char = text[position]
            problem = "a string that is not closed" if char in "'\"" else f"unexpected character {char!r}"
            raise SparqlSyntaxError.at(problem, text, position)
        kind = match.lastgroup or ""
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), position)
        position = match.end()


@dataclass(frozen=True)
class Analysis:
    """What the text is, before any engine sees it."""

    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE, or the first keyword of an update (DROP, INSERT, …)
    depth: int  # deepest nesting of { }, ( ) and [ ]
    calls_service: bool
    group_open: int | None  # offset of the '{' that opens the top-level WHERE group
    group_close: int | None  # offset of its matching '}'
    group_is_subselect: bool  # the group holds a sub-SELECT directly: `WHERE { SELECT … }`
    lists: dict[str, str] = field(default_factory=dict)  # GROUP_CONCAT column → its explicit separator
    declared: frozenset[str] = frozenset()  # the prefixes the prologue declares
    prefixed: dict[str, int] = field(default_factory=dict)  # prefix used in a name → offset of its first use
    form_at: int = 0  # offset of the form's keyword

    @property
    def is_query(self) -> bool:
        return self.form in QUERY_FORMS

    def shifted(self, by: int) -> Analysis:
        """The same analysis for the text with `by` characters put before it (a prologue)."""
        def move(offset: int | None) -> int | None:
            return None if offset is None else offset + by
        return replace(self, group_open=move(self.group_open), group_close=move(self.group_close),
                       prefixed={name: offset + by for name, offset in self.prefixed.items()},
                       form_at=self.form_at + by)


def analyse(text: str) -> Analysis:
    """Tokenize `text` once and read off its form, depth, SERVICE calls, top-level group and list columns."""
    if len(text) > int_limit("query_chars"):
        raise LimitExceeded(f"the query has {len(text):,} characters; the limit is {int_limit('query_chars'):,}",
                            "query_chars")
    items = list(tokens(text))
    form, index = _form(items)
    depth, deepest, pairs, stack = 0, 0, {}, []
    for i, token in enumerate(items):
        if token.kind == "punct" and token.text in OPEN:
            depth += 1
            deepest = max(deepest, depth)
            stack.append(i)
        elif token.kind == "punct" and token.text in CLOSE:
            depth -= 1
            if stack:
                pairs[stack.pop()] = i
    if deepest > int_limit("query_depth"):
        raise LimitExceeded(f"the query nests {deepest} levels deep; the limit is {int_limit('query_depth')}",
                            "query_depth")
    service = any(t.keyword == "SERVICE" for t in items)
    opening = _top_group(items, index, form, pairs)
    group_open = group_close = None
    subselect = False
    if opening is not None and opening in pairs:
        group_open, group_close = items[opening].start, items[pairs[opening]].start
        subselect = opening + 1 < len(items) and items[opening + 1].keyword == "SELECT"
    prologue_end = min(index, len(items))
    declared = frozenset(_prefix_of(items[i + 1]) for i in range(prologue_end) if items[i].keyword == "PREFIX"
                         and i + 1 < prologue_end and items[i + 1].kind == "pname")
    prefixed: dict[str, int] = {}
    for token in items[index:]:
        if token.kind == "pname":
            prefixed.setdefault(_prefix_of(token), token.start)
    return Analysis(form, deepest, service, group_open, group_close, subselect, _lists(items, pairs), declared,
                    prefixed, items[index].start if index < len(items) else len(text))


def _prefix_of(token: Token) -> str:
    return token.text.partition(":")[0]


def _form(items: list[Token]) -> tuple[str, int]:
    """The query form (or update keyword) after the prologue of PREFIX and BASE declarations, and the index
    of its token."""
    i = 0
    while i < len(items):
        word = items[i].keyword
        if word == "BASE":
            i += 2
        elif word == "PREFIX":
            i += 3
        else:
            return (word or items[i].text), i
    return "", i


def _top_group(items: list[Token], index: int, form: str, pairs: dict[int, int]) -> int | None:
    """Index of the '{' opening the WHERE group: the first brace outside parentheses after the form keyword,
    skipping a CONSTRUCT template."""
    parens = 0
    skip_template = form == "CONSTRUCT"
    i = index + 1
    while i < len(items):
        token = items[i]
        if token.kind == "punct" and token.text == "(":
            parens += 1
        elif token.kind == "punct" and token.text == ")":
            parens -= 1
        elif token.kind == "punct" and token.text == "{" and parens == 0:
            if skip_template:
                skip_template = False
                i = pairs.get(i, i) + 1
                continue
            return i
        elif token.keyword == "WHERE":
            skip_template = False
        i += 1
    return None


def _lists(items: list[Token], pairs: dict[int, int]) -> dict[str, str]:
    """Columns made by GROUP_CONCAT with an explicit separator: `(… GROUP_CONCAT(… ; SEPARATOR="x") … AS ?v)`
    → {v: x}, also where the list is wrapped (the stored questions tidy lists with REPLACE). A list with the
    default separator is left out: its items cannot be told from the words of one value."""
    found: dict[str, str] = {}
    enclosing = sorted(pairs.items())
    for i, token in enumerate(items):
        if token.keyword != "GROUP_CONCAT" or i + 1 not in pairs:
            continue
        end = pairs[i + 1]
        separator = None
        for j in range(i + 2, end - 2):
            if items[j].keyword == "SEPARATOR" and items[j + 1].text == "=" and items[j + 2].kind == "string":
                separator = _unquote(items[j + 2].text)
        if not separator:
            continue
        around = [(o, c) for o, c in enclosing if o < i and c > end and items[o].text == "("]
        for _, close in sorted(around, reverse=True):  # innermost first
            if close >= 2 and items[close - 2].keyword == "AS" and items[close - 1].kind == "var":
                found[items[close - 1].text[1:]] = separator
                break
    # A list renamed or tidied on its way up from a sub-SELECT, `(COALESCE(?place_list, "") AS ?places)`,
    # is the same list.
    projections = [(o, c) for o, c in enclosing if items[o].text == "(" and c >= 2
                   and items[c - 2].keyword == "AS" and items[c - 1].kind == "var"]
    changed = True
    while changed:
        changed = False
        for o, c in projections:
            target = items[c - 1].text[1:]
            inside = {items[k].text[1:] for k in range(o + 1, c - 2) if items[k].kind == "var"} & set(found)
            separators = {found[v] for v in inside}
            if target not in found and len(separators) == 1:
                found[target] = separators.pop()
                changed = True
    return found


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unquote(literal: str) -> str:
    quote = 3 if literal[:3] in ('"""', "'''") else 1
    body = literal[quote:-quote]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def require_query(text: str, embedded: bool) -> Analysis:
    """The analysis of `text`, or a `Refused` error when it is an update, or calls SERVICE on the embedded
    engine (federated questions join endpoints explicitly; see kg.federated)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise KgError("the SPARQL text is not valid UTF-8 text") from None
    analysis = analyse(text)
    if not analysis.form:
        raise KgError("the SPARQL text is empty: no query to run")
    if not analysis.is_query:
        if analysis.form.upper() in UPDATE_FORMS:
            raise Refused(f"SPARQL updates ({analysis.form.upper()}) are refused: only SELECT, ASK, CONSTRUCT "
                          "and DESCRIBE queries are run, and nothing is ever written to a store")
        raise SparqlSyntaxError.at(f"{analysis.form[:30]!r} starts no query: expected SELECT, ASK, CONSTRUCT or "
                                   "DESCRIBE", text, analysis.form_at)
    if embedded and analysis.calls_service:
        raise Refused("SERVICE is refused on the embedded graph: it would call other hosts from inside the "
                      "query engine; federated questions join an endpoint explicitly (kg link federated)")
    return analysis


def prologue(text: str, analysis: Analysis, predeclared: Mapping[str, str]) -> str:
    """The PREFIX declarations `text` needs from `predeclared` (those it uses and does not declare itself: a
    prefix the author declares wins), on one line ending with a line break, or '' when it needs none. A prefix
    that is neither declared nor predeclared is a SparqlSyntaxError at its first use, naming the known ones.

    >>> text = "PREFIX rdfs: <urn:mine#> SELECT * { ?s rdfs:label ?l ; skos:prefLabel ?p }"
    >>> prologue(text, analyse(text), {"rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    ...                                "skos": "http://www.w3.org/2004/02/skos/core#"})
    'PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\\n'
    """
    known = set(analysis.declared) | set(predeclared)
    for name, offset in sorted(analysis.prefixed.items(), key=lambda item: item[1]):
        if name not in known:
            raise SparqlSyntaxError.at(unknown_prefix(name, analysis.declared, predeclared), text, offset)
    needed = {name: iri for name, iri in predeclared.items()
              if name in analysis.prefixed and name not in analysis.declared}
    return declarations(needed, one_line=True)


def declarations(prefixes: Mapping[str, str], turtle: bool = False, one_line: bool = False) -> str:
    """`PREFIX name: <iri>` for each of `prefixes` (Turtle's `@prefix name: <iri> .` with `turtle`), one a line
    or all on `one_line`; '' for none.

    >>> print(declarations({"ex": "http://ex/"}, turtle=True), end="")
    @prefix ex: <http://ex/> .
    """
    if not prefixes:
        return ""
    lines = [f"@prefix {name}: <{iri}> ." if turtle else f"PREFIX {name}: <{iri}>" for name, iri in prefixes.items()]
    return (" " if one_line else "\n").join(lines) + "\n"


def unknown_prefix(name: str, declared: frozenset[str], predeclared: Mapping[str, str]) -> str:
    """What to say of an undeclared prefix: the closest known one, and every known one."""
    import difflib

    known = sorted(set(declared) | set(predeclared))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}:'?)" if close else ""
    if not known:
        return f"unknown prefix '{name}:'{hint}; the query declares no prefix"
    what = "known prefixes" if predeclared else "the query declares"
    return f"unknown prefix '{name}:'{hint}; {what}: {', '.join(known)}"


def bind_values(text: str, analysis: Analysis, bindings: Mapping[str, str | Sequence[str]]) -> str:
    """`text` with VALUES blocks binding each parameter, placed first in the top-level WHERE group.

    `bindings` maps variable names to terms already in N-Triples syntax (made by pyoxigraph, never pasted
    from user text): one term, or a sequence of terms the variable ranges over (none: no rows). The single
    terms share one VALUES row; each sequence is its own `VALUES ?x { … }`. Inside the group, the VALUES
    joins with everything else before FILTERs apply, which is the meaning users expect of a parameter; where
    the group is a sub-SELECT, the VALUES wraps it.
    """
    if not bindings:
        return text
    if analysis.group_open is None or analysis.group_close is None:
        raise KgError("cannot bind parameters: the query has no WHERE group")
    single = {name: term for name, term in bindings.items() if isinstance(term, str)}
    blocks = []
    if single:
        blocks.append(f"VALUES ({' '.join(f'?{name}' for name in single)}) {{ ({' '.join(single.values())}) }}")
    for name, terms in bindings.items():
        if not isinstance(terms, str):
            blocks.append(f"VALUES ?{name} {{ {' '.join(terms)} }}")
    block = f" {' '.join(blocks)} "
    start, end = analysis.group_open + 1, analysis.group_close
    if analysis.group_is_subselect:
        return f"{text[:start]}{block}{{ {text[start:end]} }}{text[end:]}"
    return f"{text[:start]}{block}{text[start:]}"


BUILT_IN = ("http://www.w3.org/2001/XMLSchema#",)  # datatypes: named by literals, never nodes of the graph


def iris_named(text: str, predeclared: Mapping[str, str]) -> list[str]:
    """The IRIs a query names as terms (in `<…>` or as prefixed names, expanded with the query's own PREFIX
    lines, else `predeclared`), in order of first use; not the prologue's namespaces, not functions called
    (`xsd:integer(?x)`), not XSD datatypes. (`kg sparql` says which of them occur nowhere in the graph, when an
    answer is empty: a misspelled class gives no rows, and no error.)

    >>> iris_named("PREFIX ex: <http://ex/> SELECT * { ?s a ex:Thing ; <http://ex/p> xsd:integer(?o) }", {})
    ['http://ex/Thing', 'http://ex/p']
    """
    items = list(tokens(text))
    declared: dict[str, str] = {}
    found: dict[str, None] = {}
    index = 0
    while index < len(items):
        token = items[index]
        if token.keyword == "PREFIX" and index + 2 < len(items) and items[index + 1].kind == "pname":
            declared[items[index + 1].text.rstrip(":")] = items[index + 2].text[1:-1]
            index += 3
            continue
        if token.keyword == "BASE":
            index += 2
            continue
        called = index + 1 < len(items) and items[index + 1].text == "("
        iri = ""
        if token.kind == "iri":
            iri = token.text[1:-1]
        elif token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = declared.get(prefix, predeclared.get(prefix))
            iri = namespace + local if namespace is not None else ""
        if iri and "://" in iri and not called and not iri.startswith(BUILT_IN):
            found.setdefault(iri)
        index += 1
    return list(found)
