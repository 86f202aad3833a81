"""`kg search TEXT`: the terms whose names or quotes contain the words of TEXT, best first.

Every word of TEXT must occur in one name (label, altLabel, alias, title) or quote, as a word or the start of
one ('Burkin' finds 'Egor Burkin', 'meth' finds 'methamphetamine'); a word that starts no word of the graph is
replaced by the graph's words spelt most like it ('Kordai' → 'korday'), and the answer says so. Ranking is
deterministic: a term whose whole name is TEXT first, then matches in names, then matches in quotes; within
each, whole words before beginnings of words, then SQLite FTS5's bm25 (rarer words and shorter texts first),
then the IRI. Each term is ranked by its best text. The index is `kg.search_index`.

Each term shown comes with how many claims back it (`claim_counts`): the number of claims `kg why TERM` shows,
by the same code (`kg.why.claims_shown`), so that the two never disagree. For an entity or a fact that is the
claims behind it by the one definition, the stored question `evidence-for-entity`; for a claim, 1 (itself);
for a citation, the claims citing it; for a source, the claims resting on it (through its citations and
'Ibid.' notes); 0 for a term `kg why` does not explain (a report section, the report, a unit). Only the terms
shown are counted: the count is a query over their claims, and a search finds up to hundreds of terms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import CKG
from kg.query import Result
from kg.search_index import WORD, Index, has_prefix, nearest, words

if TYPE_CHECKING:
    from kg.query import Engine

XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
COLUMNS = ["term", "class", "claims", "field", "snippet"]
SNIPPET_WORDS = 24
Words = tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One term that matches, by its best-matching text."""

    term: str
    kind: str  # its most specific class
    field: str
    snippet: str  # the text around the match, matched words in **…**
    tier: int  # 0: a whole name is the text searched for; 1: in a name; 2: in a quote
    score: float  # bm25 (lower is better)


@dataclass(frozen=True)
class Found:
    """The terms matching a text, best first, and the words that were replaced by their nearest spellings."""

    text: str
    hits: list[Hit]
    corrections: dict[str, Words] = field(default_factory=dict)


def alternatives(index: Index, asked: list[str], names_only: bool) -> tuple[list[Words], dict[str, Words]]:
    """For each distinct word asked, the words it matches: itself as a prefix when some word of the index starts
    with it, else its nearest spellings; and the replacements made. The list ends early, with an empty entry,
    at the first word that matches nothing (then no text has every word)."""
    vocabulary = index.vocabulary[names_only]
    out: list[Words] = []
    corrections: dict[str, Words] = {}
    for word in dict.fromkeys(asked):
        if has_prefix(vocabulary, word):
            out.append((word,))
            continue
        corrections[word] = nearest(word, vocabulary)
        out.append(corrections[word])
        if not corrections[word]:
            break
    return out, corrections


def _matches(word: str, options: Words, corrected: bool) -> bool:
    return word in options if corrected else word.startswith(options[0])


def search(index: Index, text: str, within: str | None = None) -> Found:
    """The terms matching `text` (of class `within`, or a subclass, when given), best first."""
    asked = words(text)
    if not asked:
        raise KgError(f"{text!r} has no letters or digits to search for")
    options, corrections = alternatives(index, asked, names_only=False)
    if not all(options):
        return Found(text, [], corrections)
    corrected = [word in corrections for word in dict.fromkeys(asked)]
    query = " AND ".join("(" + " OR ".join(f'"{w}"' + ("" if fix else "*") for w in alts) + ")"
                         for alts, fix in zip(options, corrected, strict=True))
    best: dict[str, tuple[int, int, float, int]] = {}
    for rowid, score in index.fts.execute("SELECT rowid, bm25(texts) FROM texts WHERE texts MATCH ?", (query,)):
        item = index.texts[rowid]
        if within is not None and within not in index.classes(item.term):
            continue
        whole = len(item.words) == len(options) and all(
            w in alts for w, alts in zip(item.words, options, strict=True))
        tier = (0 if whole else 1) if item.is_name else 2
        partial = int(not all(any(w in alts for w in item.words) for alts in options))  # some word only a prefix
        key = (tier, partial, round(score, 6), rowid)
        if item.term not in best or key < best[item.term]:
            best[item.term] = key
    ranked = sorted(best.items(), key=lambda pair: (*pair[1][:3], pair[0]))
    hits = []
    for term, (tier, _, score, rowid) in ranked:
        item = index.texts[rowid]
        marked = snippet(item.text, lambda w: any(_matches(w, a, f) for a, f in zip(options, corrected, strict=True)))
        hits.append(Hit(term, index.kind(term), item.field, marked, tier, score))
    return Found(text, hits, corrections)


def snippet(text: str, matched: Callable[[str], bool], width: int = SNIPPET_WORDS) -> str:
    """`text` with the words `matched(word)` accepts in **…**, cut to `width` words around the first of them."""
    source = " ".join(unicodedata.normalize("NFC", text).split())
    tokens = list(WORD.finditer(source))
    hit = [i for i, m in enumerate(tokens) if any(matched(w) for w in words(m.group()))]
    first = max(0, min(hit[0] - 5, len(tokens) - width)) if hit and len(tokens) > width else 0
    last = min(len(tokens), first + width)
    begin = 0 if first == 0 else tokens[first].start()
    end = len(source) if last == len(tokens) else tokens[last - 1].end()
    parts, at = [], begin
    for i in hit:
        if first <= i < last:
            token = tokens[i]
            parts += [source[at:token.start()], "**", token.group(), "**"]
            at = token.end()
    parts.append(source[at:end])
    return ("…" if begin else "") + "".join(parts) + ("…" if end < len(source) else "")


def claim_counts(engine: Engine, terms: list[str]) -> dict[str, int]:
    """How many claims back each of `terms`: the number `kg why` shows for it (see the module docstring), from
    the two queries of `kg.why.claims_shown` whatever the number of terms."""
    from kg.why import claims_shown

    shown = claims_shown(engine, terms)
    return {term: len(shown[term].claims) for term in terms}


def to_result(found: Found, claims: Mapping[str, int], limit: int | None = None) -> Result:
    """The first `limit` hits as an answer (term, class, claims, field, snippet), `claims` giving each one's
    count (`claim_counts` of those terms)."""
    rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | None]] = [
        [ox.NamedNode(hit.term), ox.NamedNode(hit.kind) if hit.kind else None,
         ox.Literal(str(claims[hit.term]), datatype=XSD_INTEGER), ox.Literal(hit.field), ox.Literal(hit.snippet)]
        for hit in found.hits[:limit]
    ]
    return Result(list(COLUMNS), rows)


def class_named(index: Index, text: str) -> str:
    """The class `text` names: a CURIE or IRI, or a local name ('Place', 'city') of a class in use — the
    ontology's own when another vocabulary has one of that name too. Unknown: NotFound with the closest names."""
    from kg.catalog import not_found
    from kg.graph import compact
    from kg.params import expand

    known = sorted({c for classes in index.above.values() for c in classes})
    iri = expand(text.strip())
    if iri in known:
        return iri
    local = {c: c.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for c in known}
    named = [c for c in known if local[c].casefold() == text.strip().casefold()]
    ours = [c for c in named if c.startswith(CKG)]
    if len(named) == 1 or len(ours) == 1:
        return (ours or named)[0]
    if named:
        raise KgError(f"{text!r} is the name of {len(named)} classes: {', '.join(compact(c) for c in named)}; "
                      "give one of them")
    raise not_found(text, "class", sorted({compact(c) for c in known} | set(local.values())))

