"""Provenance audits: checks as stored SPARQL queries with a severity (the ROBOT/ODK report model).

A check is a stored query (kg.catalog) with a `severity` (error | warning | info): a SPARQL SELECT whose
result rows are the findings. A question users also ask is one file in `queries/` with a severity; a check
that is not a question is one file in `queries/audits/`:

    #+ title: Claims without a quote
    #+ description: What the check finds and why an editor should care.
    #+ severity: error
    #+ tags: [provenance, quotes]

Adding a check is adding one file. `audit` runs them all (or those named) and fails when a check at or above
the failing severity finds something. Given the report's text, a built-in check
(`quote-fixity`) verifies every quote verbatim against the given text, as a W3C TextQuoteSelector: the
exact words, and where they occur more than once, the prefix and suffix around them; the report records the
text's SHA-256 so that a reader can tell which text the quotes were checked against.

Rendering: `text` and `md` here, `json` (`{checks: [...], summary: {...}}`) here, `html` in
`kg.report_html` (one self-contained page). The text is for a terminal: fitted to its width, and showing
the findings of errors and warnings only unless asked for everything (the other formats hold everything).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.catalog import SEVERITIES, StoredQuery, library, load_catalog, not_found
from kg.errors import KgError
from kg.layout import Layout
from kg.output import human
from kg.output import lexical as _value
from kg.query import Engine, Result, Term
from kg.reading import decode_utf8, read_capped

FIXITY = "quote-fixity"
NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in ("integer", "decimal", "double", "float", "long", "int")}

Check = StoredQuery  # an audit check is a stored query with a severity (kg.catalog)


def checks_for(layout: Layout) -> list[Check]:
    """The graph's audit checks (its questions with a severity and its check-only files); a graph folder whose
    queries hold no check uses the bundled checks."""
    checks = load_catalog(layout.queries_dir, ("question", "check")).checks if layout.queries_dir.is_dir() else []
    if checks:
        return checks
    from kg.layout import resolve

    return load_catalog(resolve().queries_dir, ("question", "check")).checks


def select_checks(checks: list[Check], names: list[str]) -> list[Check]:
    """The checks called `names` (all when none is given), or a NotFound error suggesting the closest names."""
    if not names:
        return checks
    known = {c.name: c for c in checks}
    for name in names:
        if name not in known and name != FIXITY:
            raise not_found(name, "audit check", [*known, FIXITY])
    return [known[n] for n in dict.fromkeys(names) if n in known]


@dataclass
class CheckResult:
    check: Check
    findings: Result
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.findings.rows)


@dataclass
class SourceText:
    """The text quotes were verified against: where it was, its SHA-256, how many quotes were checked."""

    path: str
    sha256: str
    quotes: int
    verified: int


@dataclass
class AuditReport:
    results: list[CheckResult]
    fail_on: str = "error"
    source_text: SourceText | None = None
    claims: int = 0

    def failing(self) -> list[CheckResult]:
        """The checks at or above the `fail_on` severity that found something."""
        limit = SEVERITIES.index(self.fail_on)
        return [r for r in self.results if r.count and SEVERITIES.index(r.check.severity) <= limit]

    @property
    def passed(self) -> bool:
        return not self.failing()

    def summary(self) -> dict[str, object]:
        by_severity = {
            severity: {
                "checks": sum(1 for r in self.results if r.check.severity == severity),
                "checks_with_findings": sum(1 for r in self.results if r.check.severity == severity and r.count),
                "findings": sum(r.count for r in self.results if r.check.severity == severity),
            }
            for severity in SEVERITIES
        }
        out = {
            "checks": len(self.results),
            "findings": sum(r.count for r in self.results),
            "claims": self.claims,
            "by_severity": by_severity,
            "fail_on": self.fail_on,
            "failing_checks": [r.check.name for r in self.failing()],
            "passed": self.passed,
        }
        if self.source_text is not None:
            out["source_text"] = {"path": self.source_text.path, "sha256": self.source_text.sha256,
                                  "quotes": self.source_text.quotes, "verified": self.source_text.verified}
        return out


def run_check(engine: Engine, check: Check) -> CheckResult:
    """The findings of `check`; a check that is also a question with parameters runs with their defaults, so
    that `kg audit` and `kg query` give the same answer."""
    from kg.params import bind

    started = time.perf_counter()
    try:
        result = engine.select(check.sparql, bind(check, {}))
    except KgError as err:
        raise KgError(f"audit check '{check.name}': {err}") from None
    return CheckResult(check, result, time.perf_counter() - started)


def audit(engine: Engine, checks: list[Check], fail_on: str = "error", source_text: Path | None = None) -> AuditReport:
    """Run `checks` (and, given `source_text`, the quote-fixity check) on `engine`."""
    if fail_on not in SEVERITIES:
        raise KgError(f"the failing severity must be one of {', '.join(SEVERITIES)}, not {fail_on!r}")
    results = [run_check(engine, check) for check in checks]
    report = AuditReport(results, fail_on=fail_on)
    from kg.stats import totals

    report.claims = int(totals(engine)["claims"])
    if source_text is not None:
        result, record = verify_quotes(engine, source_text)
        report.results.append(result)
        report.source_text = record
    report.results.sort(key=lambda r: (SEVERITIES.index(r.check.severity), r.check.name))
    return report


# --- Quote fixity -----------------------------------------------------------------------------------------

FIXITY_CHECK = Check(
    name=FIXITY, path=None, kind="check", title="Quotes that do not occur verbatim in the source text",
    severity="error",
    tags=["provenance", "quotes", "fixity"],
    description=(
        "Every quote (oa:TextQuoteSelector) must occur verbatim in the source text the audit is given. A quote "
        "that occurs more than once must carry an oa:prefix and/or oa:suffix that make it unique, and where they "
        "are given they must match the words just before and after it. The SHA-256 of the text is recorded in "
        "the summary, so that a reader can tell which text the quotes were checked against."
    ),
)

def occurrences(text: str, part: str) -> int:
    """How many times `part` occurs in `text`, overlapping occurrences included."""
    if not part:
        return 0
    count, start = 0, text.find(part)
    while start != -1:
        count += 1
        start = text.find(part, start + 1)
    return count


def quote_problem(text: str, exact: str, prefix: str = "", suffix: str = "") -> str:
    """Why a TextQuoteSelector does not pin one place of `text` (empty when it does)."""
    found = occurrences(text, exact)
    if found == 0:
        return "not found verbatim in the text"
    if prefix or suffix:
        anchored = occurrences(text, prefix + exact + suffix)
        if anchored == 0:
            which = " and ".join(x for x, given in (("oa:prefix", prefix), ("oa:suffix", suffix)) if given)
            return f"found {found} time{'s' if found != 1 else ''}, but never with its {which}"
        if anchored > 1:
            return f"occurs {anchored} times even with its prefix/suffix; make them longer"
        return ""
    if found > 1:
        return f"occurs {found} times; add an oa:prefix or oa:suffix"
    return ""


def verify_quotes(engine: Engine, path: Path) -> tuple[CheckResult, SourceText]:
    """The quote-fixity check against the text in `path`.

    The text must be a regular file (not a FIFO, which would block, nor a device such as /dev/zero, which never
    ends) within the `source_text_bytes` limit, and UTF-8; it is read before anything is queried."""
    label = f"source text {path}"
    raw = read_capped(Path(path), "source_text_bytes", "a source text", label)
    text = decode_utf8(raw, label)
    started = time.perf_counter()
    selectors = engine.select(library("quote-selectors").sparql)
    rows = []
    for claim, exact, prefix, suffix in selectors.rows:
        problem = quote_problem(text, _value(exact), _value(prefix), _value(suffix))
        if problem:
            rows.append([ox.Literal(problem), exact, prefix or ox.Literal(""), suffix or ox.Literal(""), claim])
    result = CheckResult(FIXITY_CHECK, Result(["problem", "quote", "prefix", "suffix", "claim"], rows),
                         time.perf_counter() - started)
    record = SourceText(path=str(path), sha256=hashlib.sha256(raw).hexdigest(), quotes=len(selectors.rows),
                        verified=len(selectors.rows) - len(rows))
    return result, record


# --- Rendering --------------------------------------------------------------------------------------------

def plain(term: Term | None) -> object:
    """A JSON value for a term: IRIs and strings as strings, numbers as numbers, booleans as booleans."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in NUMERIC:
            number = float(term.value)
            return int(number) if number.is_integer() and "." not in term.value else number
        if datatype.endswith("#boolean"):
            return term.value == "true"
    return term.value


