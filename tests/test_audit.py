"""Audit checks and `kg why`.

Each check finds the flaw planted in its hand-written fixture and passes the clean one
(tests/fixtures/audits/<check>/{broken,clean}.ttl; the header says how many findings and which words they
must show). The checks run on the ontology plus the fixture; findings the ontology alone already yields are
set aside. On the bundled graph: the known conflicts are found, every 'Ibid.' resolves, the share per source
type adds up to the number of claims (counted by rdflib, an independent engine). Then `kg audit` (formats,
exit codes, speed, quote fixity) and `kg why`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg.audit import FIXITY, quote_problem, run_check, verify_quotes
from kg.catalog import check_header, load_catalog, load_query
from kg.cli import main
from kg.errors import KgError
from kg.graph import oxigraph_store
from kg.output import human
from kg.query import LocalEngine
from tests.conftest import REPORT, ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "audits"
CHECKS = {check.name: check for check in load_catalog(ROOT / "queries").checks}
CASES = sorted(FIXTURES.glob("*/*.ttl"))
CKG = rdflib.Namespace("https://w3id.org/crossroads-kg/ontology#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
CLAIM = "https://w3id.org/crossroads-kg/id/claim/"


def expectations(path: Path) -> tuple[str, int, list[str]]:
    """The check a fixture is for, how many findings it must yield and the words they must show."""
    header = [line[2:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# ")]
    check = next(line.split(":", 1)[1].strip() for line in header if line.startswith("check:"))
    count = next(int(line.split(":", 1)[1]) for line in header if line.startswith("findings:"))
    expected = [line.split(":", 1)[1].strip() for line in header if line.startswith("expect:")]
    return check, count, expected


def rows_as_text(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {" ‖ ".join(human(t) for t in row) for row in result.findings.rows}


@pytest.fixture(scope="module")
def ontology_only(layout):  # type: ignore[no-untyped-def]
    return LocalEngine(oxigraph_store(layout.ontology_files(), use_cache=False))


def test_every_check_has_a_broken_and_a_clean_fixture() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == {*CHECKS, FIXITY}
    for name in folders:
        assert (FIXTURES / name / "broken.ttl").is_file(), f"{name}: no broken fixture"
        assert (FIXTURES / name / "clean.ttl").is_file(), f"{name}: no clean fixture"
        broken, clean = expectations(FIXTURES / name / "broken.ttl"), expectations(FIXTURES / name / "clean.ttl")
        assert broken[0] == clean[0] == name
        assert broken[1] > 0 and broken[2], f"{name}: the broken fixture must expect findings"


@pytest.mark.parametrize("fixture", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_check_on_fixture(layout, ontology_only, fixture: Path) -> None:  # type: ignore[no-untyped-def]
    name, count, expected = expectations(fixture)
    assert name == fixture.parent.name
    engine = LocalEngine(oxigraph_store([*layout.ontology_files(), fixture], use_cache=False))
    if name == FIXITY:
        result, record = verify_quotes(engine, fixture.parent / "source-text.txt")
        assert record.quotes == record.verified + count
        found = rows_as_text(result)
    else:
        found = rows_as_text(run_check(engine, CHECKS[name])) - rows_as_text(run_check(ontology_only, CHECKS[name]))
    assert len(found) == count, "\n".join(sorted(found))
    for words in expected:
        assert any(words in row for row in found), f"{name}: no finding shows {words!r}:\n" + "\n".join(sorted(found))


# --- The checks as files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_parses_with_its_own_prefixes(name: str) -> None:
    """Every prefix is declared in the file: pyoxigraph knows none, so an undeclared one is a syntax error."""
    solutions = ox.Store().query(CHECKS[name].sparql)
    assert isinstance(solutions, ox.QuerySolutions)
    assert list(solutions) == []


@pytest.mark.parametrize(("header", "problem"), [
    ({"title": "T", "description": "D", "severity": "fatal", "tags": ["x"]}, "'severity' must be one of"),
    ({"title": "T", "description": "D", "tags": ["x"]}, "'severity' must be one of"),
    ({"title": "", "description": "D", "severity": "error", "tags": ["x"]}, "'title' must be a non-empty string"),
    ({"title": "T", "description": "D", "severity": "info", "tags": []}, "'tags' must be a non-empty list"),
    ({"title": "T", "description": "D", "severity": "info", "tags": ["x"], "params": []}, "unknown key 'params'"),
])
def test_check_header_problems(header: dict, problem: str) -> None:
    assert any(problem in p for p in check_header(header, "check"))


def test_a_bad_header_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad-check.rq"
    path.write_text("#+ title: Bad\n#+ description: No severity.\n#+ tags: [x]\nSELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(KgError, match=r"bad-check\.rq: invalid audit header: 'severity' must be one of"):
        load_query(path, "check")


@pytest.mark.parametrize(("exact", "prefix", "suffix", "problem"), [
    ("one two", "", "", ""),
    ("two three", "", "", "not found"),
    ("two", "", "", "occurs 2 times; add an oa:prefix or oa:suffix"),
    ("two", "one ", "", ""),
    ("two", "", " four", ""),
    ("two", "zero ", "", "never with its oa:prefix"),
    ("two", "", " five", "never with its oa:suffix"),
    ("two", " ", "", "occurs 2 times even with its prefix/suffix"),
])
def test_quote_problem(exact: str, prefix: str, suffix: str, problem: str) -> None:
    text = "one two. three two four"
    found = quote_problem(text, exact, prefix, suffix)
    assert (problem in found) if problem else found == ""


# --- On the bundled graph ----------------------------------------------------------------------------------

def _run(store, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = run_check(LocalEngine(store), CHECKS[name])
    return [{v: (t.value if t is not None else None) for v, t in zip(result.findings.variables, row, strict=True)}
            for row in result.findings.rows]


@pytest.mark.parametrize(("first", "second"), [
    ("cad-seizure-2023-03-heroin-100kg", "ops-seizure-2023-02-heroin-100kg"),   # 100 kg heroin: March or February
    ("covid-knb-totals-2023-07-precursors", "ukr-mvd-precursors-2023-h1"),      # KNB 68 t against MVD 73 t
    ("home-emergency-law-adopted-2019", "home-emergency-law-dated-2018-12-27-note"),  # 2019 against note 39
    # key findings 'relocated production' (stated) against the body's 'might have included … who relocated'
    ("kf-russian-dtos-relocated-production", "ukr-dto-production-relocation"),
    ("es-turkish-kurdish-most-significant-opiate-actors", "cad-kurdish-dtos-primary-actors"),  # 'Arguably'
    ("kf-labs-increasing-size-number-scope", "covid-labs-three-fold-increase"),  # 'appear' against 24 → 70
    ("concl-meth-hashish-increasingly-common", "kf-increase-meth-hashish-northern-route"),  # 'there are signs'
    ("es-tajiks-organize-mid-level-wholesale", "cad-tajik-nationals-wholesale-organizers"),  # 'arguably', mid-level
    ("fig-almaty-synthetic-consumption-hotspot", "home-almaty-consumption-hotspot-2017"),  # caption against 2017
    ("es-kazakhstan-synthetic-consumption-increase", "rise-market-diversification-since-2015"),  # use or seizures
    ("pol-koknar-weighing-daily-reporting", "pol-weakness-koknar-weight-inflation"),  # reported weights, rocks
])
def test_known_conflicts_are_found(store, first: str, second: str) -> None:  # type: ignore[no-untyped-def]
    pairs = {frozenset((row["claim_a"], row["claim_b"])) for row in _run(store, "conflicting-claims")}
    assert frozenset((CLAIM + first, CLAIM + second)) in pairs


def test_every_ibid_resolves(store, data_graph) -> None:  # type: ignore[no-untyped-def]
    assert _run(store, "unresolved-ibid") == []
    ibids = [note for note, label in data_graph.subject_objects(rdflib.RDFS.label)
             if "ibid" in str(label).lower() and (note, rdflib.RDF.type, CKG.Footnote) in data_graph]
    assert len(ibids) == 5
    for note in ibids:
        target = data_graph.value(note, CKG.ibidOf)
        assert target is not None, f"{note} reads 'Ibid.' but points nowhere"
        assert int(data_graph.value(target, CKG.noteNumber)) == int(data_graph.value(note, CKG.noteNumber)) - 1
        sources = set(data_graph.objects(target, PROV.hadPrimarySource))
        assert sources and sources <= set(data_graph.objects(note, PROV.hadPrimarySource))


def test_share_per_source_type_adds_up_to_the_claims(store, data_graph) -> None:  # type: ignore[no-untyped-def]
    claims = len(set(data_graph.subjects(rdflib.RDF.type, CKG.Claim)))
    rows = _run(store, "source-type-share")
    assert sum(int(row["claims"]) for row in rows) == claims
    assert {int(row["total"]) for row in rows} == {claims}
    assert abs(sum(float(row["share"]) for row in rows) - 100) < 0.1 * len(rows)
    assert len({row["source_type"] for row in rows}) == len(rows)


def test_no_error_check_finds_anything_in_the_ontology(ontology_only) -> None:  # type: ignore[no-untyped-def]
    for name, check in CHECKS.items():
        if check.severity == "error":
            assert run_check(ontology_only, check).count == 0, name


def test_audit_runs_in_seconds(store) -> None:  # type: ignore[no-untyped-def]
    from kg.audit import audit

    started = time.perf_counter()
    report = audit(LocalEngine(store), list(CHECKS.values()))
    assert time.perf_counter() - started < 10
    assert {r.check.name for r in report.results} == set(CHECKS)


# --- kg audit ------------------------------------------------------------------------------------------

def test_audit_json(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert [c["name"] for c in data["checks"]] != []
    assert {c["name"] for c in data["checks"]} == set(CHECKS)
    for check in data["checks"]:
        assert set(check) >= {"name", "severity", "description", "findings"}
        assert check["severity"] in ("error", "warning", "info")
        assert check["count"] == len(check["findings"])
    summary = data["summary"]
    assert summary["findings"] == sum(len(c["findings"]) for c in data["checks"])
    assert summary["passed"] == (result.exit_code == 0)
    assert summary["passed"] == (summary["failing_checks"] == [])


def test_fail_on_warning_fails_where_the_report_contradicts_itself(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", "--check", "conflicting-claims", "--fail-on", "warning"])
    assert result.exit_code == 1
    assert "FAILED" in result.output
    result = runner.invoke(main, ["audit", "--check", "conflicting-claims"])
    assert result.exit_code == 0
    assert "PASSED" in result.output


def _graph_with(tmp_path: Path, *fixtures: Path) -> Path:
    """A graph folder whose data is the given fixtures (ontology and checks fall back to the bundled ones)."""
    data = tmp_path / "graph" / "data" / "triples"
    data.mkdir(parents=True)
    for fixture in fixtures:
        shutil.copy(fixture, data / f"{fixture.parent.name}-{fixture.name}")
    return tmp_path / "graph"


@pytest.mark.parametrize(("fixture", "fail_on", "code"), [
    ("claims-without-quote/broken.ttl", "error", 1),
    ("claims-without-quote/clean.ttl", "error", 0),
    ("anonymous-only-claims/broken.ttl", "error", 0),     # a warning does not fail by default…
    ("anonymous-only-claims/broken.ttl", "warning", 1),   # …but does at --fail-on warning
    ("hedged-claims/broken.ttl", "warning", 0),           # info never fails
])
def test_exit_code_follows_the_threshold(runner, tmp_path: Path, fixture: str, fail_on: str, code: int) -> None:  # type: ignore[no-untyped-def]
    graph = _graph_with(tmp_path, FIXTURES / fixture)
    check = fixture.split("/")[0]
    result = runner.invoke(main, ["--data", str(graph), "audit", "--check", check, "--fail-on", fail_on])
    assert result.exit_code == code, result.output
    everything = runner.invoke(main, ["--data", str(graph), "audit", "--fail-on", fail_on, "--format", "json"])
    assert json.loads(everything.stdout)["summary"]["passed"] == (everything.exit_code == 0)


def test_a_graph_without_audits_uses_the_bundled_checks(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    graph = _graph_with(tmp_path, FIXTURES / "claims-without-quote" / "broken.ttl")
    (graph / "queries").mkdir()
    shutil.copy(ROOT / "queries" / "claims-by-status.rq", graph / "queries" / "claims-by-status.rq")  # no severity
    result = runner.invoke(main, ["--data", str(graph), "audit", "--format", "json"])
    assert result.exit_code == 1, result.output
    assert {c["name"] for c in json.loads(result.stdout)["checks"]} == set(CHECKS)


def test_unknown_check_exits_2(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", "--check", "conflicting-claim"])
    assert result.exit_code == 2
    assert result.output.startswith("kg: no audit check named 'conflicting-claim'; did you mean conflicting-claims")


def test_list_names_every_check(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", "--list"])
    assert result.exit_code == 0
    # one entry per check; a title too long for the terminal goes on, indented, on the lines below
    assert {line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")} == {*CHECKS, FIXITY}


def test_html_report_is_one_self_contained_page(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "audit.html"
    result = runner.invoke(main, ["audit", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r'\bsrc="', page), "the page must not load anything"
    for name in CHECKS:
        assert f'id="{name}"' in page and f'href="#{name}"' in page
    assert page.count("<section") == len(CHECKS)
    assert "<blockquote>In March 2023, a Tajik national was arrested" in page   # quotes shown as quotes
    assert "KNB press release, 25 March 2023" in page                          # with their sources
    assert page.count('type="checkbox"') >= 2 * len(CHECKS)                     # a checklist to tick


def test_markdown_and_text_reports(runner) -> None:  # type: ignore[no-untyped-def]
    md = runner.invoke(main, ["audit", "--format", "md", "--check", "conflicting-claims"]).output
    assert md.startswith("# Audit report")
    assert "## conflicting-claims" in md and "| kind | what_differs |" in md
    text = runner.invoke(main, ["audit", "--check", "conflicting-claims", "--check", "unresolved-ibid"]).output
    assert "conflicting-claims" in text and "unresolved-ibid" in text and "clean" in text
    assert "claim:cad-seizure-2023-03-heroin-100kg" in text


# --- The text report: a summary, then the findings of errors and warnings (all with --all) --------------

def _check(name: str, severity: str, title: str, description: str):  # type: ignore[no-untyped-def]
    from kg.audit import Check

    return Check(name=name, path=None, kind="check", title=title, description=description, tags=["x"],
                 severity=severity)


def hand_made_report():  # type: ignore[no-untyped-def]
    """A clean error check, a warning with one finding, an info check with two."""
    from kg.audit import AuditReport, CheckResult
    from kg.query import Result

    conflict = [ox.Literal("value"), ox.Literal("In March 2023, a Tajik national was arrested in connection with a "
                                                "seizure of 100 kilograms of heroin"),
                ox.NamedNode(CLAIM + "cad-seizure-2023-03-heroin-100kg")]
    return AuditReport([
        CheckResult(_check("claims-without-quote", "error", "Claims without a quote",
                           "Claims with no verbatim quote."), Result(["claim"], [])),
        CheckResult(_check("conflicting-claims", "warning", "Claims that contradict each other",
                           "Where the report disagrees with itself; both versions are kept side by side."),
                    Result(["kind", "quote", "claim"], [conflict])),
        CheckResult(_check("hedged-claims", "info", "Hedged claims", "Claims the report hedges."),
                    Result(["claim"], [[ox.NamedNode(CLAIM + "a")], [ox.NamedNode(CLAIM + "b")]])),
    ], claims=693)


SUMMARY_AT_60 = [
    "kg audit: 3 checks on 693 claims, 3 findings — PASSED",
    "  (--fail-on error)",
    "",
    "  ERROR    claims-without-quote  clean",
    "  WARNING  conflicting-claims    1 finding",
    "  INFO     hedged-claims         2 findings",
    "",
]
WARNING_AT_60 = [
    "== WARNING conflicting-claims: Claims that contradict each",
    "   other (1 finding)",
    "Where the report disagrees with itself; both versions are",
    "kept side by side.",
    "  1. kind: value",
    "     quote: “In March 2023, a Tajik national was arrested in",
    "       connection with a seizure of 100 kilograms of heroin”",
    "     claim: claim:cad-seizure-2023-03-heroin-100kg",
]


def test_text_report_shows_the_summary_and_the_findings_of_errors_and_warnings() -> None:
    """At 60 columns: the verdict, a line per check, what is not shown (and the CLI's note on how to see it),
    then only the warning with its finding: the clean error and the info check are left out."""
    from kg.audit import to_text

    assert to_text(hand_made_report(), 60, hidden_note=" (--all shows them)").splitlines() == [
        *SUMMARY_AT_60,
        "Not shown: the 2 findings of hedged-claims. (--all shows",
        "them)",
        "",
        *WARNING_AT_60,
    ]


def test_text_report_with_everything_shows_every_check() -> None:
    from kg.audit import to_text

    assert to_text(hand_made_report(), 60, everything=True).splitlines() == [
        *SUMMARY_AT_60,
        "== ERROR claims-without-quote: Claims without a quote",
        "   (clean)",
        "Claims with no verbatim quote.",
        "",
        *WARNING_AT_60,
        "",
        "== INFO hedged-claims: Hedged claims (2 findings)",
        "Claims the report hedges.",
        "  1. claim: claim:a",
        "  2. claim: claim:b",
    ]


def test_plain_audit_leaves_info_findings_to_all(runner) -> None:  # type: ignore[no-untyped-def]
    """`kg audit` shows the findings of error and warning checks; `--all` adds the info checks' and the
    descriptions of clean checks. JSON, Markdown and HTML always hold everything."""
    args = ["audit", "--check", "hedged-claims", "--check", "conflicting-claims", "--check", "unresolved-ibid"]
    plain = runner.invoke(main, args, env={"COLUMNS": "80"})
    everything = runner.invoke(main, [*args, "--all"], env={"COLUMNS": "80"})
    assert plain.exit_code == everything.exit_code == 0, plain.output
    assert "== WARNING conflicting-claims" in plain.stdout
    assert "== INFO hedged-claims" not in plain.stdout and "== ERROR unresolved-ibid" not in plain.stdout
    assert re.search(r"^Not shown: the \d+ findings of hedged-claims\. \(--all shows them\)$", plain.stdout, re.M)
    assert "== INFO hedged-claims" in everything.stdout and "== ERROR unresolved-ibid" in everything.stdout
    assert "Not shown" not in everything.stdout
    assert len(plain.stdout.splitlines()) < len(everything.stdout.splitlines())
    hedged = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)["checks"]
    assert any(c["name"] == "hedged-claims" and c["findings"] for c in hedged)


def test_quote_fixity_on_the_report(runner, report_text: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", "--check", FIXITY, "--source-text", str(REPORT), "--format", "json"])
    data = json.loads(result.output)
    record = data["summary"]["source_text"]
    assert record["sha256"] == hashlib.sha256(REPORT.read_bytes()).hexdigest()
    assert record["quotes"] > 500
    assert data["checks"][0]["findings"] == []
    assert record["verified"] == record["quotes"]
    assert result.exit_code == 0


def test_quote_fixity_finds_a_planted_quote(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = FIXTURES / FIXITY / "source-text.txt"
    graph = _graph_with(tmp_path, FIXTURES / FIXITY / "broken.ttl")
    result = runner.invoke(main, ["--data", str(graph), "audit", "--check", FIXITY, "--source-text", str(text),
                                  "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["source_text"]["sha256"] == hashlib.sha256(text.read_bytes()).hexdigest()
    invented = [f for f in data["checks"][0]["findings"] if f["claim"].endswith("fixture-invented-quote")]
    assert invented and invented[0]["problem"] == "not found verbatim in the text"
    assert "SHA-256 " + data["summary"]["source_text"]["sha256"] in runner.invoke(
        main, ["--data", str(graph), "audit", "--check", FIXITY, "--source-text", str(text)]).output


@pytest.mark.parametrize(("args", "message"), [
    (["--check", FIXITY], "kg: the quote-fixity check needs --source-text PATH"),
    (["--source-text", "/nonexistent/report.txt"], "kg: source text /nonexistent/report.txt: cannot read"),
])
def test_quote_fixity_bad_input_exits_2(runner, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["audit", *args])
    assert result.exit_code == 2
    assert result.output.startswith(message)


# --- kg why --------------------------------------------------------------------------------------------

def test_why_a_seizure_shows_its_quote_and_source(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["why", "event:seizure-2023-03-heroin-100kg"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # the tree is wrapped to the terminal (tests/test_evidence.py)
    assert "“In March 2023, a Tajik national was arrested in connection with a seizure of 100 kilograms" in out
    assert "Central Asian drug trafficking dynamics" in out
    assert "cites Note 15" in out
    assert "source: KNB press release, 25 March 2023" in out and "grade B" in out
    assert "https://www.gov.kz/memleket/entities/knb/press/news/details/526156?lang=ru" in out
    assert "conflicts with claim:ops-seizure-2023-02-heroin-100kg" in out
    assert "credibility 5: improbable" in out


def test_why_by_label_iri_and_json(runner) -> None:  # type: ignore[no-untyped-def]
    by_label = runner.invoke(main, ["why", "khimprom", "--format", "json"])
    by_iri = runner.invoke(main, ["why", "<https://w3id.org/crossroads-kg/id/actor/khimprom>", "--format", "json"])
    assert by_label.exit_code == by_iri.exit_code == 0
    assert by_label.stdout == by_iri.stdout
    assert by_label.stderr == "kg: note: 'khimprom' is actor:khimprom (Khimprom)\n" and by_iri.stderr == ""
    data = json.loads(by_label.stdout)
    assert data["term"] == "https://w3id.org/crossroads-kg/id/actor/khimprom" and data["label"] == "Khimprom"
    assert data["claims"] and all(c["quote"] and c["citations"] for c in data["claims"])
    for claim in data["claims"]:
        for citation in claim["citations"]:
            assert all(s["grade"] in "ABCDEF" for s in citation["sources"])


def test_why_a_claim_and_a_footnote(runner) -> None:  # type: ignore[no-untyped-def]
    claim = json.loads(runner.invoke(main, ["why", "claim:home-emergency-law-adopted-2019", "--format", "json"]).output)
    assert claim["kind"] == "claim" and len(claim["claims"]) == 1
    assert claim["claims"][0]["conflicts"][0]["claim"] == CLAIM + "home-emergency-law-dated-2018-12-27-note"
    note = json.loads(runner.invoke(main, ["why", "cite:note-15", "--format", "json"]).output)
    assert note["kind"] == "citation"
    assert CLAIM + "cad-seizure-2023-03-heroin-100kg" in {c["claim"] for c in note["claims"]}


SEARCH_HINT = "; `kg search TEXT` finds terms by name\n"  # (no term is near enough to suggest)


@pytest.mark.parametrize(("term", "message"), [
    ("no-such-thing", "kg: no entity, fact or claim matches 'no-such-thing'" + SEARCH_HINT),
    ("actor:no-such-actor", "kg: no entity, fact or claim matches 'actor:no-such-actor'" + SEARCH_HINT),
    ("https://example.org/nothing", "kg: no entity, fact or claim matches 'https://example.org/nothing'" + SEARCH_HINT),
])
def test_why_unknown_term_exits_2(runner, term: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["why", term])
    assert result.exit_code == 2
    assert result.output == message


def test_why_ambiguous_label_lists_candidates(runner, tmp_path, layout) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import copy_layout

    root = copy_layout(tmp_path, layout)
    (root / "data" / "triples" / "twins.ttl").write_text(
        "@prefix ckg: <https://w3id.org/crossroads-kg/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/crossroads-kg/id/actor/twin-a> a ckg:Person ; rdfs:label \"Twin\"@en .\n"
        "<https://w3id.org/crossroads-kg/id/actor/twin-b> a ckg:Person ; rdfs:label \"Twin\"@en .\n",
        "utf-8",
    )
    result = runner.invoke(main, ["--data", str(root), "why", "twin"])
    assert result.exit_code == 2
    assert "is the name of 2 things" in result.output
    assert "actor:twin-a" in result.output and "actor:twin-b" in result.output


# --- Unreadable input: the source text and the stored checks -------------------------------------------------

def _finishes(call, seconds: float = 20.0):  # type: ignore[no-untyped-def]
    """Run `call` in a thread and return what it raised (or None): a hang fails the test instead of the suite."""
    import threading

    outcome: dict = {}

    def target() -> None:
        try:
            call()
        except BaseException as err:  # handed back to the test, which says what it expected
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome.get("error")


def run_kg(args: list[str], tmp_path: Path, seconds: float = 60.0):  # type: ignore[no-untyped-def]
    """`kg ARGS` as a real process with a time limit and a 4 GB address-space cap, so that a regression (reading
    /dev/zero to the end, waiting on a FIFO) fails this test instead of exhausting the machine's memory."""
    import os
    import subprocess
    import sys

    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    env = {**os.environ, "KG_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-c", "from kg.cli import run; run()", *args], capture_output=True,
                          text=True, env=env, timeout=seconds, preexec_fn=cap_memory if os.name == "posix" else None)


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_source_text_that_never_ends_is_refused_through_the_cli(tmp_path: Path, kind: str) -> None:
    import os

    if kind == "device":
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero here")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path = tmp_path / "report.txt"
        os.mkfifo(path)
    done = run_kg(["audit", "--check", FIXITY, "--source-text", str(path)], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"kg: source text {path}: not a regular file\n"


def test_source_text_from_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "report.txt"
    os.mkfifo(fifo)
    error = _finishes(lambda: verify_quotes(LocalEngine(ox.Store()), fifo))
    assert isinstance(error, KgError) and str(error) == f"source text {fifo}: not a regular file"


def test_source_text_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.errors import LimitExceeded

    monkeypatch.setenv("KG_LIMIT_SOURCE_TEXT_BYTES", "100")
    path = tmp_path / "report.txt"
    path.write_bytes(b"x" * 100)
    _, record = verify_quotes(LocalEngine(ox.Store()), path)  # exactly at the limit: read
    assert record.sha256 == hashlib.sha256(b"x" * 100).hexdigest()
    path.write_bytes(b"x" * 101)
    with pytest.raises(LimitExceeded, match=r"101 bytes, more than the size limit of 100 bytes") as caught:
        verify_quotes(LocalEngine(ox.Store()), path)
    assert caught.value.limit == "source_text_bytes"


def test_source_text_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"first line\nsecond \xff line\n")
    with pytest.raises(KgError, match=r"^source text .*report\.txt: not UTF-8 text \(line 2\)$"):
        verify_quotes(LocalEngine(ox.Store()), path)


