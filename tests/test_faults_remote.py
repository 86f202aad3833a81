"""The fault battery of the commands that talk to a remote SPARQL endpoint: the real `kg` command line against
real misbehaving servers on loopback (tests/faultservers.py) and a real Oxigraph server (tests/servers.py); no mocks.

The command line runs in the test process (`kg.cli.base.invoke`, what the console script runs, without the
watchdog; a process per case cost ~0.3 s of CPU, two thirds of this battery), with its own standard streams and
environment. What only a process can show — that a request stuck in its worker thread does not keep `kg` from
exiting on time — is checked on the real `kg` process for every time fault (`test_the_kg_process_ends_on_time`).

Every failure must be: exit code exactly 2, exactly one line on stderr starting `kg: `, no `Traceback`, no
`internal error`, nothing on stdout (no partial answer), and within the request's `--timeout` + 3 s.
Commands: `kg sparql --endpoint URL QUERY --timeout T --format json`, `kg query routes --endpoint URL --timeout T`,
`kg load --endpoint URL --timeout T`.

Cases:

- FAULTS (each for sparql, query routes and, where it applies, load):
  slow (delay > timeout), silent, trickle (0.5 s a byte, timeout 3; body only, and status line too) → the
  message names the time limit in seconds; 500 "boom" → "HTTP 500" and "boom"; 500 with a multi-line body →
  still one line; 429 forever → mentions 429; 429 with a Retry-After far beyond the budget → fails at once;
  html 200 → "did not answer with SPARQL results", "text/html" (for load: an HTML page is not a Graph Store
  Protocol answer); a SPARQL media type with an HTML body; truncated JSON (with and without Content-Length);
  redirect loop (a bounded number of requests); redirect to 127.0.0.2 and to another port of 127.0.0.1 →
  "another host", and the other server received nothing; a closed port.
- retries: 429 / 503 with `Retry-After: 1` for the first 2 requests, then a valid answer → exit 0, the rows,
  three requests at least ~1 s apart.
- huge (~200 MB answer): `--limit 1` → exit 0, one row, a few seconds, less than 5 % of the answer sent;
  without --limit and `KG_LIMIT_ANSWER_BYTES=1000000` → exit 2 naming the size limit.
- read-only: updates (DROP, DELETE WHERE, INSERT DATA, CLEAR after a comment, LOAD, …, as an argument and on
  standard input) → exit 2 before any request; valid SELECTs → every request carries `query=`, never
  `update=`; SELECTs a naive regex would refuse (`?delete`, "DROP ALL" in a literal, `INSERT` at the start of
  a line of a long literal, …) → exit 0 on a recording server and on Oxigraph.
- a stored question `DELETE WHERE { ?s ?p ?o }` (`kg --data DIR query wipe --endpoint …`) → exit 2, no request
  to a recording server, and Oxigraph (at /query and at /update) still holds all its triples.
- credentials in the URL (`http://user:secret@…`) never appear in stdout or stderr, whatever the fault; they
  are sent as Basic authentication, not in the request line.
- `kg load` against Oxigraph prints the number of distinct triples the server then holds.
- SERVICE on the embedded engine (no --endpoint): refused quickly, no request to the named server — inline,
  SILENT, lower case, a prefixed name, a variable, nested, and in stored questions of a --data folder.
- ASK on a remote endpoint: the boolean reaches the output.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import faultservers as fs
from tests.servers import oxigraph_binary, oxigraph_server

SELECT_ALL = "SELECT * WHERE { ?s ?p ?o }"
SLACK = 3.0  # seconds a failure may take beyond its --timeout (process start, the graph, the message)
KG_SCRIPT = Path(sys.executable).parent / "kg"
KG = [str(KG_SCRIPT)] if KG_SCRIPT.exists() else [sys.executable, "-m", "kg.cli"]
EXPECTED_ROWS = json.loads(fs.select_body())["results"]["bindings"]


# ---- running the real CLI ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (f"kg {' '.join(self.args)}\n-> exit {self.code} after {self.seconds:.1f} s\n"
                f"stdout: {self.stdout[:1500]!r}\nstderr: {self.stderr[:1500]!r}")


Kg = Callable[..., Run]


def clean_env(cache: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for `kg`: no proxies (only loopback is ever contacted), no KG_* settings from outside."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("KG_")}
    env.update({"KG_CACHE_DIR": str(cache), "NO_PROXY": "*", "no_proxy": "*", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> Kg:
    """`kg(*args, env=…, input=…, guard=…)`: the `kg` command line in this process, with standard streams and
    an environment of its own (that of `clean_env`); a run still going after `guard` seconds fails the test."""
    import threading
    import traceback

    from click.testing import CliRunner

    from kg.cli.base import invoke

    cache = tmp_path_factory.mktemp("kg-cache")
    unset = {k: None for k in os.environ if k.lower().endswith("_proxy") or k.startswith("KG_")}

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None, guard: float = 60.0) -> Run:
        environment: dict[str, str | None] = {**unset, **clean_env(cache, env)}
        codes: list[int] = []
        streams: list[bytes] = []

        def call() -> None:
            with CliRunner().isolation(input=input, env=environment) as (stdout, stderr, _):
                try:
                    codes.append(invoke(list(args)))
                except BaseException:  # what would have been a traceback: the contract's checks see it
                    codes.append(99)
                    sys.stderr.write(traceback.format_exc())
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    streams.extend((stdout.getvalue(), stderr.getvalue()))

        start = time.monotonic()
        worker = threading.Thread(target=call, name="kg-in-process", daemon=True)
        worker.start()
        worker.join(guard)
        if worker.is_alive():
            pytest.fail(f"kg {' '.join(args)} still running after {guard:g} s")
        out, err = (stream.decode("utf-8", "replace") for stream in streams)
        return Run(tuple(args), codes[0], out, err, time.monotonic() - start)

    return run


@pytest.fixture(scope="module")
def kg_process(tmp_path_factory: pytest.TempPathFactory) -> Kg:
    """`kg_process(*args, env=…, input=…, guard=…)`: run the real `kg` process; `guard` seconds kill it."""
    cache = tmp_path_factory.mktemp("kg-process-cache")

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None, guard: float = 60.0) -> Run:
        start = time.monotonic()
        try:
            done = subprocess.run([*KG, *args], env=clean_env(cache, env), input=input, capture_output=True,
                                  text=True, timeout=guard, stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as err:
            pytest.fail(f"kg {' '.join(args)} still running after {guard:g} s "
                        f"(stderr so far: {(err.stderr or b'')[:500]!r})")
        return Run(tuple(args), done.returncode, done.stdout, done.stderr, time.monotonic() - start)

    return run


def assert_fails(run: Run, within: float | None = None) -> str:
    """The failure contract; returns the message (the one stderr line without `kg: `)."""
    assert run.code == 2, str(run)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line\n{run}"
    assert lines[0].startswith("kg: "), str(run)
    assert "Traceback" not in run.stderr + run.stdout, str(run)
    assert "internal error" not in run.stderr, str(run)
    assert run.stdout == "", f"a failure prints no (partial) answer\n{run}"
    if within is not None:
        assert run.seconds <= within, f"took {run.seconds:.1f} s, more than {within:g} s\n{run}"
    return lines[0][len("kg: "):]


def assert_ok(run: Run) -> None:
    assert run.code == 0, str(run)
    assert "Traceback" not in run.stderr, str(run)


def mentions_seconds(message: str, seconds: float) -> bool:
    number = re.escape(f"{seconds:g}")
    return re.search(rf"(?<![\d.]){number}(?:\.0+)?\s*(?:s|secs?|seconds?)\b", message) is not None


def json_rows(run: Run) -> list[dict]:
    try:
        return json.loads(run.stdout)["results"]["bindings"]
    except (ValueError, KeyError, TypeError):
        pytest.fail(f"stdout is not a SPARQL JSON answer\n{run}")


def command(kind: str, url: str, timeout: float, *extra: str) -> list[str]:
    base = {"sparql": ["sparql", SELECT_ALL, "--format", "json"], "query": ["query", "routes"], "load": ["load"]}
    return [*base[kind], "--endpoint", url, "--timeout", f"{timeout:g}", *extra]


def form(request: fs.Request) -> dict[str, list[str]]:
    """The parameters of a request: its query string and, for a form POST, its body."""
    found = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query, keep_blank_values=True)
    if request.body and "x-www-form-urlencoded" in (request.header("Content-Type") or ""):
        for key, values in urllib.parse.parse_qs(request.body.decode("utf-8", "replace"),
                                                 keep_blank_values=True).items():
            found.setdefault(key, []).extend(values)
    return found


def assert_only_queries(served: fs.Served) -> None:
    requests = served.requests
    assert requests, "the valid query never reached the server"
    for request in requests:
        params = form(request)
        assert "query" in params, f"no query= in {request}"
        assert "update" not in params, f"update= in {request}"
        assert b"update=" not in request.body and "update=" not in request.path, str(request)


# ---- servers composed for the cases -------------------------------------------------------------------------

@contextlib.contextmanager
def redirect_elsewhere(host: str = "127.0.0.2") -> Iterator[fs.Served]:
    """A 302 to a recording server on another host (or, with 127.0.0.1, another port); `.target` is it."""
    with fs.select(host=host) as target, fs.redirect_to(str(target)) as served:
        served.target = target  # type: ignore[attr-defined]
        yield served


def nothing_reached_target(served: fs.Served) -> None:
    target = served.target  # type: ignore[attr-defined]
    assert target.requests == [], f"the host nobody named received {target.requests}"


def bounded_loop(served: fs.Served) -> None:
    assert 1 <= len(served.requests) <= 12, f"{len(served.requests)} requests to a redirect loop"


@dataclass(frozen=True)
class Fault:
    id: str
    server: Callable[[], contextlib.AbstractContextManager[fs.Served]]
    timeout: float = 2.0
    says: tuple[str, ...] = ()  # the message contains each (case-insensitive)
    time_limit: bool = False  # the message names the time limit in seconds
    commands: tuple[str, ...] = ("sparql", "query", "load")
    within: float | None = None  # a tighter wall-clock bound than timeout + SLACK
    check: Callable[[fs.Served], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


FAULTS = [
    # The time budgets are the smallest that still prove the point: a trickle's bytes come far more often than
    # the budget (so no per-read timeout fires) and the budget still runs out; 429 forever is tried again once.
    Fault("slow", lambda: fs.slow(9), timeout=1, time_limit=True),
    Fault("silent", lambda: fs.silent(), timeout=1, time_limit=True),
    Fault("trickle-body", lambda: fs.trickle(0.2), timeout=1, time_limit=True),
    Fault("trickle-headers", lambda: fs.trickle(0.2, headers_too=True), timeout=1, time_limit=True),
    Fault("500-boom", lambda: fs.status(500, "boom"), says=("HTTP 500", "boom")),
    Fault("500-multiline", lambda: fs.status(500, "boom\nsecond line\r\nthird\x1b[31m line\n"),
          says=("HTTP 500", "boom")),
    Fault("429-forever", lambda: fs.status(429, "slow down", {"Retry-After": "1"}), timeout=1.5, says=("429",),
          commands=("sparql", "query")),
    Fault("429-retry-after-an-hour", lambda: fs.status(429, "come back later", {"Retry-After": "3600"}),
          timeout=20, says=("429",), within=SLACK + 2, commands=("sparql", "query")),
    Fault("html-200", lambda: fs.html(), says=("text/html", "SPARQL results"), commands=("sparql", "query")),
    Fault("html-200-load", lambda: fs.html(), says=("html",), commands=("load",)),
    Fault("html-body-json-type", lambda: fs.status(200, fs.HTML_PAGE, content_type=fs.JSON),
          commands=("sparql", "query")),
    Fault("truncated-with-length", lambda: fs.truncated(content_length=True), commands=("sparql", "query")),
    Fault("truncated-no-length", lambda: fs.truncated(content_length=False), commands=("sparql", "query")),
    Fault("redirect-loop", lambda: fs.redirect_loop(), check=bounded_loop),
    Fault("redirect-other-host", lambda: redirect_elsewhere("127.0.0.2"), says=("redirect", "another host"),
          check=nothing_reached_target),
    Fault("redirect-other-port", lambda: redirect_elsewhere("127.0.0.1"), says=("redirect", "another host"),
          check=nothing_reached_target),
    Fault("closed-port", lambda: fs.closed()),
]
FAULT_CASES = [pytest.param(f, kind, id=f"{f.id}-{kind}") for f in FAULTS for kind in f.commands]


@pytest.mark.parametrize(("fault", "kind"), FAULT_CASES)
def test_a_misbehaving_endpoint_is_one_line_and_exit_2(kg: Kg, fault: Fault, kind: str) -> None:
    with fault.server() as served:
        run = kg(*command(kind, served, fault.timeout), env=fault.env, guard=fault.timeout + 30)
        message = assert_fails(run, within=fault.within or fault.timeout + SLACK)
        for words in fault.says:
            assert words.lower() in message.lower(), f"the message should mention {words!r}\n{run}"
        if fault.time_limit:
            assert "time limit" in message.lower() and mentions_seconds(message, fault.timeout), \
                f"the message should name the time limit of {fault.timeout:g} s\n{run}"
        if fault.check is not None:
            fault.check(served)


TIME_FAULTS = [f for f in FAULTS if f.time_limit]


@pytest.mark.parametrize(("fault", "kind"), [pytest.param(f, kind, id=f"{f.id}-{kind}") for f in TIME_FAULTS
                                             for kind in ("sparql", "load")])
def test_the_kg_process_ends_on_time(kg_process: Kg, fault: Fault, kind: str) -> None:
    """The real process, for the faults that leave a request hanging in its worker thread: the thread must not
    keep `kg` from exiting with its one line within the budget."""
    with fault.server() as served:
        run = kg_process(*command(kind, served, fault.timeout), guard=fault.timeout + 30)
        message = assert_fails(run, within=fault.timeout + SLACK)
        assert "time limit" in message.lower() and mentions_seconds(message, fault.timeout), str(run)


# ---- retries --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured_within_the_budget(kg: Kg, code: int) -> None:
    with fs.status(code, "try again", {"Retry-After": "1"}, times=2) as served:
        run = kg(*command("sparql", served, 10), guard=40)
        assert_ok(run)
        assert json_rows(run) == EXPECTED_ROWS
        times = [r.at for r in served.requests]
    assert len(times) == 3, f"{len(times)} requests"
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times)), f"Retry-After: 1 not waited: {times}"
    assert run.seconds < 10, str(run)


# ---- huge answers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sparql", "query"])
def test_a_huge_answer_with_limit_1_reads_only_what_it_needs(kg: Kg, kind: str) -> None:
    with fs.huge(rows=1_000_000) as served:
        extra = ("--limit", "1", "--format", "json") if kind == "query" else ("--limit", "1")
        run = kg(*command(kind, served, 30, *extra), guard=60)
        assert_ok(run)
        assert len(json_rows(run)) == 1, str(run)
        assert run.seconds <= 8, f"a one-row answer took {run.seconds:.1f} s"
        assert served.wait_idle(15), "the server was still sending 15 s after kg ended"
        assert served.total > 190_000_000
        assert served.sent < served.total * 0.05, f"{served.sent:,} of {served.total:,} bytes sent"


def test_a_huge_answer_stops_at_the_size_limit(kg: Kg) -> None:
    with fs.huge(rows=1_000_000) as served:
        run = kg(*command("sparql", served, 30), env={"KG_LIMIT_ANSWER_BYTES": "1000000"}, guard=60)
        message = assert_fails(run, within=30 + SLACK)
        assert "size limit" in message.lower() and ("1,000,000" in message or "1000000" in message), str(run)
        assert served.wait_idle(15)
        assert served.sent < 50_000_000, f"{served.sent:,} bytes sent for a 1,000,000-byte limit"


# ---- read-only --------------------------------------------------------------------------------------------------

UPDATES = [
    "PREFIX ex: <http://ex/> DROP ALL",
    "PREFIX ex: <http://ex/>\nDELETE WHERE { ?s ?p ?o }",
    "INSERT DATA { <a:b> <a:c> <a:d> }",
    "# comment\nCLEAR ALL",
    "LOAD <http://127.0.0.1:1/x>",
    "drop all",
    "BASE <http://ex/> CLEAR DEFAULT",
    "DELETE DATA { <a:b> <a:c> <a:d> }",
    'PREFIX ex: <http://ex/> DELETE { ?s ?p ?o } WHERE { ?s ?p "SELECT" }',
    "WITH <http://ex/g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "CREATE GRAPH <http://ex/g>",
    "DROP SILENT GRAPH <http://ex/g>",
    "COPY DEFAULT TO <http://ex/g>",
    "MOVE DEFAULT TO <http://ex/g>",
    "ADD DEFAULT TO <http://ex/g>",
    "# SELECT * WHERE { ?s ?p ?o }\nDROP ALL",
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
    "INSERT DATA { <a:b> <a:c> <a:d> } ; SELECT * WHERE { ?s ?p ?o }",
]


@pytest.mark.parametrize("update", UPDATES, ids=[" ".join(u.split())[:40] for u in UPDATES])
def test_an_update_is_refused_before_any_request(kg: Kg, update: str) -> None:
    with fs.select() as served:
        run = kg("sparql", "--endpoint", served, "--timeout", "3", update, guard=30)
        assert_fails(run, within=3 + SLACK)
        assert served.requests == [], f"the server received {served.requests}"


def test_an_update_on_standard_input_is_refused_before_any_request(kg: Kg) -> None:
    with fs.select() as served:
        run = kg("sparql", "-f", "-", "--endpoint", served, "--timeout", "3", input="# x\nDROP ALL\n", guard=30)
        assert_fails(run, within=3 + SLACK)
        assert served.requests == []


TRICKY_SELECTS = [
    "SELECT ?delete WHERE { ?delete ?p ?o }",
    'SELECT * WHERE { ?s ?p "DROP ALL" }',
    'SELECT ?x WHERE { ?x ?p """\n  INSERT DATA { <a:b> <a:c> <a:d> }\n""" }',
    "SELECT ?x WHERE { ?x ?p '''\nDELETE WHERE { ?s ?p ?o }\n''' }",
    "# DROP ALL\nSELECT * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s <http://ex/clear/all> ?o }",
    "PREFIX insert: <http://ex/> SELECT * WHERE { ?s insert:data ?o }",
    "SELECT ?load ?drop WHERE { ?load ?drop ?o } LIMIT 3",
    "SELECT * WHERE { ?s ?p 'LOAD <http://127.0.0.1:1/x>' }",
]
TRICKY_IDS = [" ".join(q.split())[:40] for q in TRICKY_SELECTS]


@pytest.mark.parametrize("query", [SELECT_ALL, *TRICKY_SELECTS], ids=["plain", *TRICKY_IDS])
def test_a_select_is_sent_as_query_never_update(kg: Kg, query: str) -> None:
    with fs.select() as served:
        run = kg("sparql", "--endpoint", served, "--timeout", "5", "--format", "json", query, guard=30)
        assert_ok(run)
        assert_only_queries(served)


def test_a_stored_question_is_sent_as_query_never_update(kg: Kg) -> None:
    with fs.select() as served:
        run = kg(*command("query", served, 5), guard=30)
        assert_ok(run)
        assert_only_queries(served)


def test_ask_is_sent_as_query_and_its_answer_shown(kg: Kg) -> None:
    """Beyond the remote contract: the boolean of an ASK must reach the output (kg.output)."""
    with fs.ask(True) as served:
        run = kg("sparql", "--endpoint", served, "--timeout", "5", "--format", "json", "ASK { ?s ?p ?o }",
                 guard=30)
        assert_ok(run)
        assert_only_queries(served)
    assert "true" in run.stdout.lower(), f"the ASK answer (true) is not in the output\n{run}"


# ---- a real Oxigraph server -------------------------------------------------------------------------------------

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
COUNT_DISTINCT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"


def count_triples(base: str, sparql: str = COUNT) -> int:
    url = f"{base}/query?{urllib.parse.urlencode({'query': sparql})}"
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with DIRECT.open(request, timeout=10) as response:
        return int(json.load(response)["results"]["bindings"][0]["n"]["value"])


@dataclass(frozen=True)
class Oxigraph:
    base: str
    load: Run


@pytest.fixture(scope="module")
def oxigraph(kg: Kg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    """A real Oxigraph server on 127.0.0.1, loaded with the bundled graph by the `kg load` process."""
    if oxigraph_binary() is None:
        pytest.skip("oxigraph server not installed")
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        yield Oxigraph(base, kg("load", "--endpoint", f"{base}/store", "--timeout", "60", guard=120))


def test_load_prints_the_distinct_triples_the_server_holds(oxigraph: Oxigraph) -> None:
    run = oxigraph.load
    assert_ok(run)
    found = re.search(r"loaded ([\d,]+) triples", run.stdout)
    assert found, str(run)
    printed = int(found.group(1).replace(",", ""))
    assert printed > 1000
    assert printed == count_triples(oxigraph.base, COUNT_DISTINCT) == count_triples(oxigraph.base)


@pytest.mark.parametrize("query", TRICKY_SELECTS, ids=TRICKY_IDS)
def test_a_select_a_naive_regex_would_refuse_runs_on_oxigraph(kg: Kg, oxigraph: Oxigraph, query: str) -> None:
    run = kg("sparql", "--endpoint", f"{oxigraph.base}/query", "--timeout", "10", "--format", "json", query,
             guard=40)
    assert_ok(run)
    json_rows(run)


# ---- stored questions in a --data folder -------------------------------------------------------------------------

def header(title: str) -> str:
    return (f"#+ title: {title}\n#+ question: What does {title.lower()} do?\n"
            f"#+ description: A hostile stored question for the fault battery.\n#+ tags: [hostile, faults]\n")


WIPE = header("Wipe") + "PREFIX ex: <http://ex/>\nDELETE WHERE { ?s ?p ?o }\n"


def data_dir(root: Path, questions: dict[str, str]) -> Path:
    """A complete graph folder (the bundled ontology and data, so nothing falls back) with only `questions`."""
    from kg.layout import resolve

    bundled = resolve()
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled.ontology_dir, root / "ontology")
    shutil.copytree(bundled.data_dir, root / "data" / "triples")
    (root / "queries").mkdir()
    for name, text in questions.items():
        (root / "queries" / f"{name}.rq").write_text(text, encoding="utf-8")
    return root


def test_a_stored_update_is_refused_before_any_request(kg: Kg, tmp_path: Path) -> None:
    folder = data_dir(tmp_path / "graph", {"wipe": WIPE})
    with fs.select() as served:
        run = kg("--data", str(folder), "query", "wipe", "--endpoint", served, "--timeout", "3", guard=30)
        assert_fails(run, within=3 + SLACK)
        assert served.requests == []


@pytest.mark.parametrize("path", ["query", "update"])
def test_a_stored_update_leaves_oxigraph_whole(kg: Kg, oxigraph: Oxigraph, tmp_path: Path, path: str) -> None:
    assert_ok(oxigraph.load)
    before = count_triples(oxigraph.base)
    assert before > 1000
    folder = data_dir(tmp_path / "graph", {"wipe": WIPE})
    run = kg("--data", str(folder), "query", "wipe", "--endpoint", f"{oxigraph.base}/{path}", "--timeout", "5",
             guard=30)
    assert_fails(run, within=5 + SLACK)
    assert count_triples(oxigraph.base) == before


def kg_in_process(*args: str, cache: Path) -> Run:
    """`kg ARGS` run in this process by Click's CliRunner, with the environment `clean_env` gives the real
    process. For the cases where a new process adds nothing: the exit code and the one stderr line are the
    command's own, and the process contract itself is tested on the same texts by the cases above."""
    from click.testing import CliRunner

    from kg.cli import main

    env: dict[str, str | None] = {k: None for k in os.environ if k.lower().endswith("_proxy") or k.startswith("KG_")}
    env.update({"KG_CACHE_DIR": str(cache), "NO_PROXY": "*", "no_proxy": "*"})
    start = time.monotonic()
    result = CliRunner(env=env).invoke(main, list(args))
    return Run(tuple(args), result.exit_code, result.stdout, result.stderr, time.monotonic() - start)


