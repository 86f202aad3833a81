"""Provenance audits: checks as stored SPARQL queries with a severity (the ROBOT/ODK report model).

A check is one file in `queries/audits/<name>.rq`: a SPARQL SELECT whose result rows are the findings, with
a `#+` YAML header (read by `kg.catalog.parse_header`):

    #+ title: Claims without a quote
    #+ description: What the check finds and why an editor should care.
    #+ severity: error          # error | warning | info
    #+ tags: [provenance, quotes]

Adding a check is adding one file. `kg audit` runs them all (or those named with `--check`) and exits 1 when
a check at or above the `--fail-on` severity finds something. With `--source-text`, a built-in check
(`quote-fixity`) verifies every quote verbatim against the given text, as a W3C TextQuoteSelector: the
exact words, and where they occur more than once, the prefix and suffix around them; the report records the
text's SHA-256 so that a reader can tell which text the quotes were checked against.

Rendering: `text` and `md` here, `json` (`{checks: [...], summary: {...}}`) here, `html` in
`kg.report_html` (one self-contained page).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.catalog import NAME, parse_header, strip_header
from kg.errors import KgError
from kg.query import Engine, Result
from kg.reading import decode_utf8, read_capped, read_text

SEVERITIES = ("error", "warning", "info")
HEADER_KEYS = {"title", "description", "severity", "tags"}
FIXITY = "quote-fixity"
NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in ("integer", "decimal", "double", "float", "long", "int")}


@dataclass(frozen=True)
class Check:
    """One audit check: a stored SELECT whose rows are findings."""

    name: str
    path: Path | None
    title: str
    description: str
    severity: str
    tags: list[str]
    sparql: str = ""


def check_header(header: dict) -> list[str]:
    """Problems with an audit check's header (empty when it is valid)."""
    problems = [f"unknown key '{k}'" for k in header if k not in HEADER_KEYS]
    for key in ("title", "description"):
        if not isinstance(header.get(key), str) or not header[key].strip():
            problems.append(f"'{key}' must be a non-empty string")
    if header.get("severity") not in SEVERITIES:
        problems.append(f"'severity' must be one of {', '.join(SEVERITIES)}")
    tags = header.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        problems.append("'tags' must be a non-empty list of strings")
    return problems


# Open without blocking (a FIFO that slipped past the stat check), and in binary mode on Windows.
def load_check(path: Path) -> Check:
    """The audit check stored in `path`, or one KgError naming the file: not a regular file, larger than the
    `stored_file_bytes` limit, not UTF-8, a header that is not YAML or nests too deeply, an invalid header."""
    text = read_text(path, "stored_file_bytes", "a stored file")
    try:
        header = parse_header(path, text)
    except RecursionError:  # YAML nested thousands deep ("[[[[..."): the parser recurses once per level
        raise KgError(f"{path}: header nests too deeply to be read") from None
    problems = check_header(header)
    if not NAME.match(path.stem.replace("-", "_")):
        problems.append(f"file name '{path.stem}' must be lower-case words joined by hyphens")
    if problems:
        raise KgError(f"{path}: invalid audit header: {'; '.join(problems)}")
    body = strip_header(text)
    return Check(name=path.stem, path=path, title=header["title"].strip(),
                 description=" ".join(header["description"].split()), severity=header["severity"],
                 tags=list(header["tags"]), sparql=body)


def load_checks(audits_dir: Path) -> list[Check]:
    """Every check in `audits_dir`, by name."""
    if not audits_dir.is_dir():
        raise KgError(f"{audits_dir}: no audit checks folder")
    return [load_check(p) for p in sorted(audits_dir.glob("*.rq"))]


def checks_dir(layout) -> Path:  # type: ignore[no-untyped-def]
    """The graph's audit checks; a graph folder whose queries/ has no audits/ uses the bundled checks."""
    if layout.audits_dir.is_dir():
        return layout.audits_dir
    from kg.layout import resolve

    return resolve().audits_dir