@pytest.mark.parametrize(("name", "env", "message"), [
    ("large", {"KG_LIMIT_SOURCE_TEXT_BYTES": "10"}, "more than the size limit of 10 bytes for a source text "
                                                     "(raise it with KG_LIMIT_SOURCE_TEXT_BYTES)"),
    ("latin1", {}, "not UTF-8 text (line 1)"),
])
def test_bad_source_text_through_the_cli_exits_2(runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                 name: str, env: dict[str, str], message: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = {"large": tmp_path / "large.txt", "latin1": tmp_path / "latin1.txt"}[name]
    if name == "large":
        path.write_text("x" * 11, encoding="utf-8")
    if name == "latin1":
        path.write_bytes("Almaty – Astana".encode("cp1252"))
    result = runner.invoke(main, ["audit", "--check", FIXITY, "--source-text", str(path)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("kg: ") and message in errors[0], result.stderr


GOOD_HEADER = "#+ title: T\n#+ description: D\n#+ severity: info\n#+ tags: [x]\n"


@pytest.mark.parametrize(("content", "message"), [
    (b"#+ title: caf\xe9\n#+ description: D\n#+ severity: info\n#+ tags: [x]\nSELECT * WHERE { ?s ?p ?o }\n",
     "not UTF-8 text (line 1)"),
    # a thousand `[`: PyYAML's composer hits the recursion limit some 500 deep (2000 only cost its scanner 2 s)
    (("#+ a: " + "[" * 1000 + "\n").encode(), "header nests too deeply to be read"),
    ((GOOD_HEADER + "# " + "x" * 1_000_001 + "\nSELECT * WHERE { ?s ?p ?o }\n").encode(),
     "bytes, more than the size limit of 1,000,000 bytes for a stored file"),
])
def test_a_bad_check_file_is_one_error_naming_it(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-check.rq"
    path.write_bytes(content)
    error = _finishes(lambda: load_query(path, "check"))
    assert isinstance(error, KgError), repr(error)
    assert str(error).startswith(f"{path}: ") and message in str(error) and "\n" not in str(error), str(error)


def test_a_check_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "waiting.rq")
    error = _finishes(lambda: load_catalog(tmp_path))
    assert isinstance(error, KgError) and str(error) == f"{tmp_path / 'waiting.rq'}: not a regular file"


def test_a_bad_check_file_through_the_cli_exits_2(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    graph = _graph_with(tmp_path, FIXTURES / "claims-without-quote" / "clean.ttl")
    audits = graph / "queries" / "audits"
    audits.mkdir(parents=True)
    (audits / "deep.rq").write_text("#+ a: " + "[" * 1000 + "\n", encoding="utf-8")  # past the recursion limit
    result = runner.invoke(main, ["--data", str(graph), "audit"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg: ") and "note:" not in line]
    assert errors == [f"kg: {audits / 'deep.rq'}: header nests too deeply to be read (1000 levels, more than the "
                      "limit of 32) (raise it with KG_LIMIT_HEADER_DEPTH)"], result.stderr
