"""Every command and package a newcomer is told to use exists and runs.

The hints are collected, not listed by hand: every `kg …` command line and every `pip install …` of the
README's and docs/*.md's code blocks and inline code, and every `kg …` and `pip install …` in the string
literals of src/kg/ (an AST walk: messages, help texts, docstrings). Each `kg` line must name commands and
options the Click app has (a `--format` value among its choices, a stored question, audit check, federated
question or question parameter that exists); each `pip install` must name the project's own folder with an
extra it declares, or a package the project depends on (crossroads-kg itself is not on PyPI). The README's
tour is run line by line in-process (exit 0, or 1 where its comment documents "exit 1"); the lines that
need a server, the network, Java or a full SHACL validation, and placeholders, are checked for existence.
"""

from __future__ import annotations

import ast
import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from kg.cli import main
from tests.conftest import REPORT, ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted((ROOT / "src" / "kg").rglob("*.py"))

# Mentions of "kg" in source strings that are not commands (each with its reason).
NOT_COMMANDS = {
    "kg command-line tool",  # the User-Agent's product description (kg.remote)
}


@dataclass(frozen=True)
class Hint:
    where: str  # file:line
    text: str  # the command line, from `kg` or `pip` on
    tour: bool = False  # a line of the README's tour (run, not only checked)


# --- Collecting ----------------------------------------------------------------------------------------------

