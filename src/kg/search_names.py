"""Names wherever a term is: what `Almaty`, `Burkin`, `Kordai` or `actor:khimprom` stands for in the graph.

`resolve` takes an IRI, a CURIE or a name. An IRI or CURIE must be in the graph (one query, no index);
otherwise the closest terms are suggested. A name is looked up among the names of the search index
(`kg.search_index`: labels, alternative labels, aliases, titles), in four steps, the first that finds
something deciding:

1. **exact** — a whole name is the text (case, diacritics and punctuation aside: 'ALMATY', 'kok tash');
2. **words** — every word of the text is a word of one name ('Burkin' in 'Egor Burkin');
3. **prefix** — every word starts a word of one name ('Odays' in 'Stanislav Odayskiy');
4. **nearest spelling** — as in 2, after replacing words that match nothing by their nearest spellings
   ('Kordai' → 'Korday').

In steps 2–4 a name wins when it is the only term's that fits, or when the text covers at least half of its
words and more than twice as large a share of them as of any other term's name: 'Burkin' is half of 'Egor
Burkin' and a tenth of 'Egor Burkin reportedly flees to Mexico…', while 'Kazakh' is half of 'Kazakh customs'
and a quarter of 'Kazakh Ministry of Interior', so it is ambiguous, and 'Uzbekistan' is a fifth of 'Caspian
ferry route via Uzbekistan', too small a part to stand for it. Ambiguous and unknown names are errors that
name the candidates or the nearest terms. The answer is a `Resolution` (data); the CLI says what a name was
taken to mean. A CURIE with an unknown prefix ('drug:heroin') is an error, never read as a name, and the end
of an IRI ('caspian-ferry-route-via-kyrgyzstan') names its term.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pyoxigraph as ox

from kg.catalog import library
from kg.errors import KgError, NotFound
from kg.query import Engine
from kg.search_index import Index, build, words

SHOWN = 8  # candidates or suggestions named in a message
LABEL_ROOM = 48  # characters of a label shown beside its CURIE in a message
SLUG = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)+$")  # the end of an IRI, e.g. caspian-ferry-route-via-kyrgyzstan


@dataclass(frozen=True)
class Resolution:
    """What a text given for a term was taken to mean."""

    given: str
    iri: str
    how: str  # "iri" (an IRI or CURIE in the graph), "local name" (the end of one), "exact", "words", "prefix"
    # or "nearest spelling"
    label: str = ""
    name: str = ""  # the name that matched (for a name)


class Ambiguous(KgError):
    """A name that fits several terms equally well; `candidates` are their IRIs, best first."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


def resolve(engine: Engine, text: str, within: str | None = None) -> Resolution:
    """The term `text` stands for (of class `within`, or a subclass, when given), or a KgError: Ambiguous,
    or NotFound (noun "term") with the nearest terms as suggestions."""
    from kg.graph import PREFIXES
    from kg.params import ABSOLUTE_IRI, CURIE, expand

    raw = text.strip()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise KgError("the term is not valid UTF-8 text") from None
    value = expand(raw)
    curie = CURIE.match(raw)
    if curie and value == raw and not ABSOLUTE_IRI.match(value) and curie.group(1) not in PREFIXES:
        # 'drug:heroin' is written as a CURIE; read as a name it would be taken for whatever has those words
        known = ", ".join(sorted(PREFIXES))
        raise NotFound(f"{text!r} is written as a CURIE but {curie.group(1)!r} is not a known prefix "
                       f"(known: {known})", "term", [])
    if ABSOLUTE_IRI.match(value):
        try:
            node = ox.NamedNode(value)
        except ValueError:
            raise NotFound(f"no {_what(within)} matches {text!r}", "term", []) from None
        if engine.select(library("term-exists").sparql, {"node": node}, limit=1).rows:
            return Resolution(raw, value, "iri")
        index = build(engine, classes=within is not None)
        raise unknown(index, text, within, _nearest_iris(index, value, within))
    if not words(raw):
        raise NotFound(f"no {_what(within)} matches {text!r}: it has no letters or digits", "term", [])
    index = build(engine, quotes=False, classes=within is not None)
    named = by_local_name(index, raw, within)
    if named is not None:
        return Resolution(raw, named, "local name", index.labels.get(named, ""))
    return resolve_name(index, raw, within)


def by_local_name(index: Index, text: str, within: str | None = None) -> str | None:
    """The one term whose IRI ends in `text` ('caspian-ferry-route-via-kyrgyzstan', as people copy it from an
    IRI), or None."""
    if not SLUG.match(text):
        return None
    found = {t.term for t in index.texts if t.term.rsplit("/", 1)[-1].rsplit("#", 1)[-1] == text
             and (within is None or within in index.classes(t.term))}
    return found.pop() if len(found) == 1 else None


