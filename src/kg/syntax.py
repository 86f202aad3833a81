"""SPARQL syntax errors for people: where (line and column of the text as its author wrote it), what was
expected in a few words, what was found there, and the offending line with a caret under the column.

Oxigraph's parser says `error at 2:12: expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' |
'\\u{00B7}' …`: the furthest position its grammar's rules reached and every terminal they tried there,
Unicode ranges included. Two things make that position misleading, and `locate` corrects both:

- a keyword is matched by reading as many characters as it has and comparing them, so a failed keyword is
  recorded *after* those characters — up to 14 past where it was tried (`ENCODE_FOR_URI`), or at the end of
  the text: `SELECT ?x WHERE { ?x ?y } LIMIT 5` is reported at `LIMIT` ("expected OPTIONAL"), where the
  object missing before `}` is the error. Keywords in the list are therefore never what was expected at the
  reported position. Where only keywords are listed, the text is cut at each token start before that
  position, from the last: the first cut whose report names other terminals shows where the parser really
  got to and what it expected there (a cut is a prefix of the text, so what a rule wants next is reported
  at the cut, and a keyword tried before it runs into the end of the text instead of past the cut);
- an IRI that does not resolve, or a prefix that is not declared, is reported after the whole term.

What was expected is then said as the kinds of thing a person writes (a variable, an IRI, a prefixed name,
a literal, an expression, a keyword, a piece of punctuation), with the token found there. Positions in a
text with a prologue of predeclared prefixes (`kg.sparql.prologue`) or bound parameters are given in the
author's text; a stored file's errors name the file and its line (`in_stored_file`).

>>> from_parser("SELECT ?x WHERE { ?x ?y } LIMIT 5").problem
"expected a variable, an IRI, a prefixed name, a literal or a blank node, found '}'"
>>> from_parser("SELECT ?x WHERE { ?x ?y } LIMIT 5").column
25
>>> excerpt(from_parser("SELECT ?x WHERE { ?x <http://x/a> ?y } LIMIT x"), 80)
['  1 | SELECT ?x WHERE { ?x <http://x/a> ?y } LIMIT x', '    |                                              ^']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kg.sparql import TOKEN, SparqlSyntaxError

if TYPE_CHECKING:
    from kg.catalog import StoredQuery

__all__ = ["SparqlSyntaxError", "excerpt", "expectation", "from_parser", "in_query_file", "in_stored_file",
           "locate", "parse_error"]

POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)
# One item of the parser's "expected one of" list: a quoted terminal, a character class, or a bare word or
# message (up to the next ", " that starts another item).
ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:\'(?:[^\'\\]|\\.)*\'|[^\]\'])*\]|[^,\["]+')
LONGEST_KEYWORD = 14  # ENCODE_FOR_URI: the farthest past its place a failed keyword is reported
# Oxigraph's own messages (`expected!("…")` in its grammar) that say what a term should have been, in words
# that say what to change; they are reported after the term.
TERM_MESSAGES = {
    "Prefix not found": "a declared prefix",
    "IRI parsing failed": "a valid IRI",
    "prefix IRI parsing failed": "an absolute IRI for the prefix",
    "language tag parsing failed": "a valid language tag",
}
# SPARQL 1.1 built-in functions and aggregates: where the parser lists several, an expression was expected.
FUNCTIONS = frozenset({
    "STR", "LANG", "LANGMATCHES", "DATATYPE", "BOUND", "IRI", "URI", "BNODE", "RAND", "ABS", "CEIL", "FLOOR",
    "ROUND", "CONCAT", "STRLEN", "UCASE", "LCASE", "ENCODE_FOR_URI", "CONTAINS", "STRSTARTS", "STRENDS",
    "STRBEFORE", "STRAFTER", "YEAR", "MONTH", "DAY", "HOURS", "MINUTES", "SECONDS", "TIMEZONE", "TZ", "NOW",
    "UUID", "STRUUID", "MD5", "SHA1", "SHA256", "SHA384", "SHA512", "COALESCE", "IF", "STRLANG", "STRDT",
    "SAMETERM", "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC", "REGEX", "SUBSTR", "REPLACE", "EXISTS",
    "NOT", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"
})
# Terminals of SPARQL 1.2 drafts and of extensions (triple terms, annotations): noise for a SPARQL 1.1 author.
EXTENSIONS = frozenset({"{|", "|}", "~", "<<", "<<(", ">>", ")>>"})
# Punctuation that only continues a property path or starts a term: said by the kind of term instead.
TERM_PUNCTUATION = frozenset({"$", "?", "<", ":", "_:", "[", "(", "'", '"', "'''", '"""', "*", "+", "/", "|",
                              "^", "!", "-", ".", "true", "false"})