FENCE = re.compile(r"^```.*?$(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
# A command inside a line of shell: after a start of line, `&&`, `;` or `|`, with an optional `.venv/bin/`.
SHELL_COMMAND = re.compile(r"(?:^|&&|;|\|)\s*(?:\$\s+)?(?:\S*/)?((?:kg|pip)\s.*?)(?=&&|;|\||$)")
COMMENT = re.compile(r"\s#\s.*$")


def shell_commands(line: str) -> list[str]:
    """The `kg` and `pip` commands of a line of shell; the line's `# comment` stays with its last command
    (the tour documents exit codes there)."""
    comment = COMMENT.search(line)
    code = line[:comment.start()] if comment else line
    commands = [c.strip() for c in SHELL_COMMAND.findall(code)]
    if commands and comment:
        commands[-1] += "  " + comment.group().strip()
    return commands


def markdown_hints() -> list[Hint]:
    """`kg` and `pip install` lines of the fenced code blocks, and inline code spans that are such commands."""
    hints = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        tour_block = _tour_block(text) if path.name == "README.md" else None
        fenced_lines: set[int] = set()
        for block in FENCE.finditer(text):
            first_line = text.count("\n", 0, block.start(1)) + 1
            for offset, line in enumerate(block.group(1).splitlines()):
                fenced_lines.add(first_line + offset)
                for command in shell_commands(line):
                    hints.append(Hint(f"{name}:{first_line + offset}", command,
                                      tour=tour_block is not None and block.start() == tour_block))
                comment = COMMENT.search(line)  # "(needs the link extra: pip install '.[link]')"
                hints += [Hint(f"{name}:{first_line + offset}", m.group())
                          for m in PIP_IN_PROSE.finditer(comment.group() if comment else "")]
        for number, line in enumerate(text.splitlines(), start=1):
            if number in fenced_lines:
                continue
            for span in INLINE.findall(line):
                hints += [Hint(f"{name}:{number}", c) for c in shell_commands(span) if _is_hint(c)]
    return hints


def _is_hint(command: str) -> bool:
    return bool(re.match(r"(kg|pip install)\s", command))


def _tour_block(readme: str) -> int:
    """Where the README's tour (the code block under 'A short tour') starts."""
    start = readme.index("## A short tour")
    return readme.index("```", start)


KG_IN_PROSE = re.compile(r"(?<![\w.`/-])kg(?: +(?:-{1,2}[a-z][\w-]*(?:=\S*)?|[a-z][\w-]*))+")
PIP_IN_PROSE = re.compile(r"pip install(?: +(?:'[^']*'|\"[^\"]*\"|-\S+|[\w.\[\],<>=!~*-]+))+")


def source_hints() -> list[Hint]:
    """`kg …` and `pip install …` in the string literals of src/kg/: backticked spans, and commands in plain
    text. An f-string is read whole, each replacement field standing for a value (`VALUE`)."""
    hints = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT)
        parts_of_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                             for part in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(p.value if isinstance(p, ast.Constant) else "VALUE" for p in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts_of_fstrings:
                text = node.value
            else:
                continue
            where = f"{name}:{node.lineno}"
            hints += [Hint(where, c) for span in INLINE.findall(text) for c in shell_commands(span) if _is_hint(c)]
            prose = INLINE.sub(" ", text)
            for match in KG_IN_PROSE.finditer(prose):
                before = prose[:match.start()].rstrip()
                if re.search(r"\d$", before):  # "100 kg of heroin" is a weight
                    continue
                if not any(match.group().startswith(n) for n in NOT_COMMANDS):
                    hints.append(Hint(where, match.group()))
            hints += [Hint(where, m.group()) for m in PIP_IN_PROSE.finditer(prose)]
    return hints


HINTS = markdown_hints() + source_hints()
KG_HINTS = [h for h in HINTS if h.text.startswith("kg")]
PIP_HINTS = [h for h in HINTS if h.text.startswith("pip")]


def test_the_hints_are_found() -> None:
    """The collectors see what they must (so that an empty collection cannot pass every check below)."""
    texts = {h.text for h in HINTS}
    assert "kg query seizure-timeline" in texts  # README, a command chained after `pip install .`
    assert "pip install ." in texts
    assert any(h.text.startswith("kg audit --list") and h.where.startswith("src") for h in HINTS)  # base.LISTINGS
    assert sum(h.tour for h in HINTS) >= 20
    assert any(h.where.startswith("src/kg/evidence.py") for h in KG_HINTS)  # an f-string hint


# --- Checking a `kg` line against the Click app ------------------------------------------------------------

PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*(=[A-Z_]+)?$|\.\.\.|…|^<.*>$|^VALUE$|VALUE")


def is_placeholder(token: str) -> bool:
    return bool(PLACEHOLDER.search(token))


SHELL_OPERATOR = re.compile(r"^(\||\|\||&&?|;|[0-9]?>.*|<(?!.*>$).*)$")


def words(line: str, brackets: bool = True) -> list[str]:
    """The words of a command line, up to a shell operator (`|`, `>&-`): shell quoting and a trailing
    `# comment` removed, `…` dropped and, with `brackets`, the brackets of `[optional]` parts."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:  # an apostrophe in a comment-free prose mention
        tokens = line.split()
    cut = next((i for i, t in enumerate(tokens) if SHELL_OPERATOR.match(t)), len(tokens))
    tokens = [t.strip("[]") if brackets else t for t in tokens[:cut]]
    return [t for t in tokens if t and t not in ("…", "...")]


def option_of(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def problems(line: str) -> list[str]:
    """What in `line` (from `kg` on) the app does not have: commands, options, choices, names of stored
    questions, audit checks, federated questions and question parameters."""
    tokens = words(line)
    assert tokens and tokens[0] == "kg", line
    found: list[str] = []
    command: click.Command = main
    path = ["kg"]
    positional: list[str] = []
    options: list[tuple[str, str | None]] = []
    i = 1
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("-") and token != "-":
            name, _, attached = token.partition("=")
            if name in ("-h", "--help"):
                i += 1
                continue
            option = option_of(command, name)
            if option is None:
                found.append(f"`{' '.join(path)}` has no option {name}")
                i += 1
                continue
            value: str | None = None
            if not option.is_flag and not option.count:
                value = attached or (tokens[i + 1] if i + 1 < len(tokens) else None)
                i += 0 if attached else 1
                if isinstance(option.type, click.Choice) and value is not None and not is_placeholder(value) \
                        and value not in option.type.choices:
                    found.append(f"`{' '.join(path)} {name}` has no choice {value!r}")
            options.append((name, value))
            i += 1
            continue
        if isinstance(command, click.Group) and not is_placeholder(token):
            sub = command.commands.get(token)
            if sub is None:
                found.append(f"`{' '.join(path)}` has no command {token!r}")
                return found
            command, path = sub, [*path, token]
        else:
            positional.append(token)
        i += 1
    return found + _names(path, positional, options)


@functools.cache
def catalogs() -> tuple[dict[str, set[str]], set[str], set[str]]:
    """The bundled graph's stored questions (with their parameters), audit checks and federated questions."""
    from kg.audit import FIXITY, checks_for
    from kg.catalog import load_catalog
    from kg.federated import catalog as federated_catalog
    from kg.layout import resolve

    layout = resolve()
    questions = {q.name: {p.name for p in q.params} for q in load_catalog(layout.queries_dir, ("question",)).questions}
    checks = {c.name for c in checks_for(layout)} | {FIXITY}
    return questions, checks, {q.name for q in federated_catalog(layout.queries_dir)}


def _names(path: list[str], positional: list[str], options: list[tuple[str, str | None]]) -> list[str]:
    """The names a command line gives that must exist in the bundled graph's catalog."""
    questions, checks, federated = catalogs()
    found = []
    command = " ".join(path)
    named = [p for p in positional if not is_placeholder(p)]
    if command == "kg query" and named:
        if named[0] not in questions:
            return [f"no stored question {named[0]!r}"]
        for name, value in options:
            key = (value or "").partition("=")[0]
            if name in ("-p", "--param") and key and not is_placeholder(key) and key not in questions[named[0]]:
                found.append(f"stored question {named[0]!r} has no parameter {key!r}")
    if command == "kg audit":
        found += [f"no audit check {v!r}" for n, v in options
                  if n == "--check" and v is not None and not is_placeholder(v) and v not in checks]
    if command == "kg link federated" and named and named[0] not in federated:
        found.append(f"no federated question {named[0]!r}")
    return found


@pytest.mark.parametrize("hint", KG_HINTS, ids=[f"{h.where} {h.text[:60]}" for h in KG_HINTS])
def test_every_kg_hint_names_what_exists(hint: Hint) -> None:
    assert problems(hint.text) == [], f"{hint.where}: {hint.text}"


@pytest.mark.parametrize(("line", "problem"), [
    ("kg query evidence -p entity=actor:khimprom", "no stored question 'evidence'"),
    ("kg query evidence-for-entity -p thing=actor:khimprom", "has no parameter 'thing'"),
    ("kg querry routes", "`kg` has no command 'querry'"),
    ("kg audit --check no-such-check", "no audit check 'no-such-check'"),
    ("kg audit --everything", "`kg audit` has no option --everything"),
    ("kg stats --format yaml", "`kg stats --format` has no choice 'yaml'"),
    ("kg link wikipedia", "`kg link` has no command 'wikipedia'"),
    ("kg link federated no-such-question", "no federated question 'no-such-question'"),
])
def test_a_bad_hint_is_caught(line: str, problem: str) -> None:
    """The checker itself, on hints that are wrong (the first is the one issue 11 found in a message)."""
    assert any(problem in p for p in problems(line)), problems(line)


@pytest.mark.parametrize("line", [
    "kg query NAME [-p KEY=VALUE …]", "kg audit --check <name>", "kg link federated NAME [--endpoint URL]",
    "kg --data ./my-graph validate", "kg query route-legs -p route=VALUE)",
])
def test_placeholders_are_not_names(line: str) -> None:
    assert problems(line) == []


# --- pip install -------------------------------------------------------------------------------------------

PROSE_WORDS = {"in", "from", "or", "and", "then", "to", "with", "for", "(or"}


def pyproject() -> dict:  # type: ignore[type-arg]
    """The [project] table of pyproject.toml (tomllib is Python 3.11+; on 3.10, tomli if installed)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def requirements() -> tuple[set[str], set[str]]:
    """The packages the project depends on (main and extras, by normalized name) and the extras it declares."""
    project = pyproject()
    extras = project.get("optional-dependencies", {})
    specs = [*project["dependencies"], *(s for group in extras.values() for s in group)]
    return {_package(s) for s in specs}, set(extras)


def _package(spec: str) -> str:
    return re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def pip_specs(line: str) -> list[str]:
    """What a `pip install` line asks for: its words after `install` up to the prose that follows, without
    options and placeholders."""
    tokens = words(line, brackets=False)
    assert tokens[:2] == ["pip", "install"], line
    end = next((i for i, t in enumerate(tokens) if t in PROSE_WORDS), len(tokens))
    return [t for t in tokens[2:end] if not t.startswith("-") and not is_placeholder(t)]


def pip_problems(line: str) -> list[str]:
    packages, extras = requirements()
    found = []
    for token in pip_specs(line):
        folder = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", token)
        if folder:
            found += [f"the project declares no extra {e!r}" for e in (folder.group(1) or "").split(",")
                      if e and e not in extras]
        elif _package(token) == "crossroads-kg":
            found.append(f"{token}: crossroads-kg is not on PyPI (install the project folder: pip install .)")
        elif _package(token) not in packages:
            found.append(f"{token}: not a package the project depends on")
    return found


@pytest.mark.parametrize("hint", PIP_HINTS, ids=[f"{h.where} {h.text[:60]}" for h in PIP_HINTS])
def test_every_pip_hint_installs_what_exists(hint: Hint) -> None:
    assert pip_problems(hint.text) == [], f"{hint.where}: {hint.text}"


@pytest.mark.parametrize(("line", "problem"), [
    ("pip install 'crossroads-kg[link]'", "not on PyPI"),
    ("pip install '.[links]'", "no extra 'links'"),
    ("pip install rdkitt", "not a package the project depends on"),
])
def test_a_bad_pip_hint_is_caught(line: str, problem: str) -> None:
    assert any(problem in p for p in pip_problems(line)), pip_problems(line)


def test_the_link_extra_hint_is_a_command_that_works() -> None:
    """The message `kg link` gives without its packages, built from the installed package's metadata: every
    package it names is a requirement of the `link` extra (pyproject.toml), none is crossroads-kg."""
    from kg.errors import KgError
    from kg.link.records import need

    with pytest.raises(KgError) as caught:
        need("kg_no_such_linking_package")
    message = str(caught.value)
    commands = [m.group() for m in PIP_IN_PROSE.finditer(message)]
    assert commands, message
    link = {_package(s) for s in pyproject()["optional-dependencies"]["link"]}
    named = {_package(t) for c in commands for t in pip_specs(c) if not t.startswith(".")}
    assert named <= link and "crossroads-kg" not in named, message
    assert "pip install '.[link]'" in message
    assert all(pip_problems(c) == [] for c in commands), commands


# --- The README's tour, run ----------------------------------------------------------------------------------

# Tour lines that are checked, not run: what they need, or why running them here would be wrong.
NOT_RUN = {
    "--endpoint": "needs a SPARQL server (tests/test_query.py runs the reading commands on one)",
    "kg validate": "a full SHACL validation (too slow for the suite; tests/test_validate.py runs it once)",
    "kg --data ./my-graph": "a placeholder folder",
    "kg reason": "needs Java and HermiT (tests marked `reasoner`)",
    "kg link report": "ten seconds of linking, run by tests/test_link.py",
    "kg sparql 'SELECT ...'": "a placeholder query",
    "--source-text REPORT.txt": "a placeholder for the report's text (tests/test_audit.py runs it on ../shared)",
}
TOUR = [h for h in KG_HINTS if h.tour]


def _not_run(text: str) -> str | None:
    return next((why for marker, why in NOT_RUN.items() if marker in text), None)


@pytest.mark.parametrize("hint", TOUR, ids=[h.text[:70] for h in TOUR])
def test_each_tour_line_runs(runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hint: Hint) -> None:  # type: ignore[no-untyped-def]
    why = _not_run(hint.text)
    if why:
        assert problems(hint.text) == []
        pytest.skip(f"checked, not run: {why}")
    args = words(hint.text)[1:]
    if any("../shared/report/" in a for a in args) and not REPORT.is_file():
        pytest.skip(f"report text not found at {REPORT}")
    # Run where the README is: relative paths in the tour are relative to the project folder; what it
    # writes (`-o audit.html`) goes to a temporary copy of that place.
    monkeypatch.chdir(tmp_path)
    args = [str(ROOT / a) if a.startswith("../") else a for a in args]
    result = runner.invoke(main, args)
    comment = hint.text.partition("#")[2]
    allowed = {0, 1} if "exit 1" in comment else {0}
    assert result.exit_code in allowed, f"{hint.text}\n{result.output}"
    written = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-o", "--output")]
    if written:
        assert all((tmp_path / w).stat().st_size > 0 for w in written), hint.text
    else:
        assert result.output.strip(), hint.text
