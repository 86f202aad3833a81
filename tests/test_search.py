"""`kg search` and name resolution (kg.search, kg.search_index, kg.search_names) on the bundled graph.

Expected terms are written by hand from the data files (data/triples/entities/*.ttl and the sections); the
claim counts and the claims mentioning a word are recomputed here with rdflib's own graph, not with kg's SPARQL.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
import rdflib
from click.testing import CliRunner

from kg.cli import main
from kg.errors import KgError, NotFound
from kg.graph import CKG, PREFIXES, compact
from kg.query import LocalEngine
from kg.search import class_named, search, snippet
from kg.search_index import build, fold, words
from kg.search_names import Ambiguous, resolve, resolve_name

ROUTE = CKG + "Route"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    """The `runner` fixture's CliRunner, with one cache folder for the module (one cold start, not one a test)."""
    return CliRunner(env={"KG_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})


@pytest.fixture(scope="module")
def engine(store) -> LocalEngine:  # type: ignore[no-untyped-def]
    return LocalEngine(store)


@pytest.fixture(scope="module")
def index(engine: LocalEngine):  # type: ignore[no-untyped-def]
    return build(engine, counts=True)


def first(index, text: str, within: str | None = None) -> str:  # type: ignore[no-untyped-def]
    return compact(search(index, text, within).hits[0].term)


# --- Folding: case, diacritics, punctuation --------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Almaty", ["almaty"]), ("ALMATY", ["almaty"]), ("Kök-Tash", ["kok", "tash"]), ("KOK tash", ["kok", "tash"]),
    ("Chüy Valley's", ["chuy", "valley", "s"]), ("Chu\u0308y", ["chuy"]),  # decomposed ü as well
    ("М. Ахметжанов", ["м", "ахметжанов"]), ("ﬁnal", ["final"]), ("Zhibek-Joly", ["zhibek", "joly"]),
])
def test_words_are_folded(text: str, expected: list[str]) -> None:
    assert words(text) == expected