def test_every_hostile_update_leaves_oxigraph_whole(oxigraph: Oxigraph, tmp_path: Path) -> None:
    """Every update text above, sent with `kg sparql` to the real server's query and update endpoints: the
    store holds exactly its triples afterwards. (In process: 36 commands, each refused by the gate before
    any request, which test_an_update_is_refused_before_any_request checks of the real process.)"""
    assert_ok(oxigraph.load)
    before = count_triples(oxigraph.base)
    for update in UPDATES:
        for path in ("query", "update"):
            run = kg_in_process("sparql", "--endpoint", f"{oxigraph.base}/{path}", "--timeout", "5", update,
                                cache=tmp_path / "cache")
            assert_fails(run, within=5 + SLACK)
    assert count_triples(oxigraph.base) == before


# ---- credentials ----------------------------------------------------------------------------------------------

def with_credentials(url: str) -> str:
    return url.replace("http://", "http://user:secret@", 1)


CREDENTIAL_FAULTS = [
    ("500-sparql", lambda: fs.status(500, "boom"), "sparql"),
    ("500-query", lambda: fs.status(500, "boom"), "query"),
    ("500-load", lambda: fs.status(500, "boom"), "load"),
    ("slow", lambda: fs.slow(9), "sparql"),
    ("html", lambda: fs.html(), "sparql"),
    ("html-load", lambda: fs.html(), "load"),
    ("truncated", lambda: fs.truncated(), "sparql"),
    ("redirect-other-host", lambda: redirect_elsewhere(), "sparql"),
    ("redirect-loop", lambda: fs.redirect_loop(), "sparql"),
    ("closed-port", lambda: fs.closed(), "sparql"),
]