def select_checks(checks: list[Check], names: list[str]) -> list[Check]:
    """The checks called `names` (all when none is given), or a KgError suggesting the closest names."""
    if not names:
        return checks
    known = {c.name: c for c in checks}
    for name in names:
        if name not in known and name != FIXITY:
            close = difflib.get_close_matches(name, [*known, FIXITY], n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "; `kg audit --list` names them"
            raise KgError(f"no audit check named '{name}'{hint}")
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

    def summary(self) -> dict:
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
    started = time.perf_counter()
    try:
        result = engine.select(check.sparql)
    except KgError as err:
        raise KgError(f"audit check '{check.name}': {err}") from None
    return CheckResult(check, result, time.perf_counter() - started)


CLAIM_COUNT = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a <https://w3id.org/crossroads-kg/ontology#Claim> }"


def audit(engine: Engine, checks: list[Check], fail_on: str = "error", source_text: Path | None = None) -> AuditReport:
    """Run `checks` (and, given `source_text`, the quote-fixity check) on `engine`."""
    if fail_on not in SEVERITIES:
        raise KgError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    results = [run_check(engine, check) for check in checks]
    report = AuditReport(results, fail_on=fail_on)
    claims = engine.select(CLAIM_COUNT).rows
    report.claims = int(claims[0][0].value) if claims and claims[0][0] is not None else 0
    if source_text is not None:
        result, record = verify_quotes(engine, source_text)
        report.results.append(result)
        report.source_text = record
    report.results.sort(key=lambda r: (SEVERITIES.index(r.check.severity), r.check.name))
    return report


# --- Quote fixity -----------------------------------------------------------------------------------------

FIXITY_CHECK = Check(
    name=FIXITY, path=None, title="Quotes that do not occur verbatim in the source text", severity="error",
    tags=["provenance", "quotes", "fixity"],
    description=(
        "Every quote (oa:TextQuoteSelector) must occur verbatim in the text given with --source-text. A quote "
        "that occurs more than once must carry an oa:prefix and/or oa:suffix that make it unique, and where they "
        "are given they must match the words just before and after it. The SHA-256 of the text is recorded in "
        "the summary, so that a reader can tell which text the quotes were checked against."
    ),
)

SELECTORS = """
PREFIX ckg: <https://w3id.org/crossroads-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?claim ?exact ?prefix ?suffix WHERE {
  ?claim a ckg:Claim ; oa:hasSelector ?selector .
  ?selector oa:exact ?exact .
  OPTIONAL { ?selector oa:prefix ?prefix }
  OPTIONAL { ?selector oa:suffix ?suffix }
} ORDER BY ?claim ?exact
"""


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
    selectors = engine.select(SELECTORS)
    rows = []
    for claim, exact, prefix, suffix in selectors.rows:
        problem = quote_problem(text, exact.value, prefix.value if prefix else "", suffix.value if suffix else "")
        if problem:
            rows.append([ox.Literal(problem), exact, prefix or ox.Literal(""), suffix or ox.Literal(""), claim])
    result = CheckResult(FIXITY_CHECK, Result(["problem", "quote", "prefix", "suffix", "claim"], rows),
                         time.perf_counter() - started)
    record = SourceText(path=str(path), sha256=hashlib.sha256(raw).hexdigest(), quotes=len(selectors.rows),
                        verified=len(selectors.rows) - len(rows))
    return result, record


# --- Rendering --------------------------------------------------------------------------------------------

def plain(term):  # type: ignore[no-untyped-def]
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


def findings_as_dicts(result: CheckResult) -> list[dict]:
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
    summary = report.summary()
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [f"kg audit: {summary['checks']} checks on {summary['claims']} claims, {summary['findings']} findings — "
             f"{verdict} (--fail-on {report.fail_on})"]
    if report.source_text is not None:
        st = report.source_text
        lines.append(f"source text: {st.path} (SHA-256 {st.sha256}); {st.verified} of {st.quotes} quotes verified")
    return lines


def human(term) -> str:  # type: ignore[no-untyped-def]
    from kg.output import human as compact_term

    return compact_term(term)


def to_text(report: AuditReport, width: int = 100) -> str:
    import textwrap

    lines = [*summary_lines(report), ""]
    name_width = max([len(r.check.name) for r in report.results] + [10])
    for r in report.results:
        lines.append(f"  {r.check.severity.upper():<8} {r.check.name:<{name_width}} {_status(r)}")
    for r in report.results:
        lines += ["", f"== {r.check.severity.upper()} {r.check.name}: {r.check.title} ({_status(r)})"]
        lines += textwrap.wrap(r.check.description, width)
        for number, row in enumerate(r.findings.rows, start=1):
            cells = [(v, human(t)) for v, t in zip(r.findings.variables, row, strict=True) if human(t)]
            prefix = f"  {number}. "
            for i, (variable, value) in enumerate(cells):
                shown = f"“{value}”" if variable.startswith("quote") else value
                lines.append((prefix if i == 0 else " " * len(prefix)) + f"{variable}: {shown}")
    return "\n".join(lines) + "\n"


def to_markdown(report: AuditReport) -> str:
    def cell(variable: str, term) -> str:  # type: ignore[no-untyped-def]
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


def render(report: AuditReport, fmt: str) -> str:
    if fmt == "json":
        return to_json(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        from kg.report_html import to_html

        return to_html(report)
    return to_text(report)


def list_checks(checks: list[Check]) -> str:
    width = max([len(c.name) for c in checks] + [len(FIXITY)])
    lines = [f"{c.name:<{width}}  {c.severity:<8} {c.title}" for c in checks]
    lines.append(f"{FIXITY:<{width}}  {'error':<8} {FIXITY_CHECK.title} (with --source-text)")
    return "\n".join(lines) + "\n"


def is_url(value: str) -> bool:
    return bool(re.match(r"^https?://\S+$", value))