OPERATORS = frozenset({"!=", "&&", "||", "<", "<=", "=", ">", ">=", "*", "+", "-", "/"})
COMPARISONS = frozenset({"!=", "&&", "||", "<=", ">=", "="})  # only ever listed where an expression goes on
RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.\-]*:)[^>]*>")
END = "the end of the query"


# --- Where, and what -----------------------------------------------------------------------------------------

def parse_error(text: str) -> str | None:
    """Oxigraph's syntax error message for `text`, or None when it parses (on an empty store, which answers at
    once; the caller never hands over a text with SERVICE, which even an empty store would call)."""
    import pyoxigraph as ox

    try:
        answer = ox.Store().query(text)
        del answer
    except SyntaxError as err:
        return " ".join(str(err).split())
    except (RuntimeError, OSError, ValueError):
        pass  # parsed: evaluation problems are not syntax
    return None


def items(message: str) -> tuple[int, int, list[str]] | None:
    """(line, column, the terminals listed) of a parser message, or None when it gives no position.

    >>> items('error at 1:9: expected one of "$", [\\'A\\' ..= \\'Z\\' | \\',\\'], LIMIT, Duplicated variable name')
    (1, 9, ['"$"', "['A' ..= 'Z' | ',']", 'LIMIT', 'Duplicated variable name'])
    """
    match = POSITION.match(message)
    if match is None:
        return None
    body = match.group(3).removeprefix("expected").strip().removeprefix("one of").strip()
    listed = [m.group().strip() for m in ITEM.finditer(body) if m.group().strip()]
    return int(match.group(1)), int(match.group(2)), [i for i in listed if i != "[_]"]


def _is_message(item: str) -> bool:
    return " " in item and not item.startswith(("[", '"'))


def _is_keyword(item: str) -> bool:
    return not item.startswith(("[", '"')) and not _is_message(item)


def _offset(text: str, line: int, column: int) -> int:
    """The character offset of (line, column), both from 1, clamped to the text."""
    start = 0
    for _ in range(line - 1):
        at = text.find("\n", start)
        if at < 0:
            return len(text)
        start = at + 1
    end = text.find("\n", start)
    return min(start + column - 1, len(text) if end < 0 else end)


def _token_starts(text: str, end: int, kinds: tuple[str, ...] = ()) -> list[int]:
    """Where the tokens (of `kinds`, else any) that start before `end` start."""
    starts, at = [], 0
    while at < end:
        match = TOKEN.match(text, at)
        if match is None:
            break
        if match.lastgroup not in ("ws", "comment") and (not kinds or match.lastgroup in kinds):
            starts.append(at)
        at = match.end()
    return starts


def locate(text: str, message: str) -> tuple[int, str]:
    """(offset in `text`, what is wrong there) for the parser's `message` about `text` (see the module's
    docstring for how the parser's position is corrected); a relative IRI there is named as such."""
    at, what = _locate(text, message)
    return at, _relative_iri(text, _skip_space(text, at)) or what


def _skip_space(text: str, at: int) -> int:
    while at < len(text):
        match = TOKEN.match(text, at)
        if match is None or match.lastgroup not in ("ws", "comment"):
            return at
        at = match.end()
    return at


def _locate(text: str, message: str) -> tuple[int, str]:
    parsed = items(message)
    if parsed is None:
        return 0, message.removeprefix("Parser error ")[:300]
    reported, listed = _offset(text, parsed[0], parsed[1]), parsed[2]
    if any(not _is_keyword(i) for i in listed):
        return _said(text, reported, listed)
    earliest = reported - min((len(i) for i in listed), default=LONGEST_KEYWORD)
    for cut in reversed(_token_starts(text, reported)):
        if cut < earliest - LONGEST_KEYWORD:
            break
        probe = parse_error(text[:cut])
        if probe is None:  # a whole query ends before the cut
            return cut, f"unexpected {found(text, cut)} after the end of the query"
        then = items(probe)
        if then is not None and any(not _is_keyword(i) for i in then[2]):
            return _said(text, _offset(text, then[0], then[1]), then[2])
    tried = [i for i in listed if len(i) == reported - earliest] or listed
    at = max(0, earliest)
    return at, problem(tried, found(text, at))


