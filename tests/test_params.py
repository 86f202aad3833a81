"""Parameters of stored questions (kg.params): required ones, names for IRI parameters, terms that must be in
the graph, and defaults that are shown with the answer. Expected terms are written by hand from the data."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.catalog import load_catalog, load_query
from kg.cli import main
from kg.errors import KgError
from kg.params import bind, bind_in, examples
from kg.query import LocalEngine
from tests.conftest import ROOT

CATALOG = load_catalog(ROOT / "queries", ("question",)).questions
PARAMETRIZED = [(q, p) for q in CATALOG for p in q.params]
# What each question with a parameter is about (by hand): none of these may have a default
ABOUT = {"route-legs": "route", "place-activities": "place", "actor-facts": "actor", "evidence-for-entity": "entity"}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    """The `runner` fixture's CliRunner, with one cache folder for the module (one cold start, not one a test)."""
    return CliRunner(env={"KG_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})


def test_what_a_question_is_about_is_required() -> None:
    found = {q.name: p.name for q, p in PARAMETRIZED}
    assert found == ABOUT  # a new parameter is added here by hand, with a decision: required or optional
    for question, param in PARAMETRIZED:
        assert param.required and param.example, f"{question.name}: {param.name} needs no default and an example"


@pytest.mark.parametrize(("question", "param"), PARAMETRIZED, ids=[f"{q.name}-{p.name}" for q, p in PARAMETRIZED])
def test_a_question_without_its_required_parameter_is_refused(cli: CliRunner, question, param) -> None:  # type: ignore[no-untyped-def]
    result = cli.invoke(main, ["query", question.name, "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"kg: '{question.name}' needs the parameter {param.name}=<iri>: {param.description} "
                             f"(for example {param.name}={param.example})\n")


def test_bind_without_a_graph_takes_examples_and_refuses_what_is_missing() -> None:
    stored = next(q for q in CATALOG if q.name == "route-legs")
    assert examples(stored) == {"route": "route:caspian-ferry-route-via-kyrgyzstan"}
    route = bind(stored, examples(stored))["route"].value
    assert route == "https://w3id.org/crossroads-kg/id/route/caspian-ferry-route-via-kyrgyzstan"
    with pytest.raises(KgError, match="needs the parameter route"):
        bind(stored, {})
    with pytest.raises(KgError, match=r"has no parameter nope \(parameters: route\)"):
        bind(stored, {"route": "route:northern-route", "nope": "1"})


@pytest.mark.parametrize(("question", "value", "term", "note"), [
    ("place-activities", "Almaty", "place:almaty", "place='Almaty' is place:almaty (Almaty)"),
    ("place-activities", "ALMATY", "place:almaty", "place='ALMATY' is place:almaty (Almaty)"),
    ("place-activities", "Kok-Tash", "place:kok-tash", "place='Kok-Tash' is place:kok-tash (Kök-Tash)"),
    ("actor-facts", "Burkin", "actor:egor-burkin", "actor='Burkin' is taken as actor:egor-burkin (Egor Burkin)"),
    ("route-legs", "northern route", "route:northern-route",
     "route='northern route' is route:northern-route (northern route)"),
    ("route-legs", "caspian uzbekistan", "route:caspian-ferry-route-via-uzbekistan",
     "route='caspian uzbekistan' is taken as route:caspian-ferry-route-via-uzbekistan (Iran–Caspian Sea–Turkmenistan–"
     "Uzbekistan–Kazakhstan–Belarus–EU heroin route (via Uzbekistan))"),
    ("evidence-for-entity", "Kordai", "place:korday",
     "entity='Kordai' is taken as place:korday (Korday checkpoint), the nearest spelling"),
    ("evidence-for-entity", "actor:khimprom", "actor:khimprom", None),
])
def test_a_name_is_accepted_for_an_iri_parameter(store, question: str, value: str, term: str, note: str | None) -> None:  # type: ignore[no-untyped-def]
    from kg.cli.find import resolution_note
    from kg.graph import compact

    stored = next(q for q in CATALOG if q.name == question)
    bound = bind_in(LocalEngine(store), stored, {ABOUT[question]: value})
    assert compact(bound.terms[ABOUT[question]].value) == term
    assert bound.defaults == {}
    resolved = bound.resolved.get(ABOUT[question])
    assert (resolution_note(resolved, ABOUT[question]) if resolved else None) == note


def test_a_name_gives_the_answer_of_its_curie_and_says_so(cli: CliRunner) -> None:
    by_name = cli.invoke(main, ["query", "place-activities", "-p", "place=Almaty", "--format", "csv"])
    by_curie = cli.invoke(main, ["query", "place-activities", "-p", "place=place:almaty", "--format", "csv"])
    assert by_name.exit_code == by_curie.exit_code == 0
    assert by_name.stdout == by_curie.stdout and len(by_name.stdout.splitlines()) > 5
    assert by_name.stderr == "kg: note: place='Almaty' is place:almaty (Almaty)\n" and by_curie.stderr == ""


@pytest.mark.parametrize(("args", "says"), [
    (["evidence-for-entity", "-p", "entity=actor:khimpromm"],
     "kg: parameter 'entity': no entity, fact or claim matches 'actor:khimpromm'; nearest: actor:khimprom (Khimprom)"),
    (["evidence-for-entity", "-p", "entity=https://w3id.org/crossroads-kg/id/place/almatyy"],
     "kg: parameter 'entity': no entity, fact or claim matches 'https://w3id.org/crossroads-kg/id/place/almatyy'; "
     "nearest: place:almaty (Almaty)"),
    (["route-legs", "-p", "route=Almaty"], "kg: parameter 'route': no ckg:Route matches 'Almaty'"),
    (["route-legs", "-p", "route=Uzbekistan"], "kg: parameter 'route': 'Uzbekistan' is only part of the names of 3 "
     "terms: route:caspian-ferry-route-via-uzbekistan"),  # three routes pass through Uzbekistan
    (["route-legs", "-p", "route=Caspian ferry route"], "kg: parameter 'route': 'Caspian ferry route' fits 2 names "
     "about as well: route:caspian-ferry-route-via-kyrgyzstan"),
    (["route-legs", "-p", "route=Caspian bicycle route"], "kg: parameter 'route': no ckg:Route matches "
     "'Caspian bicycle route'"),
    (["actor-facts", "-p", "actor=xyzzy"],
     "kg: parameter 'actor': no ckg:Actor matches 'xyzzy'; `kg search TEXT` finds terms by name\n"),
])
def test_a_term_not_in_the_graph_or_an_ambiguous_name_is_refused(cli: CliRunner, args: list[str], says: str) -> None:
    """Exit 2 and one line naming the nearest terms or the candidates — never '(0 rows)' and exit 0."""
    result = cli.invoke(main, ["query", *args, "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(says) and result.stderr.count("\n") == 1, result.stderr


OPTIONAL = """\
#+ title: Claims of a section
#+ question: Which claims does a section make?
#+ description: One row per claim of the section.
#+ tags: [test]
#+ params:
#+   - name: section
#+     type: iri
#+     default: sec:politicization
#+     description: The section.
#+   - name: most
#+     type: integer
#+     default: 3
#+     description: How many claims.
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
SELECT ?claim WHERE { ?claim ckg:section ?section } ORDER BY ?claim LIMIT 3
"""


@pytest.fixture(scope="module")
def optional_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph")
    for part in ("ontology", "data"):
        shutil.copytree(ROOT / part, root / part)
    (root / "queries").mkdir()
    (root / "queries" / "section-claims.rq").write_text(OPTIONAL, encoding="utf-8")
    return root


def test_the_defaults_used_are_shown_with_the_answer(cli: CliRunner, optional_root: Path) -> None:
    """An optional parameter left out shows its value: a line above a table, a note beside the exact formats."""
    base = ["--data", str(optional_root), "query", "section-claims"]
    said = "with section=sec:politicization, most=3 (the defaults)"
    table = cli.invoke(main, base)
    assert table.exit_code == 0 and table.stdout.splitlines()[0] == said and table.stderr == ""
    md = cli.invoke(main, [*base, "--format", "md"])
    assert md.stdout.splitlines()[:3] == [said, "", "| claim |"]
    as_csv = cli.invoke(main, [*base, "--format", "csv"])
    assert next(csv.reader(io.StringIO(as_csv.stdout))) == ["claim"] and as_csv.stderr == f"kg: note: {said}\n"
    as_json = cli.invoke(main, [*base, "--format", "json"])
    assert len(json.loads(as_json.stdout)["results"]["bindings"]) == 3 and as_json.stderr == f"kg: note: {said}\n"
    given = cli.invoke(main, [*base, "-p", "section=Politicization", "-p", "most=3"])
    assert given.stdout.splitlines()[0] != said
    assert given.stderr == "kg: note: section='Politicization' is sec:politicization (Politicization)\n"


@pytest.mark.parametrize(("extra", "problem"), [
    ("#+     class: [ckg:Route]\n", "params[0].class must be a CURIE or an IRI"),
    ("#+     example: [a, b]\n", "params[0].example must be a plain value"),
])
def test_a_bad_class_or_example_is_a_header_error(tmp_path: Path, extra: str, problem: str) -> None:
    text = OPTIONAL.replace("#+     default: sec:politicization\n", extra)
    (tmp_path / "bad.rq").write_text(text, encoding="utf-8")
    with pytest.raises(KgError, match=problem.replace("[", r"\[")):
        load_query(tmp_path / "bad.rq")