# --- kg search: what comes first ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("heroin", "substance:heroin"), ("HEROIN", "substance:heroin"),
    ("Almaty", "place:almaty"), ("ALMATY", "place:almaty"), ("almaty", "place:almaty"),
    ("Kök-Tash", "place:kok-tash"), ("kok tash", "place:kok-tash"),
    ("Kok", "place:kok-tash"),  # a whole word before the beginning of one (Kokshetau)
    ("Chuy", "place:chuy-valley"), ("CHÜY VALLEY", "place:chuy-valley"),
    ("Ахметжанов", "actor:m-akhmetzhanov"),  # the Cyrillic alternative label
    ("Burkin", "actor:egor-burkin"), ("Burk", "actor:egor-burkin"),  # prefix: 'Burkin…'
    ("Levchenko", "actor:egor-burkin"),  # an alias (ckg:alias)
    ("meth", "substance:methamphetamine"),  # an alternative label, before 'Methodology'
    ("Korday", "place:korday"), ("Kordai", "place:korday"), ("Kordey", "place:korday"), ("Kroday", "place:korday"),
    ("heroine", "substance:heroin"), ("Egor Burkn", "actor:egor-burkin"),
    ("Central Asia Synthetic Drugs Situation Assessment",  # a dcterms:title
     "source:fig-unodc-2017-central-asia-synthetic-drugs-assessment"),
])
def test_the_best_match_comes_first(index, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert first(index, text) == expected


def test_a_typo_is_replaced_by_its_nearest_spelling_and_said(index) -> None:  # type: ignore[no-untyped-def]
    found = search(index, "Kordai")
    assert found.corrections == {"kordai": ("korday",)}
    assert search(index, "Korday").corrections == {}
    assert search(index, "xyzzy").hits == [] and search(index, "xyzzy").corrections == {"xyzzy": ()}


def test_names_rank_before_quotes_and_ties_go_by_iri(index) -> None:  # type: ignore[no-untyped-def]
    hits = search(index, "heroin").hits
    tiers = [h.tier for h in hits]
    assert tiers == sorted(tiers) and tiers[0] == 0 and 2 in tiers
    for a, b in itertools.pairwise(hits):
        if (a.tier, round(a.score, 6)) == (b.tier, round(b.score, 6)) and a.field == b.field:
            assert a.term < b.term
    assert search(index, "heroin") == search(build(LocalEngine(index_store()), counts=True), "heroin")


def index_store():  # type: ignore[no-untyped-def]
    """The same graph in a store read from the cache (the ranking must not depend on how the store was made)."""
    from kg.graph import oxigraph_store
    from kg.layout import resolve as layout

    return oxigraph_store(layout().graph_files())


def test_class_filters_by_class_and_subclass(index) -> None:  # type: ignore[no-untyped-def]
    assert [compact(h.term) for h in search(index, "Korday", CKG + "Place").hits] == ["place:korday"]
    assert [compact(h.term) for h in search(index, "Almaty", CKG + "City").hits] == ["place:almaty"]
    assert all(h.kind == CKG + "Claim" and h.field == "quote" for h in search(index, "Almaty", CKG + "Claim").hits)
    assert {class_named(index, name) for name in ("Place", "place", "ckg:Place", CKG + "Place")} == {CKG + "Place"}
    assert class_named(index, "Person") == CKG + "Person"  # not foaf:Person, which the ontology puts above it
    with pytest.raises(NotFound, match="did you mean Person"):
        class_named(index, "Persn")


def test_the_claims_mentioning_a_word_are_the_claims_whose_quote_has_it(index, data_graph) -> None:  # type: ignore[no-untyped-def]
    """`kg search almaty --class Claim`: exactly the claims whose quote has a word starting 'almaty' (rdflib)."""
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    claim = rdflib.URIRef(CKG + "Claim")
    expected = {str(c) for c in data_graph.subjects(rdflib.RDF.type, claim)
                for sel in data_graph.objects(c, oa.hasSelector) for q in data_graph.objects(sel, oa.exact)
                if re.search(r"\balmaty", fold(str(q)))}
    found = {h.term for h in search(index, "almaty", CKG + "Claim").hits}
    assert found == expected and len(expected) > 10


def claims_behind(graph: rdflib.Graph, term: str) -> int:
    """The claims behind `term` as search-claim-counts.rq defines them, walked in rdflib's graph."""
    ckg = rdflib.Namespace(CKG)
    node = rdflib.URIRef(term)
    found = set(graph.subjects(ckg.subject, node)) | set(graph.subjects(ckg.object, node))
    for fact, link in graph.subject_predicates(node):
        if link == ckg.object or (fact, rdflib.RDF.type, ckg.Claim) in graph:
            continue
        found |= {c for c in graph.subjects(ckg.subject, fact) if (c, ckg.predicate, None) not in graph}
    if (node, rdflib.RDF.type, ckg.Claim) in graph:
        found.add(node)
    return len(found)


@pytest.mark.parametrize("text", ["heroin", "Almaty", "Burkin", "Korday", "Khimprom"])
def test_each_hit_says_how_many_claims_back_it(index, data_graph, text: str) -> None:  # type: ignore[no-untyped-def]
    for hit in search(index, text).hits[:8]:
        assert hit.claims == claims_behind(data_graph, hit.term), hit.term


def test_a_snippet_marks_the_words_and_cuts_long_texts() -> None:
    text = " ".join(f"w{i}" for i in range(40)) + " Almaty " + " ".join(f"v{i}" for i in range(40))
    cut = snippet(text, lambda w: w == "almaty", width=10)
    assert cut == "…w35 w36 w37 w38 w39 **Almaty** v0 v1 v2 v3…"
    assert snippet("Kök-Tash", lambda w: w in ("kok", "tash")) == "**Kök**-**Tash**"


# --- Names: what a text given for a term stands for -----------------------------------------------------

@pytest.mark.parametrize(("text", "expected", "how"), [
    ("Almaty", "place:almaty", "exact"), ("ALMATY", "place:almaty", "exact"), (" almaty ", "place:almaty", "exact"),
    ("Kök-Tash", "place:kok-tash", "exact"), ("kok tash", "place:kok-tash", "exact"),
    ("Chuy Valley", "place:chuy-valley", "exact"), ("М. Ахметжанов", "actor:m-akhmetzhanov", "exact"),
    ("Korday", "place:korday", "exact"),  # its alternative label (the label is 'Korday checkpoint')
    ("Levchenko", "actor:egor-burkin", "exact"),  # an alias
    ("heroin", "substance:heroin", "exact"), ("Khimprom", "actor:khimprom", "exact"),
    ("Burkin", "actor:egor-burkin", "words"), ("Turkistan", "place:turkistan-region", "words"),
    ("Odays", "actor:stanislav-odayskiy", "prefix"),
    ("Kordai", "place:korday", "nearest spelling"), ("Kordey", "place:korday", "nearest spelling"),
    ("Heroine", "substance:heroin", "nearest spelling"), ("Egor Burkn", "actor:egor-burkin", "nearest spelling"),
    ("actor:khimprom", "actor:khimprom", "iri"),
    ("<https://w3id.org/crossroads-kg/id/place/almaty>", "place:almaty", "iri"),
    ("https://w3id.org/crossroads-kg/id/place/almaty", "place:almaty", "iri"),
])
def test_a_name_resolves_to_one_term(engine, index, text: str, expected: str, how: str) -> None:  # type: ignore[no-untyped-def]
    resolution = resolve(engine, text) if how == "iri" or text in ("Almaty", "Kordai") else resolve_name(index, text)
    assert (compact(resolution.iri), resolution.how) == (expected, how)


@pytest.mark.parametrize(("text", "candidates"), [
    ("Kazakh", {"actor:kz-border-and-customs", "actor:kz-canine-customs-service", "actor:kz-mvd"}),
    ("synthetic", {"substance:synthetic-cannabinoids", "substance:synthetic-drugs"}),
    ("Crossroads: Kazakhstan's changing illicit drug economy", {"report:crossroads-2023", "source:crossroads-report"}),
])
def test_an_ambiguous_name_lists_the_candidates(index, text: str, candidates: set[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Ambiguous) as raised:
        resolve_name(index, text)
    assert {compact(c) for c in raised.value.candidates} == candidates
    assert all(c in str(raised.value) for c in candidates)


@pytest.mark.parametrize(("text", "nearest"), [
    ("xyzzy", []), ("no-such-thing", []), ("https://example.org/nothing", []),
    ("actor:khimpromm", ["actor:khimprom"]), ("place:almatyy", ["place:almaty"]),
    ("actor:egor-burkn", ["actor:egor-burkin"]),
])
def test_an_unknown_term_suggests_the_nearest(engine, text: str, nearest: list[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as raised:
        resolve(engine, text)
    assert [compact(s) for s in raised.value.suggestions][:len(nearest)] == nearest
    assert raised.value.noun == "term" and str(raised.value).startswith(f"no entity, fact or claim matches {text!r}")


def test_a_class_narrows_the_names(engine) -> None:  # type: ignore[no-untyped-def]
    assert compact(resolve(engine, "caspian uzbekistan", ROUTE).iri) == "route:caspian-ferry-route-via-uzbekistan"
    with pytest.raises(Ambiguous):  # three routes pass through Uzbekistan
        resolve(engine, "Uzbekistan", ROUTE)
    assert compact(resolve(engine, "Uzbekistan").iri) == "place:uzbekistan"
    with pytest.raises(NotFound, match="no ckg:Route matches 'Almaty'"):
        resolve(engine, "Almaty", ROUTE)


def test_text_without_letters_or_not_utf8_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="no letters or digits"):
        resolve(engine, "!!!")
    with pytest.raises(KgError, match="not valid UTF-8"):
        resolve(engine, "caf\udce9")


# --- The commands ------------------------------------------------------------------------------------------

def test_search_command_formats(cli) -> None:  # type: ignore[no-untyped-def]
    table = cli.invoke(main, ["search", "Korday", "--class", "Place"])
    assert table.exit_code == 0 and "place:korday" in table.stdout and "ckg:BorderCheckpoint" in table.stdout
    as_json = json.loads(cli.invoke(main, ["search", "Korday", "--format", "json", "--limit", "2"]).stdout)
    assert as_json["head"]["vars"] == ["term", "class", "claims", "field", "snippet"]
    top = as_json["results"]["bindings"][0]
    assert top["term"]["value"] == PREFIXES["place"] + "korday" and top["snippet"]["value"] == "**Korday**"
    assert len(as_json["results"]["bindings"]) == 2
    csv = cli.invoke(main, ["search", "Egor", "Burkin", "--format", "csv"])  # words without quotes
    assert csv.stdout.splitlines()[1].startswith(PREFIXES["actor"] + "egor-burkin,")


def test_search_command_says_what_it_did(cli) -> None:  # type: ignore[no-untyped-def]
    typo = cli.invoke(main, ["search", "Kordai", "--limit", "1"])
    assert typo.exit_code == 0
    assert typo.stderr.splitlines() == [
        "kg: note: no word in the graph starts with 'kordai'; matched its nearest spelling, 'korday'",
        "kg: note: the first 1 of 17 matches (--limit N shows more)",
    ]
    nothing = cli.invoke(main, ["search", "xyzzy"])
    assert nothing.exit_code == 0 and "(0 rows)" in nothing.stdout
    assert nothing.stderr == "kg: note: no word in the graph starts with 'xyzzy' or is spelt like it\n"
    for args in (["search", "!!!"], ["search", "x", "--class", "Persn"]):
        refused = cli.invoke(main, args)
        assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and refused.stdout == "", args


@pytest.mark.parametrize(("term", "note"), [
    ("Almaty", "'Almaty' is place:almaty (Almaty)"),
    ("Burkin", "'Burkin' is taken as actor:egor-burkin (Egor Burkin)"),
    ("Korday", "'Korday' is place:korday (Korday checkpoint)"),
    ("Kordai", "'Kordai' is taken as place:korday (Korday checkpoint), the nearest spelling"),
])
def test_the_note_says_what_a_name_was_taken_as(index, term: str, note: str) -> None:  # type: ignore[no-untyped-def]
    from kg.cli.find import resolution_note

    assert resolution_note(resolve_name(index, term)) == note
    assert resolution_note(resolve_name(index, term), "place") == "place=" + note


@pytest.mark.parametrize(("term", "note"), [
    ("Kordai", "kg: note: 'Kordai' is taken as place:korday (Korday checkpoint), the nearest spelling\n"),
    ("place:almaty", ""),
])
def test_why_takes_names_and_says_which_term(cli, term: str, note: str) -> None:  # type: ignore[no-untyped-def]
    result = cli.invoke(main, ["why", term])
    assert result.exit_code == 0 and result.stderr == note, result.output
    heading = "place:korday — Korday checkpoint\n" if term == "Kordai" else "place:almaty — Almaty\n"
    assert result.stdout.startswith(heading)


@pytest.mark.parametrize(("term", "says"), [
    ("Kazakh", "'Kazakh' fits 3 names about as well: actor:kz-border-and-customs"),
    ("actor:khimpromm", "no entity, fact or claim matches 'actor:khimpromm'; nearest: actor:khimprom (Khimprom)"),
])
def test_why_refuses_an_ambiguous_or_unknown_name(cli, term: str, says: str) -> None:  # type: ignore[no-untyped-def]
    result = cli.invoke(main, ["why", term])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"kg: {says}") and result.stderr.count("\n") == 1
