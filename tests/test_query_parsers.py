"""Every stored query is SPARQL 1.1 by the letter, not just by Oxigraph's reading: each one (each part of a
federated question) is also parsed by rdflib's `prepareQuery` and by Apache Jena's ARQ, two stricter parsers.
Oxigraph accepts, for instance, a SELECT alias that names a variable already bound in WHERE; the standard
(section 18.2.4.1) and Jena do not, and an endpoint running Jena would refuse such a question.

Files: `queries/*.rq`, `queries/audits/*.rq`, `queries/federated/*.rq` (split into the `#@ local` and
`#@ remote` parts) and the library's own `src/kg/queries/*.rq`. The `#+` header lines are left out (they are
comments anyway). Jena runs once, in one JVM, for the whole batch (tests/jena/ParseQueries.java); its cases
skip where there is no Java runtime or no Jena (Debian: `apt-get install libapache-jena-java`), except in CI,
where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JENA_PROGRAM = Path(__file__).resolve().parent / "jena" / "ParseQueries.java"
JENA_DIR = Path(os.environ.get("KG_TEST_JENA_DIR", "/usr/share/java"))
# jena-arq and what it needs to parse a query (Debian's unversioned jar names); missing optional ones are left out.
JENA_JARS = ["jena-arq", "jena-core", "jena-base", "jena-iri", "slf4j-api", "slf4j-nop", "commons-lang3",
             "commons-io", "commons-codec", "commons-compress", "commons-csv", "guava", "dexx.collection", "thrift"]

FOLDERS = ["queries", "queries/audits", "queries/federated", "src/kg/queries"]  # the last may not exist yet
FILES = sorted(path for folder in FOLDERS for path in (ROOT / folder).glob("*.rq"))

# Not stored queries: controls proving that each parser rejects what it is here to reject.
ALIAS_OF_A_BOUND_VARIABLE = "SELECT (STR(?x) AS ?x) WHERE { ?x ?p ?o }"  # what agencies-events.rq did
NOT_SPARQL = "SELECT ?x WHERE { ?x ?p }"


def parts(path: Path) -> list[tuple[str, str]]:
    """The query texts of a stored file without its `#+` header lines: one ("", text) for a plain file, and
    ("local", text), ("remote", text) for a federated one (split on the `#@ local` and `#@ remote` lines)."""
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#+")]
    markers = [i for i, line in enumerate(lines) if line.strip() in ("#@ local", "#@ remote")]
    if not markers:
        return [("", "\n".join(lines) + "\n")]
    found = []
    for start, end in zip(markers, [*markers[1:], len(lines)], strict=True):
        found.append((lines[start].strip()[len("#@ "):], "\n".join(lines[start + 1:end]) + "\n"))
    return found


def _case_id(path: Path, part: str) -> str:
    name = str(path.relative_to(ROOT))
    return f"{name}#{part}" if part else name


CASES = [(_case_id(path, part), text) for path in FILES for part, text in parts(path)]


def test_the_stored_queries_are_found() -> None:
    names = {case for case, _ in CASES}
    assert len(FILES) >= 40
    assert "queries/agencies-events.rq" in names
    federated = sorted((ROOT / "queries" / "federated").glob("*.rq"))
    assert federated
    for path in federated:  # each federated file is exactly a local part and a remote part, neither empty
        assert [(part, bool(text.strip())) for part, text in parts(path)] == [("local", True), ("remote", True)]


# ---------------------------------------------------------------------------------------------------
# rdflib


@pytest.mark.parametrize(("case", "text"), CASES, ids=[case for case, _ in CASES])
def test_rdflib_parses_every_stored_query(case: str, text: str) -> None:
    from rdflib.plugins.sparql import prepareQuery

    prepareQuery(text)


def test_rdflib_rejects_what_is_not_sparql() -> None:
    from pyparsing import ParseException
    from rdflib.plugins.sparql import prepareQuery

    with pytest.raises(ParseException):
        prepareQuery(NOT_SPARQL)


# ---------------------------------------------------------------------------------------------------
# Apache Jena ARQ


def _jena_classpath(resources: Path) -> str | None:
    """The classpath for ParseQueries.java, or None without Jena. Debian's jena-core 4.5.0 moves Jena's copy
    of Xerces to the package `xerces` but leaves its message files under `org/apache/jena/ext/xerces`, so the
    XSD datatypes fail to initialise ("internal error"); the files are copied to where the classes look."""
    if not (JENA_DIR / "jena-arq.jar").is_file() or not (JENA_DIR / "jena-core.jar").is_file():
        return None
    prefix = "org/apache/jena/ext/xerces/"
    with zipfile.ZipFile(JENA_DIR / "jena-core.jar") as jar:
        for name in jar.namelist():
            if name.startswith(prefix) and name.endswith(".properties"):
                target = resources / "xerces" / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    jars = [str(JENA_DIR / f"{name}.jar") for name in JENA_JARS if (JENA_DIR / f"{name}.jar").is_file()]
    return os.pathsep.join([str(resources), *jars])


@pytest.fixture(scope="session")
def jena_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Case id → "OK" or Jena's error message, for every case and the controls, from one JVM for the run."""
    from tests.conftest import once_per_run

    return once_per_run(tmp_path_factory, "jena-verdicts", lambda: _run_jena(tmp_path_factory))


def _run_jena(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    java = shutil.which(os.environ.get("KG_JAVA", "java"))
    folder = tmp_path_factory.mktemp("jena")
    classpath = _jena_classpath(folder / "resources") if java else None
    if java is None or classpath is None:
        missing = "no Java runtime" if java is None else f"no Apache Jena jars in {JENA_DIR}"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must parse the stored queries with Jena (apt-get install libapache-jena-java)")
        pytest.skip(f"{missing} (apt-get install libapache-jena-java)")
    cases = [*CASES, ("control: alias of a bound variable", ALIAS_OF_A_BOUND_VARIABLE),
             ("control: not SPARQL", NOT_SPARQL)]
    names = {}
    for number, (case, text) in enumerate(cases):
        path = folder / f"{number:03d}.rq"
        path.write_text(text, "utf-8")
        names[str(path)] = case
    # C1 only and the serial collector: half the JVM's CPU for this short batch (the JIT tier changes speed, not
    # what is parsed).
    jvm = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    done = subprocess.run([java, *jvm, "-cp", classpath, str(JENA_PROGRAM), *names], capture_output=True, text=True,
                          timeout=300, check=False)
    verdicts = {}
    for line in done.stdout.splitlines():
        status, path, *message = line.split("\t", 2)
        verdicts[names[path]] = "OK" if status == "OK" else "".join(message)
    assert done.returncode == 0 and len(verdicts) == len(cases), done.stderr[-2000:]
    return verdicts


@pytest.mark.parametrize("case", [case for case, _ in CASES])
def test_jena_parses_every_stored_query(case: str, jena_verdicts: dict[str, str]) -> None:
    assert jena_verdicts[case] == "OK"


def test_jena_rejects_an_alias_of_a_bound_variable_and_what_is_not_sparql(jena_verdicts: dict[str, str]) -> None:
    assert "already in-scope: ?x" in jena_verdicts["control: alias of a bound variable"]
    assert jena_verdicts["control: not SPARQL"].startswith("QueryParseException: ")
