"""The audit report as one self-contained HTML page: an editor's checklist that opens offline.

No scripts, fonts or images are fetched: the style sheet is inline and every finding is in the page. The
page opens with the verdict and a checklist (one row per check, with a box to tick once reviewed), then
each check with its description and its findings: quotes set off as quotations, sources and citations as
lists, identifiers as compact names (the full IRI on hover), addresses as links. Long lists of findings
are folded (`<details>`) so that the page stays readable.
"""

from __future__ import annotations

import html

import pyoxigraph as ox

from kg.audit import AuditReport, CheckResult, is_url, summary_lines
from kg.graph import compact

FOLD_AFTER = 20

STYLE = """
:root { --error: #b3261e; --warning: #8a5a00; --info: #35618f; --ok: #1e6b36; --line: #d8d8d8; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       max-width: 70rem; margin: 0 auto; padding: 1.5rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 0; display: flex; gap: .6rem; align-items: baseline; flex-wrap: wrap; }
p { margin: .4rem 0; }
.verdict { font-weight: 600; padding: .4rem .7rem; border-radius: .3rem; display: inline-block; }
.verdict.pass { background: #e3f1e6; color: var(--ok); }
.verdict.fail { background: #fbe4e2; color: var(--error); }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; background: #f5f5f5; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.badge { font-size: .75rem; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
         padding: .05rem .45rem; border-radius: .25rem; color: #fff; }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); }
.badge.info { background: var(--info); }
.clean { color: var(--ok); font-weight: 600; }
.count { color: #555; font-weight: 400; font-size: .95rem; }
section.check { border: 1px solid var(--line); border-left: .4rem solid var(--line); border-radius: .3rem;
                padding: .8rem 1rem; margin: 1.2rem 0; }
section.check.error { border-left-color: var(--error); } section.check.warning { border-left-color: var(--warning); }
section.check.info { border-left-color: var(--info); } section.check.done { opacity: .85; }
.description { color: #333; }
.meta { color: #666; font-size: .85rem; }
ol.findings { padding-left: 1.6rem; margin: .4rem 0; }
ol.findings > li { padding: .5rem 0; border-bottom: 1px dashed var(--line); }
blockquote { margin: .2rem 0 .4rem; padding: .3rem .7rem; border-left: .25rem solid #bbb; background: #fafafa;
             font-family: Georgia, "Times New Roman", serif; font-size: 1.05rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem .8rem; margin: .2rem 0; }
dd blockquote { margin: 0; }
dt { color: #555; font-size: .85rem; padding-top: .1rem; } dd { margin: 0; }
dd ul { margin: 0; padding-left: 1.1rem; }
code { font-size: .85rem; background: #f2f2f2; padding: 0 .25rem; border-radius: .2rem; word-break: break-all; }
summary { cursor: pointer; color: #35618f; margin: .3rem 0; }
label.tick { font-size: .85rem; color: #555; font-weight: 400; margin-left: auto; }
@media print { details { display: block; } summary { display: none; } section.check { break-inside: avoid-page; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _iri(value: str) -> str:
    return f'<code title="{_e(value)}">{_e(compact(value))}</code>'


def _value(variable: str, term) -> str:  # type: ignore[no-untyped-def]
    """One cell: a quote, an identifier, an address, a list, or plain words."""
    if term is None or term.value == "":
        return ""
    value = term.value
    if isinstance(term, ox.NamedNode):
        return _iri(value)
    if variable.startswith("quote"):
        parts = [p for p in value.split(" | ") if p]
        return "".join(f"<blockquote>{_e(p)}</blockquote>" for p in parts)
    tokens = value.split()
    if tokens and all(t.startswith(("http://", "https://")) for t in tokens) and len(tokens) > 1:
        return " ".join(_iri(t) for t in tokens)
    if value.startswith("https://w3id.org/crossroads-kg/") and len(tokens) == 1:
        return _iri(value)
    if is_url(value):
        return f'<a href="{_e(value)}">{_e(value)}</a>'
    if " | " in value:
        return "<ul>" + "".join(f"<li>{_e(p)}</li>" for p in value.split(" | ")) + "</ul>"
    return _e(value)


def _table(result: CheckResult) -> str:
    variables = result.findings.variables
    head = "".join(f"<th>{_e(v.replace('_', ' '))}</th>" for v in variables)
    body = []
    for row in result.findings.rows:
        cells = []
        for variable, term in zip(variables, row, strict=True):
            numeric = isinstance(term, ox.Literal) and term.datatype.value.endswith(("#integer", "#decimal"))
            cells.append(f'<td class="n">{_e(term.value)}</td>' if numeric else f"<td>{_value(variable, term)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cards(result: CheckResult) -> str:
    """One card per finding. A single quote leads the card; several quotes (two claims side by side) stay in
    the query's column order, so that each quote sits next to its own citation."""
    variables = result.findings.variables
    items = []
    for row in result.findings.rows:
        cells = [(v, t) for v, t in zip(variables, row, strict=True) if t is not None and t.value]
        quoted = [(v, t) for v, t in cells if v.startswith("quote")]
        if len(quoted) == 1:
            rest = "".join(f"<dt>{_e(v.replace('_', ' '))}</dt><dd>{_value(v, t)}</dd>"
                           for v, t in cells if not v.startswith("quote"))
            items.append(f"<li>{_value(*quoted[0])}<dl>{rest}</dl></li>")
        else:
            fields = "".join(f"<dt>{_e(v.replace('_', ' '))}</dt><dd>{_value(v, t)}</dd>" for v, t in cells)
            items.append(f"<li><dl>{fields}</dl></li>")
    return f"<ol class=\"findings\">{''.join(items)}</ol>"


