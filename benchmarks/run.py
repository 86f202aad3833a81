"""Benchmarks: every stored question on pyoxigraph (the embedded engine) and on plain rdflib, at the bundled
size and on synthetic graphs grown to 100k and 1M triples; plus the wall time of a cold `kg query`.

Figures are medians of several runs on a warm engine. rdflib runs each question in a child process with a
time cap and is reported as '> cap' when it does not finish. Prints a Markdown report (paste it into
docs/performance.md, or pass --write FILE).

    python benchmarks/run.py [--sizes 100000,1000000] [--runs 5] [--rdflib-cap 10] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

from kg.catalog import load_catalog
from kg.graph import iter_triples
from kg.layout import resolve
from kg.params import bind, examples
from kg.query import run_local, with_values


def median_time(action, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _rdflib_child(graph, sparql: str, runs: int, queue) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        list(graph.query(sparql))
        times.append(time.perf_counter() - started)
    queue.put(statistics.median(times))


def rdflib_time(graph, sparql: str, runs: int, cap: float) -> float | None:  # type: ignore[no-untyped-def]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_rdflib_child, args=(graph, sparql, runs, queue))
    child.start()
    child.join(cap * runs)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get() if not queue.empty() else None


def cold_kg_query(name: str, runs: int) -> tuple[float, float]:
    """(first run with an empty cache, median of later runs) of `kg query NAME` as a new process."""
    kg = str(Path(sys.executable).parent / "kg")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KG_CACHE_DIR": cache}

        def once() -> float:
            started = time.perf_counter()
            subprocess.run([kg, "query", name], env=env, check=True, capture_output=True)
            return time.perf_counter() - started

        first = once()
        return first, statistics.median(once() for _ in range(runs))


def fmt(seconds: float | None, cap: float | None = None) -> str:
    if seconds is None:
        return f"> {cap:g} s" if cap else "not run"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rdflib-cap", type=float, default=10.0, help="seconds per rdflib run before giving up")
    parser.add_argument("--rdflib-max-size", type=int, default=200_000, help="largest graph given to rdflib")
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()

    import rdflib

    layout = resolve()
    catalog = load_catalog(layout.queries_dir)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pyoxigraph {ox.__version__}, rdflib {rdflib.__version__}. Medians of {args.runs} runs.",
        "",
    ]
    first, warm = cold_kg_query("claims-by-section", args.runs)
    lines += [
        "## Cold `kg query` (a new process, bundled graph)",
        "",
        "| case | wall time |",
        "|---|---|",
        f"| first run, empty cache (parses the Turtle, writes the N-Quads cache) | {fmt(first)} |",
        f"| later runs (loads the cache) — target ≤ 0.3 s | {fmt(warm)} |",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        graphs = [("bundled", None)] + [(f"{int(s) // 1000}k", int(s)) for s in args.sizes.split(",") if s]
        per_size: dict[str, dict] = {}
        for label, size in graphs:
            if size is None:
                path = Path(tmp) / "bundled.nt"
                with path.open("wb") as handle:
                    ox.serialize(iter_triples(layout.graph_files()), handle, format=ox.RdfFormat.N_TRIPLES)
            else:
                path = Path(tmp) / f"{label}.nt"
                generate(size, path)
            store = ox.Store()
            load_ox = median_time(lambda p=path: ox.Store().bulk_load(path=str(p), format=ox.RdfFormat.N_TRIPLES), 3)
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
            triples = len(store)
            result: dict = {"triples": triples, "load_ox": load_ox, "queries": {}}
            graph = None
            if triples <= args.rdflib_max_size:
                started = time.perf_counter()
                graph = rdflib.Graph()
                graph.parse(path, format="nt")
                result["load_rdflib"] = time.perf_counter() - started
            for q in catalog:
                bindings = bind(q, examples(q))
                ox_time = median_time(lambda q=q, b=bindings, s=store: run_local(s, q.sparql, b), args.runs)
                rd_time = None
                if graph is not None:
                    rd_runs = 3 if size is None else 1  # rdflib is slow: fewer runs on the grown graphs
                    rd_time = rdflib_time(graph, with_values(q.sparql, bindings), rd_runs, args.rdflib_cap)
                result["queries"][q.name] = (ox_time, rd_time)
                print(f"{label:>8} {q.name:<40} {fmt(ox_time):>10} {fmt(rd_time, args.rdflib_cap):>10}",
                      file=sys.stderr)
            per_size[label] = result

    labels = list(per_size)
    lines += ["## Loading", "", "| graph | triples | pyoxigraph load (N-Triples) | rdflib parse (N-Triples) |",
              "|---|---|---|---|"]
    for label in labels:
        r = per_size[label]
        lines.append(f"| {label} | {r['triples']:,} | {fmt(r['load_ox'])} | {fmt(r.get('load_rdflib'))} |")
    lines += ["", "## Every stored question on a warm engine (pyoxigraph / rdflib)", "",
              "| question | " + " | ".join(f"{x} ({per_size[x]['triples']:,})" for x in labels) + " |",
              "|---|" + "---|" * len(labels)]
    for q in catalog:
        cells = []
        for label in labels:
            ox_time, rd_time = per_size[label]["queries"][q.name]
            rd = fmt(rd_time, args.rdflib_cap) if per_size[label].get("load_rdflib") is not None else "not run"
            cells.append(f"{fmt(ox_time)} / {rd}")
        lines.append(f"| `{q.name}` | " + " | ".join(cells) + " |")
    worst = {label: max(v[0] for v in per_size[label]["queries"].values()) for label in labels}
    lines += ["", "Slowest question per graph (pyoxigraph): "
              + ", ".join(f"{label} {fmt(t)}" for label, t in worst.items()) + "."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
