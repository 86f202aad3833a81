"""The `kg` process contract, on the real console script in a subprocess: a wall-clock budget that stops even
a query running inside the engine, Ctrl-C and SIGTERM that work while it runs, nothing left running
afterwards, usage errors and closed outputs as one `kg:` line with exit 2, and `--limit 0` meaning no rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

KG = Path(sys.executable).parent / "kg"
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

pytestmark = pytest.mark.skipif(not KG.exists(), reason="console script not installed next to this interpreter")


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KG_CACHE_DIR": str(tmp_path / "cache"),
            "HOME": str(tmp_path)}


def one_kg_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kg: "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


def test_the_time_limit_stops_a_query_running_inside_the_engine(env: dict[str, str]) -> None:
    started = time.monotonic()
    done = subprocess.run([str(KG), "--time-limit", "0.8", "sparql", CROSS_PRODUCT], capture_output=True,
                          text=True, env=env, timeout=60)
    elapsed = time.monotonic() - started
    assert done.returncode == 2 and done.stdout == ""
    assert "time limit of 0.8 s" in one_kg_line(done.stderr)
    assert elapsed < 5, elapsed


def test_the_time_limit_can_be_set_from_the_environment(env: dict[str, str]) -> None:
    done = subprocess.run([str(KG), "sparql", CROSS_PRODUCT], capture_output=True, text=True,
                          env={**env, "KG_LIMIT_TIME_SECONDS": "1"}, timeout=60)
    assert done.returncode == 2 and "time limit of 1 s" in one_kg_line(done.stderr)


def wait_until_busy(pid: int, cpu_seconds: float, deadline: float = 20.0) -> None:
    """Wait until process `pid` has used `cpu_seconds` of CPU (from /proc; a fixed sleep where there is none),
    so a signal lands inside the work, not in a start that a loaded machine made slow."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        time.sleep(2.0)
        return
    ticks = os.sysconf("SC_CLK_TCK")
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= cpu_seconds:
            return
        time.sleep(0.02)
    raise AssertionError(f"kg (pid {pid}) did not get {cpu_seconds} s of CPU within {deadline} s")


@pytest.mark.parametrize(("sent", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_a_signal_stops_a_query_running_inside_the_engine(env: dict[str, str], sent: int, said: str) -> None:
    """Python's own SIGINT handler cannot run while pyoxigraph computes: before the watchdog, Ctrl-C was
    ignored until the cross product finished."""
    process = subprocess.Popen([str(KG), "sparql", CROSS_PRODUCT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        wait_until_busy(process.pid, cpu_seconds=0.6)  # past its start (~0.2 s of CPU): inside the query
        sent_at = time.monotonic()
        process.send_signal(sent)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert time.monotonic() - sent_at < 5
    assert process.returncode == 2 and out == ""
    assert one_kg_line(err) == f"kg: {said}"


@pytest.mark.reasoner
def test_the_time_limit_stops_the_reasoner_and_leaves_no_jvm(env: dict[str, str]) -> None:
    done = subprocess.run([str(KG), "--time-limit", "0.5", "reason"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 2 and "time limit" in one_kg_line(done.stderr)
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "org.semanticweb.HermiT"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "a reasoner process outlived the command"


@pytest.mark.parametrize("args", [
    ["query", "--bogus"],
    ["frobnicate"],
    ["query"],
    ["query", "routes", "--format", "xlsx"],
    ["query", "routes", "--timeout", "soon"],
    ["--time-limit", "-1", "stats"],
    ["sparql"],
])
def test_usage_errors_are_one_kg_line(env: dict[str, str], args: list[str]) -> None:
    done = subprocess.run([str(KG), *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    one_kg_line(done.stderr)


def test_a_closed_standard_output_is_one_kg_line(env: dict[str, str]) -> None:
    process = subprocess.Popen([str(KG), "query", "claims-by-section", "--format", "csv"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 2
    assert "standard output" in one_kg_line(err)


def test_no_standard_output_at_all_is_one_kg_line(env: dict[str, str]) -> None:
    done = subprocess.run([str(KG), "stats"], stdout=None, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
                          close_fds=True, preexec_fn=lambda: os.close(1))
    assert done.returncode == 2
    assert "standard output" in one_kg_line(done.stderr)


def test_limit_zero_means_no_rows(env: dict[str, str]) -> None:
    done = subprocess.run([str(KG), "query", "seizure-timeline", "--limit", "0", "--format", "csv"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1  # the header only


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_query_file_that_never_ends_is_refused(env: dict[str, str], tmp_path: Path, source: str) -> None:
    path = source
    if source == "fifo":
        path = str(tmp_path / "query.rq")
        os.mkfifo(path)
    done = subprocess.run([str(KG), "sparql", "-f", path], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 2 and "not a regular file" in one_kg_line(done.stderr)


def test_a_long_query_on_standard_input_is_a_size_limit(env: dict[str, str]) -> None:
    text = "SELECT * WHERE { ?s ?p ?o } " + "#" * 2000
    done = subprocess.run([str(KG), "sparql", "-f", "-"], input=text, capture_output=True, text=True,
                          env={**env, "KG_LIMIT_QUERY_CHARS": "1000"}, timeout=30)
    assert done.returncode == 2 and "KG_LIMIT_QUERY_CHARS" in one_kg_line(done.stderr)