def _said(text: str, reported: int, listed: list[str]) -> tuple[int, str]:
    """The problem at `reported`, where the parser listed other terminals than keywords (the keywords listed
    there were tried earlier, see the module's docstring). A term the parser could not resolve is reported
    after it: the position is moved back to the term."""
    if any(i in TERM_MESSAGES for i in listed):
        terms = _token_starts(text, reported, ("iri", "pname", "lang"))
        at = terms[-1] if terms else reported
        return at, problem([i for i in listed if i in TERM_MESSAGES], found(text, at))
    return reported, problem([i for i in listed if not _is_keyword(i)], found(text, reported))


def _relative_iri(text: str, at: int) -> str:
    """What to say when the term at `at` is a relative IRI in a text without BASE, else ''."""
    match = TOKEN.match(text, at)
    if match is None or match.lastgroup != "iri" or not RELATIVE_IRI.fullmatch(match.group()):
        return ""
    if re.search(r"(?i)\bBASE\s*<", text):
        return ""
    return f"{found(text, at)} is a relative IRI: write it in full (<http://…>) or declare a BASE"


def problem(listed: list[str], found_there: str) -> str:
    """What is wrong, from the terminals the parser `listed` and the token `found_there`: a rule the parser
    names (a variable selected twice…), else what it expected and what it found.

    >>> problem(["Duplicated variable name in SELECT"], "'WHERE'")
    'duplicated variable name in SELECT'
    >>> problem(['"\\\\""', '"\\\\\\\\"', '"\\\\\\\\u"'], END)
    'a string that is not closed, found the end of the query'
    """
    rules = [i for i in listed if _is_message(i) and i not in TERM_MESSAGES]
    if rules:
        text = "; ".join(dict.fromkeys(rules))
        return text[:1].lower() + text[1:] if text[1:2].islower() else text
    wanted = expectation(listed)
    if not wanted:
        return "unexpected end of the query" if found_there == END else f"unexpected {found_there}"
    return f"{wanted}, found {found_there}"


def expectation(listed: list[str]) -> str:
    """What the parser expected, in a few words (`expected a variable, an IRI or '('`), or ''.

    >>> expectation(["ABS", "AVG", "DAY", "IRI", "MAX", "NOT", "STR", "isLITERAL"])
    'expected an expression'
    >>> expectation(['","', '"."', '";"', '"{"', '"{|"', '"}"', '"~"'])
    "expected ',', '.', ';', '{' or '}'"
    """
    quoted = [i[1:-1].encode().decode("unicode_escape") for i in listed if i.startswith('"')]
    if {"\\", "\\u"} & set(quoted):  # escapes: the parser is inside a string literal
        return "a string that is not closed"
    classes = [i for i in listed if i.startswith("[")]
    words = [i for i in listed if _is_keyword(i)]
    parts = [TERM_MESSAGES[i] for i in listed if i in TERM_MESSAGES]
    if len(COMPARISONS & set(quoted)) >= 2:  # an expression could go on here: `<` is less-than, not an IRI
        parts.append("an operator")
        quoted = [q for q in quoted if q not in OPERATORS]
    kinds = _kinds(quoted, classes)
    terms = bool(kinds)
    if sum(w.upper() in FUNCTIONS for w in words) >= 2:  # function names: an expression starts here
        parts.append("an expression")
        kinds = {k: v for k, v in kinds.items() if k == "blank"}
        words, terms = [], True
    parts += list(kinds.values())
    if "a number" in parts and "a literal" in parts:
        parts.remove("a number")
    parts += sorted(dict.fromkeys(words))
    punctuation = [q for q in quoted if q not in EXTENSIONS and not (terms and q in TERM_PUNCTUATION)]
    parts += [_quote(q) for q in sorted(dict.fromkeys(punctuation))]
    if not parts:
        return ""
    if len(parts) > 7:
        parts = [*parts[:6], "…"]
    return "expected " + (parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}")


def _kinds(quoted: list[str], classes: list[str]) -> dict[str, str]:
    """The kinds of term the terminals start, in the order people think of them."""
    letters = any("'A'" in c or "'a'" in c for c in classes)
    digits = any(re.search(r"'0'\s*\.\.=\s*'9'", c) for c in classes) and not letters
    found = {
        "variable": "a variable" if {"$", "?"} & set(quoted) else "",
        "iri": "an IRI" if "<" in quoted else "",
        "name": "a prefixed name" if ":" in quoted or (letters and {"$", "?", "<"} & set(quoted)) else "",
        "literal": "a literal" if {"'", '"', "'''", '"""'} & set(quoted) else "",
        "number": "a number" if digits else "",
        "blank": "a blank node" if "_:" in quoted else "",
    }
    return {k: v for k, v in found.items() if v}


