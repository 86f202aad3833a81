"""`write_atomically`, the writer behind every `-o FILE`, on the real filesystem with real processes.

A reader must never see half a file, a writer must not clobber what it has no business replacing (a symlink,
a device, a FIFO, a file's mode or owner), and a writer killed mid-way must leave nothing behind once the
next write has run.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.errors import KgError
from kg.output import is_stdout, write_atomically

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def leftovers(folder: Path, name: str) -> list[str]:
    """Temporary files of writers of `name` in `folder` (`.<name>.<pid>.tmp`)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped (so `kill(pid, 0)` says it does not exist)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def failure(path: Path | str, text: str = "x") -> str:
    """The message of the KgError that writing `text` to `path` raises."""
    with pytest.raises(KgError) as caught:
        write_atomically(path, text)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- plain files ---------------------------------------------------------------------------------------------


def test_writes_utf8_text_and_replaces_old_content(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old and longer than the new text\n", encoding="utf-8")
    write_atomically(target, "Алматы — ¥ 🌍\n")
    assert target.read_bytes() == "Алматы — ¥ 🌍\n".encode()
    assert leftovers(tmp_path, "out.txt") == []


def test_accepts_a_str_path_relative_to_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomically("relative.txt", "hi\n")
    assert (tmp_path / "relative.txt").read_text(encoding="utf-8") == "hi\n"


def test_new_file_gets_0666_minus_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_existing_mode_0600_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    write_atomically(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == "new"


def test_existing_mode_0755_is_kept_even_against_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o775)
    old = os.umask(0o077)
    try:
        write_atomically(target, "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o775


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another owner")
def test_existing_owner_and_group_are_kept_as_root(tmp_path: Path) -> None:
    target = tmp_path / "theirs.txt"
    target.write_text("old", encoding="utf-8")
    os.chown(target, 12345, 23456)
    write_atomically(target, "new")
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (12345, 23456)
    assert target.read_text(encoding="utf-8") == "new"


# --- symlinks ------------------------------------------------------------------------------------------------


def test_symlink_is_kept_and_its_target_updated(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    write_atomically(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real.txt"
    assert real.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert leftovers(tmp_path, "real.txt") == [] and leftovers(tmp_path, "link.txt") == []


def test_symlink_chain_into_another_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    real = tmp_path / "b" / "real.txt"
    real.write_text("old", encoding="utf-8")
    (tmp_path / "b" / "hop").symlink_to("real.txt")
    (tmp_path / "a" / "link").symlink_to("../b/hop")
    write_atomically(tmp_path / "a" / "link", "new")
    assert (tmp_path / "a" / "link").is_symlink() and (tmp_path / "b" / "hop").is_symlink()
    assert real.read_text(encoding="utf-8") == "new"
    assert sorted(os.listdir(tmp_path / "b")) == ["hop", "real.txt"]


def test_dangling_symlink_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("made.txt")
    write_atomically(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "made.txt").read_text(encoding="utf-8") == "new"


def test_symlink_loop_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    message = failure(tmp_path / "a")
    assert message.startswith(f"{tmp_path / 'a'}: cannot write: ")


# --- targets that are not regular files ----------------------------------------------------------------------


def test_character_device_is_written_not_replaced(tmp_path: Path) -> None:
    """As root, on a private copy of /dev/null made with mknod: a regression must never replace the system's
    /dev/null with a regular file (as root the old writer did exactly that). Others cannot write in /dev, so
    they test /dev/null itself."""
    if IS_ROOT:
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        device = Path("/dev/null")
    before = os.stat(device)
    write_atomically(device, "discarded\n" * 1000)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino and after.st_rdev == before.st_rdev
    assert not [name for name in os.listdir(device.parent) if name.startswith(".null.")]


def test_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = "line ✓\n" * 100_000  # more than a pipe buffer, so the reader must be reading as it is written
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    write_atomically(fifo, text)
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert received == [text.encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def _child(code: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-c", code], text=True, timeout=60, cwd=ROOT, **kwargs)


# A descriptor path is tried as /dev/fd/1 (which lives in procfs, where no file can be created) and as a
# private symlink like /dev/stdout: a regression running as root must not turn the system's /dev/stdout
# into a regular file, as the old writer did.
DESCRIPTOR_WRITER = "import sys; from kg.output import write_atomically; write_atomically(sys.argv[1], sys.argv[2])"


def descriptor_paths(tmp_path: Path) -> list[str]:
    stdout_link = tmp_path / "stdout"
    stdout_link.symlink_to("/proc/self/fd/1")
    return ["/dev/fd/1", str(stdout_link)]


def test_descriptor_path_to_a_pipe_writes_to_the_pipe(tmp_path: Path) -> None:
    for path in descriptor_paths(tmp_path):
        done = subprocess.run([sys.executable, "-c", DESCRIPTOR_WRITER, path, "piped ✓\n"], text=True,
                              timeout=60, cwd=ROOT, capture_output=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "piped ✓\n"
    assert (tmp_path / "stdout").is_symlink() and os.listdir(tmp_path) == ["stdout"]


def test_descriptor_path_to_an_appended_file_appends(tmp_path: Path) -> None:
    """`kg … -o /dev/stdout >> log` must add to the log: renaming a new file over it would lose what it held
    (and opening it with O_TRUNC, as the shell's `> /dev/stdout` does, would empty it)."""
    paths = descriptor_paths(tmp_path)
    log = tmp_path / "log"
    log.write_text("earlier\n", encoding="utf-8")
    for number, path in enumerate(paths):
        with open(log, "a", encoding="utf-8") as handle:
            done = subprocess.run([sys.executable, "-c", DESCRIPTOR_WRITER, path, f"later {number}\n"], text=True,
                                  timeout=60, cwd=ROOT, stdout=handle, stderr=subprocess.PIPE)
        assert done.returncode == 0, done.stderr
    assert log.read_text(encoding="utf-8") == "earlier\nlater 0\nlater 1\n"
    assert sorted(os.listdir(tmp_path)) == ["log", "stdout"]


def test_dash_means_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert is_stdout("-") and is_stdout(Path("-"))
    assert not is_stdout("./-x") and not is_stdout(tmp_path / "-")
    done = _child("from pathlib import Path; from kg.output import write_atomically; "
                  "write_atomically(Path('-'), 'to stdout ✓\\n')", capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "to stdout ✓\n"
    assert os.listdir(tmp_path) == []


# --- errors: one line, `PATH: cannot write: <strerror>` -------------------------------------------------------


def test_missing_folder_is_one_line_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.txt"
    assert failure(target) == f"{target}: cannot write: No such file or directory"


def test_directory_target_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    assert failure(tmp_path / "folder") == f"{tmp_path / 'folder'}: cannot write: Is a directory"
    assert os.listdir(tmp_path / "folder") == []
    assert os.listdir(tmp_path) == ["folder"]


def test_trailing_slash_is_a_directory(tmp_path: Path) -> None:
    assert failure(f"{tmp_path}/out/") == f"{tmp_path}/out/: cannot write: Is a directory"


def test_error_is_still_an_oserror_for_existing_callers(tmp_path: Path) -> None:
    """kg.link and kg.wikidata catch OSError around write_atomically; the KgError must still be caught there."""
    with pytest.raises(OSError) as caught:
        write_atomically(tmp_path / "missing" / "x", "x")
    assert caught.value.strerror == "No such file or directory"


def test_text_that_is_not_unicode_is_one_line_error(tmp_path: Path) -> None:
    message = failure(tmp_path / "out.txt", "bad \ud800 surrogate")
    assert message.startswith(f"{tmp_path / 'out.txt'}: cannot write: ")
    assert os.listdir(tmp_path) == []


def test_permission_denied_is_one_line_error(tmp_path: Path) -> None:
    """In a folder the writer may not write in. Root may write anywhere, so as root a forked child drops to
    `nobody` first (the interpreter itself may not be runnable by nobody, so no new process is started)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "out.txt"
    try:
        if not IS_ROOT:
            assert failure(target) == f"{target}: cannot write: Permission denied"
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                try:
                    write_atomically(target, "x")
                    os.write(write_end, b"written")
                except KgError as err:
                    os.write(write_end, str(err).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            said = pipe.read().decode()
        assert os.waitpid(pid, 0)[1] == 0
        assert said == f"{target}: cannot write: Permission denied"
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


def test_read_only_existing_file_is_not_replaced(tmp_path: Path) -> None:
    """A file its owner made read-only stays as it is, as with the shell's `>`, though the folder is writable
    (a rename would otherwise replace it). Root may write any file, so this holds only for others."""
    target = tmp_path / "frozen.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o444)
    if IS_ROOT:
        write_atomically(target, "new")
        assert target.read_text(encoding="utf-8") == "new" and stat.S_IMODE(target.stat().st_mode) == 0o444
        return
    assert failure(target) == f"{target}: cannot write: Permission denied"
    assert target.read_text(encoding="utf-8") == "old"


# --- leftovers of killed writers -----------------------------------------------------------------------------


def test_leftovers_of_dead_writers_are_removed_and_of_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    dead = tmp_path / f".out.txt.{dead_pid()}.tmp"
    live = tmp_path / ".out.txt.1.tmp"  # pid 1 is always alive
    other = tmp_path / f".other.txt.{dead_pid()}.tmp"  # another target's: not this writer's business
    unrelated = tmp_path / ".out.txt.draft.tmp"  # not a pid: not a writer's file
    for path in (dead, live, other, unrelated):
        path.write_text("partial", encoding="utf-8")
    write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert not dead.exists()
    assert live.exists() and other.exists() and unrelated.exists()


CHILD_WRITER = """
import sys, time
from kg.output import write_atomically
text = ("0123456789abcdef" * 4 + "\\n") * (50 * 1024 * 1024 // 65)
print("go", flush=True)
start = time.monotonic()
write_atomically(sys.argv[1], text)
print(time.monotonic() - start, flush=True)
"""


@contextlib.contextmanager
def writer(target: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen([sys.executable, "-c", CHILD_WRITER, str(target)], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == "go\n"
        yield child
    finally:
        child.kill()
        child.wait(timeout=60)
        if child.stdout is not None:
            child.stdout.close()


def test_kill_9_mid_write_leaves_old_or_complete_file_and_next_write_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "big.txt"
    expected_size = len(("0123456789abcdef" * 4 + "\n") * (50 * 1024 * 1024 // 65))
    with writer(target) as child:  # one full run: how long the write takes here
        assert child.stdout is not None
        seconds = float(child.stdout.readline())
        assert child.wait(timeout=60) == 0
    assert target.stat().st_size == expected_size
    target.write_text("old\n", encoding="utf-8")
    rng = random.Random(20231203)
    interrupted = 0
    for _ in range(40):  # under load a write's duration varies: try until three kills landed mid-write
        with writer(target) as child:
            time.sleep(rng.uniform(0.1, 0.9) * seconds)
            child.kill()
            child.wait(timeout=60)
        size = target.stat().st_size
        assert size in (4, expected_size), f"a killed writer left a partial file of {size} bytes"
        if size == 4:
            assert target.read_text(encoding="utf-8") == "old\n"
        if leftovers(tmp_path, "big.txt"):
            interrupted += 1
            write_atomically(target, "old\n")  # the next write removes the dead writer's temporary file
            assert leftovers(tmp_path, "big.txt") == []
        else:
            write_atomically(target, "old\n")
        assert sorted(os.listdir(tmp_path)) == ["big.txt"]
        if interrupted >= 3:
            break
    assert interrupted >= 1, "no kill landed during a write: the test proved nothing"


# --- a full disk ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(folder: Path, options: str = "size=1m") -> Iterator[Path]:
    """A 1 MB tmpfs mounted on `folder` (root only; a skip where mounting is not permitted), always unmounted."""
    folder.mkdir()
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"mount not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_full_disk_is_one_line_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small") as small:
        target = small / "out.txt"
        target.write_text("old\n", encoding="utf-8")
        message = failure(target, "x" * (2 * 1024 * 1024))
        assert message == f"{target}: cannot write: No space left on device"
        assert target.read_text(encoding="utf-8") == "old\n"
        assert os.listdir(small) == ["out.txt"]
        write_atomically(target, "fits\n")  # and the space is free again
        assert target.read_text(encoding="utf-8") == "fits\n"


def test_read_only_filesystem_is_one_line_error(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", "size=1m,ro") as read_only:
        target = read_only / "out.txt"
        assert failure(target) == f"{target}: cannot write: Read-only file system"
        assert os.listdir(read_only) == []
