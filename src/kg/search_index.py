"""The index behind `kg search` and name resolution: every name and quote of the graph, folded for matching.

It is built per command from library queries run through the Engine (`search-names.rq`, `search-quotes.rq`,
`search-classes.rq`), so it answers the same on the embedded graph and on an endpoint, and is never stale.
Matching works on *words*: a text is NFC-normalised, split at every character that is not a letter or a
digit, and each word is folded (compatibility decomposition, combining marks dropped, case folded), so
'Kök-Tash', 'KOK tash' and 'kök-tash' are the same two words. The full-text part is SQLite's FTS5 (in the
standard library) over the folded words, for bm25 ranking; the words themselves serve prefix and fuzzy
matching (`kg.search`, `kg.search_names`). How many claims back a term is not the index's to say:
`kg.search.claim_counts` asks `kg.why`, for the terms shown.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from kg.catalog import library
from kg.graph import CKG
from kg.output import lexical
from kg.query import Engine, bound, records

NAME_FIELDS = ("label", "altLabel", "alias", "title")  # the ?field values of search-names.rq
CLAIM = f"{CKG}Claim"
WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """A word as it is compared: compatibility-decomposed, without combining marks, case-folded.

    >>> fold("Kök"), fold("ALMATY"), fold("Ахметжанов")
    ('kok', 'almaty', 'ахметжанов')
    """
    if word.isascii():
        return word.casefold()
    decomposed = unicodedata.normalize("NFKD", word)
    marks = {ord(c): None for c in set(decomposed) if unicodedata.combining(c)}  # few distinct characters
    return (decomposed.translate(marks) if marks else decomposed).casefold()


def words(text: str) -> list[str]:
    """The folded words of `text`, in order.

    >>> words("Zhibek-Joly checkpoint"), words("Chüy Valley's")
    (['zhibek', 'joly', 'checkpoint'], ['chuy', 'valley', 's'])
    """
    return WORD.findall(fold(unicodedata.normalize("NFC", text)))


@dataclass(frozen=True)
class Text:
    """One name or quote of a term, with its folded words."""

    term: str
    field: str  # label, altLabel, alias, title or quote
    text: str
    words: tuple[str, ...]

    @property
    def is_name(self) -> bool:
        return self.field in NAME_FIELDS


@dataclass
class Index:
    """The texts of a graph's terms and their classes."""

    texts: list[Text]
    types: dict[str, set[str]]  # the asserted classes of each term
    above: dict[str, set[str]]  # each class in use: itself and every class above it

    @cached_property
    def labels(self) -> dict[str, str]:
        """Each term's label (the first rdfs:label in text order), for messages."""
        out: dict[str, str] = {}
        for text in self.texts:
            if text.field == "label":
                out.setdefault(text.term, text.text)
        return out

    @cached_property
    def vocabulary(self) -> dict[bool, list[str]]:
        """The words of names only (True) and of every text (False), sorted, for prefix and fuzzy matching."""
        names = {w for t in self.texts if t.is_name for w in t.words}
        return {True: sorted(names), False: sorted(names | {w for t in self.texts for w in t.words})}

    def classes(self, term: str) -> set[str]:
        """Every class `term` belongs to, asserted or above an asserted one."""
        return {c for t in self.types.get(term, ()) for c in self.above.get(t, {t})}

    def kind(self, term: str) -> str:
        """The most specific asserted class of `term` (the first by IRI when several are), "" for none."""
        types = self.types.get(term, set())
        specific = [t for t in types if not any(t != o and t in self.above.get(o, ()) for o in types)]
        return min(specific, default="")

    @cached_property
    def fts(self) -> sqlite3.Connection:
        """An in-memory FTS5 table of the texts (their folded words), row i being `texts[i]`."""
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE VIRTUAL TABLE texts USING fts5(words, tokenize='unicode61 remove_diacritics 2')")
        connection.executemany("INSERT INTO texts(rowid, words) VALUES (?, ?)",
                               ((i, " ".join(t.words)) for i, t in enumerate(self.texts)))
        return connection


def has_prefix(vocabulary: list[str], word: str) -> bool:
    """Whether some word of the sorted `vocabulary` begins with `word`."""
    at = bisect.bisect_left(vocabulary, word)
    return at < len(vocabulary) and vocabulary[at].startswith(word)


def nearest(word: str, vocabulary: list[str]) -> tuple[str, ...]:
    """The words of `vocabulary` spelt most like `word`, best first: the fewest letters wrong, missing, extra or
    swapped with a neighbour (rapidfuzz's OSA distance), at most one in four letters ('kordai' → 'korday'), ties
    all kept. Words under 4 letters or over 40 have no near spellings (too many, or none worth the time)."""
    if not 4 <= len(word) <= 40:
        return ()
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    found = process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=len(word) // 4, limit=None)
    fewest = min((edits for _, edits, _ in found), default=None)
    return tuple(sorted(choice for choice, edits, _ in found if edits == fewest))


def build(engine: Engine, quotes: bool = True, classes: bool = True) -> Index:
    """The index of the graph `engine` answers for: its names; with `quotes`, the claims' quotes; with
    `classes`, the classes above the classes in use (to filter by class and name the most specific one). Name
    resolution needs only the names (a third of the work)."""
    texts: set[Text] = set()
    types: dict[str, set[str]] = {}
    for row in records(engine.select(library("search-names").sparql)):
        term = bound(row, "thing").value
        text = lexical(row["text"])
        texts.add(Text(term, lexical(row["field"]), text, tuple(words(text))))
        kinds = types.setdefault(term, set())
        if row["type"] is not None:
            kinds.add(row["type"].value)
    for row in records(engine.select(library("search-quotes").sparql)) if quotes else []:
        term = bound(row, "thing").value
        text = lexical(row["text"])
        texts.add(Text(term, "quote", text, tuple(words(text))))
        types.setdefault(term, set()).add(CLAIM)
    above: dict[str, set[str]] = {}
    for row in records(engine.select(library("search-classes").sparql)) if classes else []:
        above.setdefault(bound(row, "type").value, set()).add(bound(row, "class").value)
    ordered = sorted(texts, key=lambda t: (t.term, NAME_FIELDS.index(t.field) if t.is_name else 9, t.text))
    return Index(ordered, types, above)