def _quote(terminal: str) -> str:
    return f'"{terminal}"' if "'" in terminal else f"'{terminal}'"


def found(text: str, offset: int) -> str:
    """The token at `offset` of `text` (after any space or comment), as a person would point at it."""
    at = offset
    while at < len(text):
        match = TOKEN.match(text, at)
        if match is None:
            return repr(text[at])
        if match.lastgroup not in ("ws", "comment"):
            token = match.group()
            return repr(token if len(token) <= 30 else token[:29] + "…")
        at = match.end()
    return END


def from_parser(text: str, message: str | None = None, prologue: int = 0,
                author_text: str | None = None) -> SparqlSyntaxError:
    """The syntax error in `text` (the parser's `message` about it, else parsed here), as a SparqlSyntaxError
    in the author's text: `text` less its first `prologue` characters, which is `author_text` when given."""
    message = message if message is not None else parse_error(text)
    source = author_text if author_text is not None else text[prologue:]
    if message is None:
        return SparqlSyntaxError("the query cannot be read", source, 1, 1)
    offset, what = locate(text, message)
    return SparqlSyntaxError.at(what, source, min(max(0, offset - prologue), len(source)))


# --- For people ----------------------------------------------------------------------------------------------

def excerpt(err: SparqlSyntaxError, width: int) -> list[str]:
    """The offending line and a caret under the column, as two lines of at most `width` characters: a longer
    line is cut around the column (`…` marks a cut), and what a terminal would obey is shown escaped."""
    from kg.output import printable

    number = f"{err.shown_line:>3} | "
    gutter = " " * (len(number) - 2) + "| "
    room = max(12, width - len(number))
    chars = [printable(char) for char in err.source_line().replace("\t", " ")]
    column = min(max(err.column - 1, 0), len(chars))
    start = max(0, column - room // 3) if _width(chars) > room else 0
    visible = (["…"] if start else []) + chars[start:]
    caret = _width(visible[: column - start + (1 if start else 0)])
    if _width(visible) > room:
        kept: list[str] = []
        for char in visible:
            if _width([*kept, char]) > room - 1:
                break
            kept.append(char)
        visible = [*kept, "…"]
    return [(number + "".join(visible)).rstrip(), gutter + " " * caret + "^"]


def _width(chars: list[str]) -> int:
    """Columns on a terminal: East Asian wide characters take two."""
    return sum(2 if len(c) == 1 and unicodedata.east_asian_width(c) in "WF" else len(c) for c in chars)


# --- Stored files --------------------------------------------------------------------------------------------

def file_line(file_text: str, body: str, line: int) -> int | None:
    """The line of a stored file that is line `line` of its query `body` (the file without its `#+` header
    lines, or a part of it): the body's lines are found among the file's, in order, so the rule that took
    lines out is not repeated here. None when they cannot be found.

    >>> file_line("#+ title: x\\n#+ tags: [a]\\nSELECT *\\n#+ more: 1\\nWHERE { }\\n", "SELECT *\\nWHERE { }", 2)
    5
    """
    wanted = body.split("\n")
    if not 0 < line <= len(wanted):
        return None
    lines = file_text.splitlines()
    position = 0
    for number, target in enumerate(wanted, start=1):
        while position < len(lines) and lines[position] != target:
            position += 1
        if position == len(lines):
            return None
        if number == line:
            return position + 1
        position += 1
    return None


@contextmanager
def in_stored_file(stored: StoredQuery) -> Iterator[None]:
    """Syntax errors in `stored`'s query, raised inside the block, name its file and the line in that file."""
    try:
        yield
    except SparqlSyntaxError as err:
        if stored.path is None or err.where or err.text != stored.sparql:
            raise
        raise relocated(err, stored.path) from None


@contextmanager
def in_query_file(path: Path | str, text: str) -> Iterator[None]:
    """Syntax errors in `text`, read whole from the file at `path` and raised inside the block, name the file."""
    try:
        yield
    except SparqlSyntaxError as err:
        if err.where or err.text != text:
            raise
        raise SparqlSyntaxError(err.problem, err.text, err.line, err.column, str(path)) from None


def relocated(err: SparqlSyntaxError, path: Path) -> SparqlSyntaxError:
    """`err`, found in the query text read from stored file `path`, with the file's name and line."""
    from kg.catalog import read_stored_file
    from kg.errors import KgError

    try:
        line = file_line(read_stored_file(path), err.text, err.line)
    except KgError:  # the file went away since it was read: its name at least
        line = None
    return SparqlSyntaxError(err.problem, err.text, err.line, err.column, str(path), line)