def resolve_name(index: Index, text: str, within: str | None = None) -> Resolution:
    """The term whose name `text` is (the steps in the module docstring), or Ambiguous or NotFound."""
    from kg.search import alternatives

    asked = words(text)
    if not asked:
        raise NotFound(f"no {_what(within)} matches {text!r}: it has no letters or digits", "term", [])
    names = [t for t in index.texts if t.is_name and (within is None or within in index.classes(t.term))]
    exact = {t.term: t.text for t in reversed(names) if list(t.words) == asked}  # (the first name of each)
    if len(exact) == 1:
        iri, whole = exact.popitem()
        return Resolution(text.strip(), iri, "exact", index.labels.get(iri, ""), whole)
    if exact:
        raise Ambiguous(f"{text!r} is the name of {len(exact)} things: {_listed(index, sorted(exact))}; give one "
                        "of them (its CURIE)", sorted(exact))
    _, corrections = alternatives(index, asked, names_only=True)
    near = {q: corrections.get(q, ()) for q in dict.fromkeys(asked)}
    steps: list[tuple[str, Callable[[str, str], bool]]] = [
        ("words", lambda q, w: w == q),
        ("prefix", lambda q, w: w == q or (len(q) >= 3 and w.startswith(q))),
        ("nearest spelling", lambda q, w: w == q or (len(q) >= 3 and w.startswith(q)) or w in near[q]),
    ]
    for how, fits in steps[:3 if corrections else 2]:
        share: dict[str, tuple[Fraction, str]] = {}
        for candidate in names:
            if all(any(fits(q, w) for w in candidate.words) for q in near):
                covered = (Fraction(len(near), max(len(set(candidate.words)), len(near))), candidate.text)
                share[candidate.term] = max(share.get(candidate.term, covered), covered)
        if share:
            ranked = sorted(share, key=lambda term: (-share[term][0], term))
            top = share[ranked[0]][0]
            rivals = [term for term in ranked if share[term][0] * 2 >= top]
            if len(share) == 1 or (len(rivals) == 1 and top >= Fraction(1, 2)):
                return Resolution(text.strip(), ranked[0], how, index.labels.get(ranked[0], ""), share[ranked[0]][1])
            if len(rivals) == 1:  # a small part of one name ('Uzbekistan' of 'Caspian ferry route via Uzbekistan')
                raise Ambiguous(f"{text!r} is only part of the names of {_count(ranked)}: {_listed(index, ranked)}; "
                                "give more of the name, or the CURIE", ranked)
            raise Ambiguous(f"{text!r} fits {len(rivals)} names about as well: {_listed(index, rivals)}; give one of "
                            "them (its CURIE, or more of its name)", rivals)
    raise unknown(index, text, within, _nearest_names(index, text, within))


def _count(terms: list[str]) -> str:
    return "one term" if len(terms) == 1 else f"{len(terms)} terms"


def unknown(index: Index, text: str, within: str | None, nearest: list[str]) -> NotFound:
    """NotFound for `text`, naming the `nearest` terms."""
    hint = f"; nearest: {_listed(index, nearest)}" if nearest else ""
    return NotFound(f"no {_what(within)} matches {text!r}{hint}", "term", nearest)


def _what(within: str | None) -> str:
    from kg.graph import compact

    return "entity, fact or claim" if within is None else f"{compact(within)}"


def _listed(index: Index, iris: list[str]) -> str:
    from kg.graph import compact

    shown = [f"{compact(i)} ({_short(index.labels[i])})" if index.labels.get(i) else compact(i)
             for i in iris[:SHOWN]]
    return ", ".join(shown) + (f" and {len(iris) - SHOWN} more" if len(iris) > SHOWN else "")


def _short(label: str, room: int = LABEL_ROOM) -> str:
    """A label cut at a word to fit `room` characters in a one-line message."""
    if len(label) <= room:
        return label
    cut = max(label.rfind(mark, 0, room) for mark in (" ", "–", "—", "/"))
    return label[:cut if cut > room // 2 else room].rstrip(" ,;:–—-/") + "…"


def _nearest_names(index: Index, text: str, within: str | None) -> list[str]:
    """The terms `kg search` ranks first for `text` by their names; when no name has every word, those whose
    names have the most of them (at least half), the shortest names first."""
    from kg.search import search

    hits = [hit.term for hit in search(index, text, within).hits if hit.tier < 2]
    if hits:
        return hits[:3]
    asked = set(words(text))
    best: dict[str, tuple[int, int]] = {}
    for name in index.texts:
        if name.is_name and (within is None or within in index.classes(name.term)):
            found = sum(1 for q in asked if any(w == q or (len(q) >= 3 and w.startswith(q)) for w in name.words))
            if 2 * found >= len(asked) and found:
                best[name.term] = min(best.get(name.term, (0, 0)), (-found, len(name.words)))
    return sorted(best, key=lambda term: (best[term], term))[:3]


def _nearest_iris(index: Index, iri: str, within: str | None) -> list[str]:
    """Terms whose IRI ends like `iri` does, give or take a few letters ('actor:khimpromm' → actor:khimprom)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    def local(value: str) -> str:
        return value.rsplit("#", 1)[-1].rsplit("/", 1)[-1].casefold()

    terms = sorted({t.term for t in index.texts if within is None or within in index.classes(t.term)})
    wanted = local(iri)
    found = process.extract(wanted, [local(t) for t in terms], scorer=OSA.distance,
                            score_cutoff=max(1, len(wanted) // 4), limit=None)
    return [terms[i] for _, _, i in sorted(found, key=lambda f: (f[1], terms[f[2]]))][:3]
