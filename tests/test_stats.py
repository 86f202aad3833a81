"""kg.stats: counts are answers, never defaults. An endpoint that leaves a count unbound (or sends no row)
makes `kg stats` fail with one `kg:` line: a missing number is never printed as 0."""

from __future__ import annotations

import pytest

from kg.cli import main
from tests import faultservers

TOTALS = ["triples", "claims", "footnotes", "citations", "sources", "entities", "conflicts"]


@pytest.mark.parametrize(("rows", "command", "message"), [
    ([{"triples": 10}], ["stats"], "no value for ?claims"),  # a count left unbound
    ([], ["stats"], "answered the totals with 0 rows, not one"),  # no row at all
    ([{"section": "http://ex/s", "label": "S", "order": 1}], ["stats", "--by-section"], "no value for ?claims"),
])
def test_a_count_the_endpoint_leaves_out_is_an_error_not_zero(runner, rows: list, command: list[str],  # type: ignore[no-untyped-def]
                                                              message: str) -> None:
    variables = TOTALS if command == ["stats"] else ["section", "label", "order", "page", "claims", "entities",
                                                       "citations", "footnotes", "hedgedClaims"]
    with faultservers.select(rows, variables) as url:
        result = runner.invoke(main, [*command, "--endpoint", url, "--timeout", "5"])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.startswith("kg: ") and message in result.stderr, result.stderr