def findings_as_dicts(result: CheckResult) -> list[dict[str, object]]:
    variables = result.findings.variables
    return [{v: plain(t) for v, t in zip(variables, row, strict=True)} for row in result.findings.rows]


def to_json(report: AuditReport) -> str:
    checks = [
        {"name": r.check.name, "title": r.check.title, "severity": r.check.severity,
         "description": r.check.description, "tags": r.check.tags, "count": r.count,
         "findings": findings_as_dicts(r)}
        for r in report.results
    ]
    return json.dumps({"checks": checks, "summary": report.summary()}, ensure_ascii=False, indent=2) + "\n"


def _status(result: CheckResult) -> str:
    return "clean" if not result.count else f"{result.count} finding{'s' if result.count != 1 else ''}"


def summary_lines(report: AuditReport) -> list[str]:
    """The verdict, and the source text the quotes were checked against (its path, then its SHA-256 with the
    count of quotes verified, so that the digest is never cut from its name)."""
    summary = report.summary()
    verdict = "PASSED" if report.passed else "FAILED"
    checks = len(report.results)
    lines = [f"kg audit: {checks} check{'s' if checks != 1 else ''} on {summary['claims']} claims, "
             f"{summary['findings']} findings — "
             f"{verdict} (--fail-on {report.fail_on})"]
    if report.source_text is not None:
        st = report.source_text
        lines += [f"source text: {st.path}", f"SHA-256 {st.sha256}; {st.verified} of {st.quotes} quotes verified"]
    return lines


