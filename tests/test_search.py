"""`kg search` and name resolution (kg.search, kg.search_index, kg.search_names) on the bundled graph.

Expected terms are written by hand from the data files (data/triples/entities/*.ttl and the sections); the
claims mentioning a word, the entities claims mention and the claims on citations and sources are recomputed
here with rdflib's own graph, not with kg's SPARQL; the claim count of an entity is the number of claims
`kg why` shows (kg.why.explain_many), since that is what it means.
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
    return build(engine)


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
    assert search(index, "heroin") == search(build(LocalEngine(index_store())), "heroin")


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


# --- How many claims back a term: the number `kg why` shows ----------------------------------------------

@pytest.fixture(scope="module")
def mentioned(data_graph: rdflib.Graph) -> list[str]:
    """Every entity a claim mentions (rdflib, as the MentionShape reads 'mentions'): the subject or object of a
    claim, or a value on the node a claim is about, directly or through a blank node."""
    g, ckg = data_graph, rdflib.Namespace(CKG)
    classes, todo = {ckg.WorldEntity}, [ckg.WorldEntity]
    while todo:
        for sub in g.subjects(rdflib.RDFS.subClassOf, todo.pop()):
            if sub not in classes:
                classes.add(sub)
                todo.append(sub)
    world = {s for c in classes for s in g.subjects(rdflib.RDF.type, c)}
    found: set[rdflib.term.Node] = set()
    for claim in g.subjects(rdflib.RDF.type, ckg.Claim):
        subject = g.value(claim, ckg.subject)
        found |= {subject, g.value(claim, ckg.object), *g.objects(subject, None)}
        found |= {x for value in g.objects(subject, None) if isinstance(value, rdflib.BNode) for x in g.objects(value)}
    return sorted(str(e) for e in found & world if isinstance(e, rdflib.URIRef))


def test_the_count_of_every_entity_is_the_number_of_claims_kg_why_shows(engine, mentioned) -> None:  # type: ignore[no-untyped-def]
    """For every entity a claim mentions, the claims column of `kg search` is the number of claims `kg why`
    reports (its evidence trees, all at once: `explain_many`, which `kg why` calls for one term)."""
    from kg.search import claim_counts
    from kg.why import explain_many

    assert len(mentioned) > 500  # (the bundled graph has 536: a walk that finds nothing must fail)
    explained = explain_many(engine, mentioned)
    counts = claim_counts(engine, mentioned)
    wrong = {compact(e): (counts[e], len(explained[e].claims)) for e in mentioned
             if counts[e] != len(explained[e].claims)}
    assert wrong == {}
    assert all(counts[e] > 0 for e in mentioned)
    # The routes via Kyrgyzstan and Uzbekistan: 8 by the old count, which missed the claims on their legs.
    assert counts[PREFIXES["route"] + "caspian-ferry-route-via-kyrgyzstan"] == 14


def cited_and_resting(graph: rdflib.Graph) -> dict[str, set[str]]:
    """For every citation, the claims citing it; for every source, the claims resting on it (their citations,
    'Ibid.' notes followed to the note they repeat, name it as a primary source). rdflib, in Python."""
    ckg, prov = rdflib.Namespace(CKG), rdflib.Namespace("http://www.w3.org/ns/prov#")
    out: dict[str, set[str]] = {}
    for claim in graph.subjects(rdflib.RDF.type, ckg.Claim):
        for citation in graph.objects(claim, prov.wasDerivedFrom):
            out.setdefault(str(citation), set()).add(str(claim))
            seen, todo = set(), [citation]
            while todo:
                note = todo.pop()
                seen.add(note)
                todo += [n for n in graph.objects(note, ckg.ibidOf) if n not in seen]
                for source in graph.objects(note, prov.hadPrimarySource):
                    out.setdefault(str(source), set()).add(str(claim))
    for kind in (ckg.Source, ckg.Footnote, ckg.InTextAttribution, ckg.NoReference):
        for term in graph.subjects(rdflib.RDF.type, kind):
            out.setdefault(str(term), set())
    return out


def test_a_claim_counts_itself_and_citations_and_sources_the_claims_on_them(engine, data_graph) -> None:  # type: ignore[no-untyped-def]
    """A claim: 1. A citation: the claims citing it. A source: the claims resting on it — a source another
    (a figure) derives from as well, which `kg why` refused ('not an entity … that any claim backs')."""
    from kg.search import claim_counts

    expected = {term: len(claims) for term, claims in cited_and_resting(data_graph).items()}
    claims = [str(c) for c in data_graph.subjects(rdflib.RDF.type, rdflib.URIRef(CKG + "Claim"))]
    assert len(expected) > 150 and len(claims) > 500
    assert claim_counts(engine, sorted(expected)) == expected
    assert set(claim_counts(engine, claims).values()) == {1}
    relayed = PREFIXES["source"] + "kursiv-2023-07-19-knb-780kg-synthetics"  # figure 5 derives from it
    assert expected[relayed] == 3 and expected[PREFIXES["cite"] + "note-01"] == 42


def test_the_command_counts_what_kg_why_shows(cli, engine) -> None:  # type: ignore[no-untyped-def]
    """Every row of `kg search Khimprom` (an actor, facts, a citation, sources, claims and a section, which
    `kg why` does not explain: 0) against `kg why`."""
    from kg.why import explain_many

    answer = json.loads(cli.invoke(main, ["search", "Khimprom", "--format", "json", "--limit", "100"]).stdout)
    counts = {b["term"]["value"]: int(b["claims"]["value"]) for b in answer["results"]["bindings"]}
    explained = explain_many(engine, sorted(counts))
    assert counts == {term: len(explained[term].claims) for term in counts}
    assert counts[PREFIXES["sec"] + "khimprom"] == 0 and len(counts) > 20
    kinds = {compact(b["class"]["value"]) for b in answer["results"]["bindings"]}
    assert {"ckg:CriminalNetwork", "ckg:Claim", "ckg:Source", "ckg:InTextAttribution", "ckg:ReportSection"} <= kinds


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
