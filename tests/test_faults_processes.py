"""Faults that only real `kg` processes meet: SIGKILL mid-write, readers racing a file that changes, a full disk.

Every process is the installed console script (`Path(sys.executable).parent / "kg"`) with `KG_CACHE_DIR` in the
test's tmp folder, started in its own session; whatever is still running when a test ends is killed by process
group in a `finally`. "The moment a temp file appears" or "OUT changes" is seen through inotify (tests/inotify.py),
which wakes the test on the event instead of a loop that kept a core busy for the whole run of the process under
test. The `kg stats --format json` checks after each kill run in-process (`check_stats`): they
read what the killed process left on disk. No network is used. Loops are bounded and seeded (`random.Random`), so
a failure repeats.

Cases:

- `test_output_is_the_same_cold_and_warm[…]`: the premise of the next case: each writing command below writes
  the same bytes on an empty cache and on a warm one.
- `test_kill_9_while_writing_output[stats-md|audit-html|queries-md]`: `kg stats --by-section --format md -o OUT`,
  `kg audit --format html -o OUT`, `kg queries --format md -o OUT`, with OUT pre-filled with old text, killed
  with SIGKILL after a random 0.05 s … ~1.5 s (6 tries, half of them in the last half of an uninterrupted run's
  time), then the moment a temp file appears, then the moment OUT changes (2 tries: a random delay rarely
  lands in a write that lasts a millisecond); every other try starts from an empty cache, so the kill may
  also land in the cache write. After each
  kill OUT is exactly the old text or exactly what an uninterrupted run writes (cold or warm, should those
  differ), and a normal `kg stats --format json` gives the uninterrupted run's JSON (a
  half-written cache is never served). After a final normal run of the command: OUT is the new text and no
  `*.tmp` file is left beside OUT or in any KG_CACHE_DIR used.
- `test_kill_9_while_writing_the_cache`: a cold `kg stats` (empty KG_CACHE_DIR) killed at random (6 tries) and
  the moment the cache's temp file appears (2 tries); then
  `kg stats --format json` twice (cold or warm) gives the uninterrupted JSON, and no `*.tmp` is left.
- `test_concurrent_readers_while_a_data_file_changes`: 3 rounds of 6 parallel `kg --data DIR stats --format json`
  while a thread swaps one data file (temp file + `os.replace`) between two valid versions, with and without
  one extra triple: each reader exits 0 with the JSON of one of the two versions (so a triple count of one of
  the two), or exits 2 with one `kg:` line; never another number.
- `test_full_disk_cache_write_fails_quietly`: (root, and a 2 MB tmpfs can be mounted; else skipped) KG_CACHE_DIR on
  the tmpfs, nearly full: `kg stats --format json` exits 0 with the right JSON and nothing on stderr, and
  leaves no temp file (nor any cache file) on the tmpfs.
- `test_full_disk_output_write_fails_cleanly`: the same tmpfs completely full with an old `out.json` on it:
  `kg stats -o DIR/out.json` exits 2 with one `kg:` line containing 'cannot write'; out.json still holds the old
  text and no temp file is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import inotify
from tests.conftest import copy_layout, once_per_run

KG = Path(sys.executable).parent / "kg"
OLD = b"old text: this file was here before the command ran\n"
TRIES = 8
MAX_DELAY = 1.5
EXTRA_TRIPLE = b'\n<urn:x:a> <urn:x:b> "c" .\n'

pytestmark = pytest.mark.skipif(not KG.exists(), reason=f"no console script at {KG}")


def kg_env(cache: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KG_DEBUG", None)
    env["KG_CACHE_DIR"] = str(cache)
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen) -> None:
    """Kill the process group of `proc` if it is still running, and reap it (its pipes are closed too)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
        proc.communicate(timeout=30)


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([str(KG), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield proc
    finally:
        _stop(proc)


def run_kg(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    with started(args, env) as proc:
        out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess([str(KG), *args], proc.returncode, out.decode("utf-8", "replace"),
                                       err.decode("utf-8", "replace"))


def show(done: subprocess.CompletedProcess) -> str:
    return f"`kg {' '.join(done.args[1:])}` exit {done.returncode}, stderr {done.stderr[-800:]!r}"


def check_contract(done: subprocess.CompletedProcess) -> None:
    assert done.returncode in (0, 1, 2), show(done)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, show(done)
    if done.returncode == 2:
        assert done.stderr.startswith("kg: ") and done.stderr.endswith("\n") and len(done.stderr.splitlines()) == 1, \
            f"exit 2 without exactly one `kg:` line: {show(done)}"


def temps(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [str(folder / name) for name in os.listdir(folder) if name.endswith(".tmp")]
    return sorted(found)


@pytest.fixture(scope="session")
def expected_stats(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`kg stats --format json` of an uninterrupted run on an empty cache (once for the run, every xdist worker)."""
    def compute() -> dict:
        done = run_kg(["stats", "--format", "json"], kg_env(tmp_path_factory.mktemp("reference-cache")))
        assert done.returncode == 0, show(done)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    return once_per_run(tmp_path_factory, "faults-processes-expected-stats", compute)


def check_stats(cache: Path, expected: dict, context: str) -> None:
    """`kg stats --format json` on `cache` after a kill gives the uninterrupted run's JSON. Run in-process (Click's
    CliRunner, the same code reading the same cache folder, with nothing held in memory between runs): what is
    proven is what the killed process left on disk, and a process for each check cost ~0.3 s of CPU."""
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["stats", "--format", "json"], env={"KG_CACHE_DIR": str(cache), "KG_DEBUG": None})
    done = subprocess.CompletedProcess(["kg", "stats", "--format", "json"], result.exit_code, result.stdout,
                                       result.stderr + (repr(result.exception) if result.exception else ""))
    assert done.returncode == 0, f"{context}: then {show(done)}"
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"{context}: then `kg stats --format json` printed no JSON: "
                             f"{done.stdout[:300]!r}") from None
    assert answer == expected, f"{context}: then `kg stats --format json` differs from an uninterrupted run: " \
                               f"{answer!r} != {expected!r}"


def _stat(path: Path | None) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path) if path is not None else None
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns) if info else None


def kill_after(args: list[str], env: dict[str, str], delay: float, watch: tuple[Path, ...] = (),
               output: Path | None = None) -> str:
    """Start `kg ARGS` and SIGKILL its process group after `delay` seconds, or (AT_WRITE) the moment a `*.tmp`
    file appears in one of the `watch` folders, or (AT_CHANGE) the moment `output` changes (inode, size or
    mtime); returns 'killed', 'killed mid-write', 'killed at the change' or 'done' (it had ended first)."""
    before = _stat(output)
    folders = (*watch, *((output.parent,) if output is not None else ()))
    events = inotify.watch(folders) if delay in (AT_WRITE, AT_CHANGE) else None
    try:
        with started(args, env) as proc:
            if delay in (AT_WRITE, AT_CHANGE):
                return _kill_at_event(proc, delay, events, watch, output, before)
            time.sleep(delay)
            running = proc.poll() is None
            if running:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    finally:
        if events is not None:
            events.close()
    return "killed" if running else "done"


def _kill_at_event(proc: subprocess.Popen, delay: float, events: inotify.Watch | None, watch: tuple[Path, ...],
                   output: Path | None, before: tuple[int, int, int] | None) -> str:
    """SIGKILL `proc` the moment a `*.tmp` file appears in `watch` (AT_WRITE) or `output` changes (AT_CHANGE):
    woken by inotify where it exists (the kernel names the file, so a temp file living a millisecond is seen),
    else by polling without sleep."""
    def happened(paths: list[Path]) -> bool:
        if delay == AT_WRITE:
            return any(p.name.endswith(".tmp") and p.parent in watch for p in paths) or bool(temps(*watch))
        return _stat(output) != before

    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        paths = list(events.events(0.05)) if events is not None else []
        if (paths or events is None) and happened(paths):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return "killed mid-write" if delay == AT_WRITE else "killed at the change"
    return "done" if proc.poll() is not None else "timeout"


def shown_delay(delay: float) -> str:
    return {AT_WRITE: "at the write", AT_CHANGE: "at the change of OUT"}.get(delay, f"after {delay:.2f} s")


# ---------------------------------------------------------------------------------------------------
# SIGKILL at random points

WRITERS = {
    "stats-md": ["stats", "--by-section", "--format", "md"],
    "audit-html": ["audit", "--format", "html"],
    "queries-md": ["queries", "--format", "md"],
}


AT_WRITE = -1.0  # a "delay" meaning: kill the moment a temp file appears
AT_CHANGE = -2.0  # kill the moment the output file changes (an in-place writer would leave it half written)


def delays(rng: random.Random, took: float, change: bool = False) -> Iterator[float]:
    """Random delays in 0.05 s … min(1.5 s, 1.2 × an uninterrupted run), every other one in the run's last half
    where the writes are; the last two tries kill the moment a temp file appears, or (`change`) the second one
    the moment OUT changes (a random delay rarely lands in a write that lasts a millisecond)."""
    upper = min(MAX_DELAY, 1.2 * took + 0.1)
    for attempt in range(TRIES - 2):
        yield rng.uniform(0.05, upper) if attempt % 2 else rng.uniform(min(0.5 * took, upper - 0.05), upper)
    yield AT_WRITE
    yield AT_CHANGE if change else AT_WRITE


def references(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[bytes, bytes, float, str]:
    """What uninterrupted runs of WRITERS[name] write to -o: on an empty cache, then with that cache warm; the cold
    run's time; and the cache folder used. Run once for the whole run (every xdist worker) and shared by the
    premise test and the kill test of that writer, which need the same two texts."""
    return once_per_run(tmp_path_factory, f"faults-processes-references-{name}",
                        lambda: _references(tmp_path_factory.mktemp(f"references-{name}"), WRITERS[name]))


def _references(tmp_path: Path, command: list[str]) -> tuple[bytes, bytes, float, str]:
    cache = tmp_path / "reference-cache"
    texts = []
    took = 0.0
    for name in ("cold", "warm"):
        target = tmp_path / f"reference-{name}"
        started_at = time.monotonic()
        done = run_kg([*command, "-o", str(target)], kg_env(cache))
        took = took or time.monotonic() - started_at
        assert done.returncode in (0, 1), show(done)
        texts.append(target.read_bytes())
    assert texts[0] and texts[0] != OLD
    return texts[0], texts[1], took, str(cache)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_is_the_same_cold_and_warm(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    """Not a fault, but the kill test's premise: "what an uninterrupted run writes" is one text, whether the
    graph came from Turtle (empty cache) or from the cache."""
    cold, warm, _, _ = references(tmp_path_factory, name)
    if cold != warm:
        at = next((i for i, (a, b) in enumerate(zip(cold, warm, strict=False)) if a != b), min(len(cold), len(warm)))
        raise AssertionError(f"`kg {' '.join(WRITERS[name])} -o OUT` writes different bytes on an empty cache and "
                             f"on a warm one (sizes {len(cold)} and {len(warm)}, first difference at byte {at}: "
                             f"{cold[at - 40:at + 40]!r} vs {warm[at - 40:at + 40]!r})")


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_kill_9_while_writing_output(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, name: str,
                                    expected_stats: dict) -> None:
    command = WRITERS[name]
    rng = random.Random(f"kill -9 {name}")
    cache, out_dir = tmp_path / "cache", tmp_path / "out"
    out_dir.mkdir()
    cold, warm, took, reference_cache = references(tmp_path_factory, name)
    new = {cold, warm}  # two texts where the output depends on the cache state (see the test above)
    out = out_dir / "report.out"
    caches, outcomes = [cache, Path(reference_cache)], []
    for attempt, delay in enumerate(delays(rng, took, change=True)):
        out.write_bytes(OLD)
        try_cache = tmp_path / f"cache-{attempt}" if attempt % 2 == 0 else cache
        caches.append(try_cache)
        args = [*command, "-o", str(out)]
        killed = kill_after(args, kg_env(try_cache), delay, watch=(out_dir, try_cache), output=out)
        content = out.read_bytes()
        state = "old" if content == OLD else "new" if content in new else "OTHER"
        outcomes.append(f"{shown_delay(delay)}:{killed}:{state}")
        context = f"`KG_CACHE_DIR={try_cache} kg {' '.join(args)}` killed -9 {shown_delay(delay)} ({killed})"
        assert state != "OTHER", f"{context}: OUT is neither the old text nor the new ({len(content)} bytes: " \
                                 f"{content[:120]!r}…)"
        check_stats(try_cache, expected_stats, context)
    final = run_kg([*command, "-o", str(out)], kg_env(cache))
    assert final.returncode in (0, 1), show(final)
    assert out.read_bytes() in new, f"after the kills ({outcomes}), a normal run did not write the new text"
    print(f"kill -9 of `kg {' '.join(command)} -o OUT`:", ", ".join(outcomes))
    left = temps(out_dir, *caches)
    assert not left, f"after the kills ({', '.join(outcomes)}) and a final normal `kg {' '.join(command)} -o " \
                     f"{out}`, temp files are left: {left}"


def test_kill_9_while_writing_the_cache(tmp_path: Path, expected_stats: dict) -> None:
    rng = random.Random("kill -9 cold cache")
    started_at = time.monotonic()
    done = run_kg(["stats"], kg_env(tmp_path / "measure"))
    took = time.monotonic() - started_at
    assert done.returncode == 0, show(done)
    outcomes = []
    for attempt, delay in enumerate(delays(rng, took)):
        cache = tmp_path / f"cache-{attempt}"
        killed = kill_after(["stats"], kg_env(cache), delay, watch=(cache,))
        mid_write = bool(temps(cache))
        outcomes.append(f"{shown_delay(delay)}:{killed}{':temp left' if mid_write else ''}")
        context = f"cold `KG_CACHE_DIR={cache} kg stats` killed -9 {shown_delay(delay)}" + \
                  (" while writing the cache" if mid_write else "")
        check_stats(cache, expected_stats, context)
        check_stats(cache, expected_stats, context + " and one normal run")
        left = temps(cache)
        assert not left, f"{context}: after two normal runs, temp files are left: {left}"
    print("kill -9 of a cold `kg stats`:", ", ".join(outcomes))


# ---------------------------------------------------------------------------------------------------
# Readers while a file changes


def test_concurrent_readers_while_a_data_file_changes(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    root = copy_layout(tmp_path, layout)
    target = root / "data" / "triples" / "report.ttl"
    plain = target.read_bytes()
    extended = plain + EXTRA_TRIPLE
    cache = tmp_path / "cache"
    args = ["--data", str(root), "stats", "--format", "json"]

    def put(data: bytes) -> None:
        temp = target.with_name(".flip.tmp")
        temp.write_bytes(data)
        os.replace(temp, target)

    versions = []
    for data in (plain, extended):
        put(data)
        done = run_kg(args, kg_env(tmp_path / "reference-cache"))
        assert done.returncode == 0, show(done)
        versions.append(json.loads(done.stdout))
    counts = {v["triples"] for v in versions}
    assert versions[1]["triples"] == versions[0]["triples"] + 1, versions

    stop = threading.Event()
    flips = [0]

    def flip() -> None:
        while not stop.is_set():
            put(extended if flips[0] % 2 == 0 else plain)
            flips[0] += 1
            time.sleep(0.003)

    flipper = threading.Thread(target=flip, name="flipper", daemon=True)
    flipper.start()
    seen: list[str] = []
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(3):
            procs = [subprocess.Popen([str(KG), *args], env=kg_env(cache), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
                     for _ in range(6)]
            for proc in procs:
                out, err = proc.communicate(timeout=180)
                done = subprocess.CompletedProcess([str(KG), *args], proc.returncode, out.decode("utf-8", "replace"),
                                                   err.decode("utf-8", "replace"))
                check_contract(done)
                assert done.returncode in (0, 2), show(done)
                if done.returncode == 0:
                    answer = json.loads(done.stdout)
                    assert answer["triples"] in counts, \
                        f"a reader counted {answer['triples']} triples; the two versions have {sorted(counts)}"
                    assert answer in versions, f"a reader's stats match neither version: {answer!r}"
                    seen.append(str(answer["triples"]))
                else:
                    seen.append("exit 2")
    finally:
        stop.set()
        flipper.join(timeout=30)
        for proc in procs:
            _stop(proc)
    print(f"{flips[0]} swaps; readers saw: {', '.join(seen)}")
    left = temps(cache, target.parent)
    assert not left, f"temp files left: {left}"


# ---------------------------------------------------------------------------------------------------
# A full disk


@pytest.fixture()
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test (root only; skipped where mounting is not allowed), unmounted after."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("no mount command")
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True,
                          text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of `folder` with one file, then give `leave` bytes back."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while handle.write(chunk):
            pass
    if leave:
        os.truncate(filler, max(filler.stat().st_size - leave, 0))
    else:
        assert os.statvfs(folder).f_bavail == 0


def test_full_disk_cache_write_fails_quietly(tmpfs: Path, expected_stats: dict) -> None:
    fill(tmpfs, leave=64 * 1024)
    done = run_kg(["stats", "--format", "json"], kg_env(tmpfs))
    assert done.returncode == 0, f"KG_CACHE_DIR on a nearly full tmpfs: {show(done)}"
    assert json.loads(done.stdout) == expected_stats
    assert done.stderr == "", f"the failed cache write was not quiet: {done.stderr!r}"
    assert sorted(os.listdir(tmpfs)) == ["filler"], f"left on the full cache folder: {sorted(os.listdir(tmpfs))}"


def test_full_disk_output_write_fails_cleanly(tmpfs: Path, tmp_path: Path) -> None:
    out = tmpfs / "out.json"
    out.write_bytes(OLD)
    fill(tmpfs)
    done = run_kg(["stats", "-o", str(out)], kg_env(tmp_path / "cache"))
    check_contract(done)
    assert done.returncode == 2 and "cannot write" in done.stderr, f"-o on a full tmpfs: {show(done)}"
    assert out.read_bytes() == OLD, "the old file was changed"
    assert sorted(os.listdir(tmpfs)) == ["filler", "out.json"], f"left behind: {sorted(os.listdir(tmpfs))}"