@pytest.mark.parametrize(("server", "kind"), [pytest.param(s, k, id=i) for i, s, k in CREDENTIAL_FAULTS])
def test_credentials_are_never_echoed(kg: Kg, server: Callable[[], contextlib.AbstractContextManager[fs.Served]],
                                      kind: str) -> None:
    with server() as served:
        run = kg(*command(kind, with_credentials(served), 1), guard=30)
        assert_fails(run, within=1 + SLACK)
        assert "secret" not in run.stdout + run.stderr, str(run)


def test_credentials_are_sent_as_basic_authentication(kg: Kg) -> None:
    with fs.select() as served:
        run = kg(*command("sparql", with_credentials(served), 5), guard=30)
        assert_ok(run)
        assert "secret" not in run.stdout + run.stderr, str(run)
        token = base64.b64encode(b"user:secret").decode()
        for request in served.requests:
            assert request.header("Authorization") == f"Basic {token}", str(request)
            assert "secret" not in request.path and b"secret" not in request.body, str(request)


# ---- SERVICE on the embedded engine -------------------------------------------------------------------------------

SERVICE_QUERIES = [
    ("inline", "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }"),
    ("silent", "SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }"),
    ("lower-case", "select * where { service <{url}> { ?s ?p ?o } }"),
    ("lower-case-silent", "select * where { service silent <{url}> { ?s ?p ?o } }"),
    ("prefixed-name", "PREFIX remote: <{base}/> SELECT * WHERE { SERVICE remote:sparql { ?s ?p ?o } }"),
    ("variable", "SELECT * WHERE { VALUES ?where { <{url}> } SERVICE ?where { ?s ?p ?o } }"),
    ("nested", "SELECT * WHERE { ?a ?b ?c OPTIONAL { SELECT ?a WHERE { SERVICE <{url}> { ?a ?p ?o } } } } LIMIT 1"),
    ("ask", "ASK { SERVICE <{url}> { ?s ?p ?o } }"),
]


def fill(template: str, served: fs.Served) -> str:
    return template.replace("{url}", str(served)).replace("{base}", served.base)


@pytest.mark.parametrize("template", [t for _, t in SERVICE_QUERIES], ids=[i for i, _ in SERVICE_QUERIES])
def test_service_is_refused_on_the_embedded_graph(kg: Kg, template: str) -> None:
    with fs.select() as served:
        run = kg("sparql", fill(template, served), guard=60)
        assert_fails(run, within=15)
        assert served.requests == [], f"the embedded engine called {served.requests}"


@pytest.mark.parametrize("template", [t for _, t in SERVICE_QUERIES[:4]], ids=[i for i, _ in SERVICE_QUERIES[:4]])
def test_service_in_a_stored_question_is_refused_on_the_embedded_graph(kg: Kg, tmp_path: Path,
                                                                       template: str) -> None:
    with fs.select() as served:
        folder = data_dir(tmp_path / "graph", {"elsewhere": header("Elsewhere") + fill(template, served) + "\n"})
        run = kg("--data", str(folder), "query", "elsewhere", guard=60)
        assert_fails(run, within=15)
        assert served.requests == [], f"the embedded engine called {served.requests}"
