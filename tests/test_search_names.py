"""Names wherever a term is (kg.search_names), as a new user writes them: a CURIE with an unknown prefix is an
error, never a name read for its words; the end of an IRI names its term; a route's everyday name resolves,
and a name two routes share lists both. Expected terms are written by hand from the data files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kg.cli import main


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    return CliRunner(env={"KG_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})


@pytest.mark.parametrize(("args", "iri"), [
    (["why", "caspian-ferry-route-via-kyrgyzstan"], "route:caspian-ferry-route-via-kyrgyzstan"),
    (["why", "Caspian ferry route via Uzbekistan"], "route:caspian-ferry-route-via-uzbekistan"),
    (["query", "route-legs", "-p", "route=Caspian ferry route via Kyrgyzstan"],
     "route:caspian-ferry-route-via-kyrgyzstan"),
    (["query", "route-legs", "-p", "route=caspian-ferry-route-via-uzbekistan"],
     "route:caspian-ferry-route-via-uzbekistan"),
])
def test_a_route_by_its_everyday_name_or_the_end_of_its_iri(cli: CliRunner, args: list[str], iri: str) -> None:
    result = cli.invoke(main, args)
    assert result.exit_code == 0, result.stderr
    assert f"is taken as {iri}" in result.stderr or f"is {iri}" in result.stderr, result.stderr


@pytest.mark.parametrize("text", ["drug:heroin", "drug:mephedrone", "plaec:almaty"])
def test_a_curie_with_an_unknown_prefix_is_refused(cli: CliRunner, text: str) -> None:
    """Read as a name, 'drug:heroin' was taken for a fact about Kazakhstan as a transit country (exit 0)."""
    result = cli.invoke(main, ["why", text])
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and f"'{text.split(':')[0]}' is not a known prefix" in line, line


def test_a_name_two_routes_share_lists_both_in_a_short_line(cli: CliRunner) -> None:
    result = cli.invoke(main, ["query", "route-legs", "-p", "route=Caspian ferry route"])
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "route:caspian-ferry-route-via-kyrgyzstan" in line and "route:caspian-ferry-route-via-uzbekistan" in line
    assert len(line) < 300, line  # labels are cut beside their CURIEs (it was 481 characters)
