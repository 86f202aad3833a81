"""Developer helper: report every oa:exact quote in the given Turtle files that is not verbatim in the report.

Usage: python tools/check_quotes.py data/triples/sections/foo.ttl [...]
(The tested version of this check lives in tests/test_quotes.py and `kg audit`.)
"""
import sys
from pathlib import Path

import rdflib

OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
REPORT = Path(__file__).resolve().parents[1].parent / "shared" / "report" / "crossroads-kazakhstan-2023.txt"


def main(paths: list[str]) -> int:
    text = REPORT.read_text(encoding="utf-8")
    bad = 0
    for path in paths:
        g = rdflib.Graph().parse(path, format="turtle")
        for exact in g.objects(None, OA.exact):
            q = str(exact)
            if q not in text:
                bad += 1
                print(f"{path}: NOT VERBATIM: {q!r}")
            elif text.count(q) > 1:
                print(f"{path}: ambiguous (occurs {text.count(q)}x, add oa:prefix): {q[:60]!r}")
    print(f"{bad} quote(s) not verbatim")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
