"""Benchmark: `kg validate` as it runs (pyshacl for most shapes, the SPARQL-target shapes on pyoxigraph,
kg.shacl_sparql) against pyshacl alone with every shape, on the bundled graph and optionally on a synthetic
graph; the findings of both must be identical (the tests compare them on every shape fixture).

Medians of several runs, in one process, each validation from the files; prints Markdown.

    python benchmarks/validate.py [--runs 3] [--size 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kg.layout import resolve
from kg.validate import validate_files
from tests.test_shacl_sparql import pyshacl_alone


def median(action, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=0, help="also a synthetic graph of about this many triples")
    args = parser.parse_args()
    layout = resolve()
    graphs = [("bundled", None)]
    if args.size:
        from generate import generate

        folder = Path(tempfile.mkdtemp())
        target = folder / "synthetic.ttl"
        generate(args.size, target)
        graphs.append((f"synthetic {args.size:,}", [*layout.data_files(), target]))
    print("| graph | kg validate (hybrid) | pyshacl alone | ratio | findings | identical |")
    print("|---|---|---|---|---|---|")
    for name, files in graphs:
        hybrid, report = median(lambda f=files: validate_files(layout, f), args.runs)
        alone, (_, expected) = median(lambda f=files: pyshacl_alone(layout, f or layout.data_files()), args.runs)
        same = report.findings == expected  # type: ignore[attr-defined]
        print(f"| {name} | {hybrid:.2f} s | {alone:.2f} s | {alone / hybrid:.1f}× | "
              f"{len(report.findings)} | {'yes' if same else 'NO'} |")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