SHOWN = ("error", "warning")  # the severities whose findings the text report shows unless asked for everything


def to_text(report: AuditReport, width: int | None = None, everything: bool = False, hidden_note: str = "") -> str:
    """The report for a terminal, fitted to `width` (default: the terminal's; kg.output.wrap, so no IRI or
    word is cut): the verdict, one line per check, then each check with findings at a severity in SHOWN, its
    description and its findings. With `everything`, every check (info ones and clean ones too). What is left
    out is said in one line, followed by `hidden_note` (the CLI says there how to see it)."""
    from kg.output import terminal_width, wrap

    width = terminal_width() if width is None else width
    lines = [line for text in summary_lines(report) for line in wrap(text, width, "  ", "")] + [""]
    name_width = max([len(r.check.name) for r in report.results] + [10])
    for r in report.results:
        lines.append(f"  {str(r.check.severity).upper():<8} {r.check.name:<{name_width}}  {_status(r)}")
    shown = [r for r in report.results if everything or (r.count and r.check.severity in SHOWN)]
    hidden = [r for r in report.results if r.count and r not in shown]
    if hidden:
        count = sum(r.count for r in hidden)
        names = ", ".join(r.check.name for r in hidden)
        note = f"Not shown: the {count} finding{'s' if count != 1 else ''} of {names}.{hidden_note}"
        lines += ["", *wrap(note, width)]
    for r in shown:
        lines += ["", *wrap(f"== {str(r.check.severity).upper()} {r.check.name}: {r.check.title} ({_status(r)})",
                            width, "   ", "")]
        lines += wrap(r.check.description, width)
        for number, row in enumerate(r.findings.rows, start=1):
            cells = [(v, human(t)) for v, t in zip(r.findings.variables, row, strict=True) if human(t)]
            prefix = f"  {number}. "
            for i, (variable, value) in enumerate(cells):
                shown_value = f"“{value}”" if variable.startswith("quote") else value
                first = (prefix if i == 0 else " " * len(prefix)) + f"{variable}: "
                lines += wrap(shown_value, width, " " * (len(prefix) + 2), first)
    return "\n".join(lines) + "\n"


def to_markdown(report: AuditReport) -> str:
    def cell(variable: str, term: Term | None) -> str:
        value = human(term).replace("|", "\\|").replace("\n", " ")
        if not value:
            return ""
        if variable.startswith("quote"):
            return f"“{value}”"
        if isinstance(term, ox.NamedNode):
            return f"`{value}`"
        return value

    lines = ["# Audit report", ""] + [f"{line}  " for line in summary_lines(report)] + [""]
    lines += ["| check | severity | findings | title |", "|---|---|---|---|"]
    for r in report.results:
        lines.append(f"| [`{r.check.name}`](#{r.check.name}) | {r.check.severity} | {r.count} | {r.check.title} |")
    for r in report.results:
        lines += ["", f"## {r.check.name}", "", f"**{r.check.title}** — {r.check.severity}, {_status(r)}.", "",
                  r.check.description, ""]
        if r.count:
            variables = r.findings.variables
            lines.append("| " + " | ".join(variables) + " |")
            lines.append("|" + "---|" * len(variables))
            lines += ["| " + " | ".join(cell(v, t) for v, t in zip(variables, row, strict=True)) + " |"
                      for row in r.findings.rows]
    return "\n".join(lines) + "\n"


def render(report: AuditReport, fmt: str, everything: bool = False, hidden_note: str = "") -> str:
    """`report` in `fmt`; `everything` and `hidden_note` are for the text format (see `to_text`), the others
    always hold every check."""
    if fmt == "json":
        return to_json(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        from kg.report_html import to_html

        return to_html(report)
    return to_text(report, everything=everything, hidden_note=hidden_note)


def list_checks(checks: list[Check], fixity_note: str = "") -> str:
    """One entry per check, its title wrapped to the terminal; the built-in quote-fixity check last, with
    `fixity_note` (how to run it)."""
    from kg.output import wrap

    width = max([len(c.name) for c in checks] + [len(FIXITY)])
    entries = [(c.name, c.severity, c.title) for c in checks] + [(FIXITY, "error", FIXITY_CHECK.title + fixity_note)]
    indent = " " * (width + 11)
    lines = [line for name, severity, title in entries
             for line in wrap(title, None, indent, f"{name:<{width}}  {severity:<8} ")]
    return "\n".join(lines) + "\n"


def is_url(value: str) -> bool:
    return bool(re.match(r"^https?://\S+$", value))