def _findings(result: CheckResult) -> str:
    if not result.count:
        return '<p class="clean">✓ Nothing found.</p>'
    has_quotes = any(v.startswith("quote") for v in result.findings.variables)
    body = _cards(result) if has_quotes or len(result.findings.variables) > 5 else _table(result)
    if result.count <= FOLD_AFTER:
        return body
    return f"<details><summary>Show all {result.count} findings</summary>{body}</details>"


def _section(result: CheckResult) -> str:
    check = result.check
    count = "clean" if not result.count else f"{result.count} finding{'s' if result.count != 1 else ''}"
    tags = ", ".join(check.tags)
    return (
        f'<section class="check {check.severity}" id="{_e(check.name)}">'
        f'<h2><span class="badge {check.severity}">{check.severity}</span> {_e(check.title)} '
        f'<span class="count">— {count}</span>'
        f'<label class="tick"><input type="checkbox"> reviewed</label></h2>'
        f'<p class="meta">check <code>{_e(check.name)}</code> · {_e(tags)}</p>'
        f'<p class="description">{_e(check.description)}</p>'
        f"{_findings(result)}</section>"
    )


def to_html(report: AuditReport) -> str:
    summary = report.summary()
    verdict_class = "pass" if report.passed else "fail"
    verdict = (f"Passed: no check of severity {report.fail_on} or above found anything." if report.passed else
               f"Failed: {', '.join(summary['failing_checks'])} found something at severity {report.fail_on} "
               "or above.")
    rows = []
    for r in report.results:
        status = '<span class="clean">✓ clean</span>' if not r.count else f"{r.count}"
        rows.append(
            f'<tr><td><input type="checkbox" aria-label="reviewed {_e(r.check.name)}"></td>'
            f'<td><span class="badge {r.check.severity}">{r.check.severity}</span></td>'
            f'<td><a href="#{_e(r.check.name)}">{_e(r.check.title)}</a></td><td class="n">{status}</td></tr>'
        )
    counts = " · ".join(f"{severity}: {data['findings']} findings in {data['checks_with_findings']} of "
                        f"{data['checks']} checks" for severity, data in summary["by_severity"].items())
    lines = "".join(f"<p>{_e(line)}</p>" for line in summary_lines(report))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Provenance audit — {summary['findings']} findings</title><style>{STYLE}</style></head><body>"
        "<header><h1>Provenance audit</h1>"
        f"{lines}<p class=\"meta\">{_e(counts)}</p>"
        f'<p class="verdict {verdict_class}">{_e(verdict)}</p></header>'
        "<nav><h2>Checklist</h2><table><thead><tr><th>✓</th><th>severity</th><th>check</th><th>findings</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></nav>"
        f"<main>{''.join(_section(r) for r in report.results)}</main>"
        '<footer class="meta"><p>Generated by <code>kg audit --format html</code>. Grades and checks are '
        "explained in docs/audit.md.</p></footer></body></html>\n"
    )
