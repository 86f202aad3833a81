"""Graph folders (kg.layout): parts a folder lacks fall back to the bundled graph and the fallback is recorded
and worded for the CLI; library messages name no flag; the copy inside an installed package is recognised and
nothing writes into it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.errors import KgError, Refused
from kg.layout import (
    Layout,
    ensure_writable,
    ensure_writable_path,
    fallback_note,
    is_installed_path,
    resolve,
)
from tests.conftest import copy_layout, installed_bundle, snapshot

# --- Fallbacks ----------------------------------------------------------------------------------------------

def test_a_complete_folder_and_the_bundle_fall_back_to_nothing(tmp_path: Path, layout: Layout) -> None:
    assert layout.fallbacks == () and fallback_note(layout) is None
    root = copy_layout(tmp_path, layout)
    resolved = resolve(root)
    assert resolved.root == root and resolved.fallbacks == () and fallback_note(resolved) is None


def test_a_misspelled_data_folder_is_a_recorded_fallback(tmp_path: Path, layout: Layout) -> None:
    root = tmp_path / "graph"
    shutil.copytree(layout.ontology_dir, root / "ontology")
    shutil.copytree(layout.queries_dir, root / "queries")
    (root / "data" / "tripels").mkdir(parents=True)
    resolved = resolve(root)
    assert resolved.data_dir == layout.data_dir  # the documented fallback still works
    assert resolved.ontology_dir == root / "ontology"
    assert resolved.fallbacks == ("data/triples",)
    assert fallback_note(resolved) == (f"note: {root} has no data/triples/ (there is data/tripels/); "
                                       "using the bundled data/triples/")


def test_a_data_only_folder_notes_both_missing_parts(tmp_path: Path, layout: Layout) -> None:
    (tmp_path / "data" / "triples").mkdir(parents=True)
    resolved = resolve(tmp_path)
    assert resolved.fallbacks == ("ontology", "queries")
    assert fallback_note(resolved) == (f"note: {tmp_path} has no ontology/, queries/; "
                                       "using the bundled ontology/, queries/")
    assert "--" not in (fallback_note(resolved) or "").replace(str(tmp_path), "DIR")


def test_the_cli_announces_a_fallback_on_stderr(runner, tmp_path: Path, layout: Layout) -> None:  # type: ignore[no-untyped-def]
    from kg.cli import main

    root = tmp_path / "graph"
    shutil.copytree(layout.ontology_dir, root / "ontology")
    (root / "data" / "tripels").mkdir(parents=True)
    result = runner.invoke(main, ["--data", str(root), "queries"])
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("kg: note:")]
    assert len(notes) == 1 and notes[0] == (
        f"kg: note: {root} has no data/triples/, queries/ (there is data/tripels/); "
        "using the bundled data/triples/, queries/"), result.stderr


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, r"^graph folder .*missing: no such folder$"),
    (lambda p: p.mkdir(), r"^graph folder .*missing: has none of ontology/, data/triples/, queries/$"),
])
def test_bad_folder_messages_name_no_flag(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "missing"
    make(target)
    with pytest.raises(KgError, match=message) as caught:
        resolve(target)
    assert "--data" not in str(caught.value)


# --- The installed bundle is read-only ---------------------------------------------------------------------

def test_the_installed_bundle_is_recognised(tmp_path: Path, layout: Layout) -> None:
    installed = resolve(installed_bundle(tmp_path, layout))
    assert installed.is_installed_bundle and installed.fallbacks == ()
    assert not layout.is_installed_bundle  # the source checkout is the bundle here, and it is writable
    assert not resolve(copy_layout(tmp_path, layout)).is_installed_bundle
    lookalike = tmp_path / "elsewhere" / "_bundle"  # a folder called _bundle that no installer made
    shutil.copytree(layout.ontology_dir, lookalike / "ontology")
    assert not resolve(lookalike).is_installed_bundle
    assert is_installed_path(installed.data_dir / "links" / "new.ttl")  # a file not yet written, too


def test_ensure_writable_refuses_the_installed_bundle(tmp_path: Path, layout: Layout) -> None:
    installed = resolve(installed_bundle(tmp_path, layout))
    with pytest.raises(Refused, match=r"^cannot write data/triples/links/: the bundled graph inside the installed "
                                      r"package is read-only; copy it to a folder and point at it$"):
        ensure_writable(installed, "data/triples/links/")
    with pytest.raises(Refused, match="read-only"):
        ensure_writable_path(installed.data_dir / "links" / "wikidata.ttl")
    ensure_writable(resolve(copy_layout(tmp_path, layout)), "data/triples/links/")  # a user's copy: fine
    ensure_writable(layout, "data/triples/links/")  # the source checkout: fine


def test_ensure_writable_refuses_data_that_fell_back_to_the_installed_bundle(tmp_path: Path, layout: Layout) -> None:
    """A graph folder with its own ontology but no data/triples/ writes links into the bundled data: when that
    is the installed package, it is refused even though the folder itself is the user's."""
    bundle = installed_bundle(tmp_path, layout)
    (tmp_path / "mine" / "ontology").mkdir(parents=True)
    mixed = Layout(tmp_path / "mine" / "ontology", bundle / "data" / "triples", bundle / "queries",
                   root=tmp_path / "mine", fallbacks=("data/triples", "queries"))
    assert not mixed.is_installed_bundle
    with pytest.raises(Refused, match="read-only"):
        ensure_writable(mixed, "data/triples/links/")


def test_link_writers_write_nothing_into_the_installed_bundle(tmp_path: Path, layout: Layout) -> None:
    from kg import link, wikidata

    root = installed_bundle(tmp_path, layout)
    installed = resolve(root)
    before = snapshot(root)
    target = link.links_dir(installed) / "rigour.ttl"
    with pytest.raises(Refused, match="read-only"):
        link.write_files({link.links_dir(installed) / "new.ttl": "# new\n", target: "# changed\n"})
    with pytest.raises(Refused, match="read-only"):
        link.link_offline(installed)
    outcome = wikidata.LiveOutcome([], 0, 0, [], 0)
    with pytest.raises(Refused, match="read-only"):
        wikidata.write_live(installed, outcome)
    with pytest.raises(Refused, match="read-only"):
        wikidata.link_wikidata(installed, wikidata.lookup_engine("http://127.0.0.1:9/query", 60), with_labels=False)
    assert snapshot(root) == before
