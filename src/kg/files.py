"""Writing an output file (every `-o FILE`) so that no reader ever sees half of it and nothing that is not
the writer's to replace gets replaced.

A regular file is written to a temporary file beside it, `.<name>.<pid>.tmp`, flushed to disk and renamed
over the old one; the rename is atomic, so a reader sees the old text or the new, and a writer killed at any
moment leaves the old file whole (its temporary file is removed by the next writer of that name). The new
file keeps the old one's mode and, where allowed, its owner and group. A symlink is written through: the
file it points to is replaced and the link stays. What is not a regular file (a terminal, /dev/null, a
FIFO, a descriptor such as /dev/stdout) is written to directly, because replacing it would break it.
`-` is standard output.

Every failure is a `WriteFailed`, a `KgError` reading `PATH: cannot write: <reason>`, and also an `OSError`
(with `errno` and `strerror`), so callers that catch `OSError` keep working.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import stat
import sys
import threading
from typing import BinaryIO

from kg.errors import KgError

__all__ = ["STDOUT", "WriteFailed", "is_stdout", "write_atomically"]

STDOUT = "-"
# Where a symlink names an open descriptor (/dev/stdout -> /proc/self/fd/1): its "target" is whatever the
# descriptor holds (a pipe, a terminal, a file opened by the shell), never a file to rename over.
_DESCRIPTORS = re.compile(r"/proc/[^/]+/(?:task/[^/]+/)?fd")
_TEMPORARY = re.compile(r"(\d+)(?:-\d+)?")  # the middle of `.<name>.<pid>.tmp` / `.<name>.<pid>-<n>.tmp`
_MAX_PID = 1 << 22  # Linux's PID_MAX_LIMIT: a larger number is not a writer's pid
_NAME_ROOM = 200  # the target name's share of a temporary file's name (NAME_MAX is 255)
_MAX_HOPS = 40  # symlinks followed before giving up, as the kernel does (ELOOP)

_lock = threading.Lock()
_active: set[str] = set()  # this process's temporary files in use (threads may write the same target)


class WriteFailed(KgError, OSError):
    """A file could not be written: `PATH: cannot write: <reason>`.

    Also an `OSError` carrying the cause's `errno` and `strerror`, because existing callers (kg.link,
    kg.federated's answer cache, the CLI) catch `OSError` around writes."""

    def __init__(self, shown: str, cause: OSError | str) -> None:
        reason = cause if isinstance(cause, str) else (cause.strerror or str(cause))
        super().__init__(f"{shown}: cannot write: {reason}")
        self.errno = None if isinstance(cause, str) else cause.errno
        self.strerror = reason

    def __str__(self) -> str:
        return str(self.args[0])  # OSError's own form would be "[Errno N] …"


def is_stdout(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is `-`, standard output, the usual Unix spelling (`Path("-")` too; a file really named
    `-` is written as `./-` by passing a str, since `Path("./-")` also reads `-`)."""
    return os.fspath(path) == STDOUT


def write_atomically(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write `text` as UTF-8 to `path` (see the module's doc for what happens to each kind of target); bytes
    (a workbook) are written as they are.

    `-` writes to standard output (a `BrokenPipeError` there is left to the caller, which knows how a closed
    pipe should end the program). Any other failure raises `WriteFailed` and leaves the old file whole."""
    shown = os.fspath(path)
    if is_stdout(shown):
        _write_stdout(text)
        return
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise WriteFailed(shown, f"the text is not valid Unicode ({err.reason} at character {err.start})") \
            from None
    try:
        target, descriptor = _locate(shown)
        try:
            info: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            if descriptor:
                raise
            info = None
        if descriptor or (info is not None and not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode)):
            _write_in_place(target, data, append=descriptor)
            return
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if info is not None and not _may_write(target):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        _replace(target, data, info)
    except OSError as err:
        raise WriteFailed(shown, err) from None


def _write_stdout(text: str | bytes) -> None:
    """`-o -`: the same UTF-8 bytes a file would get, on standard output."""
    stream = sys.stdout
    try:
        if stream is None:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        buffer: BinaryIO | None = getattr(stream, "buffer", None)  # None: text only (io.StringIO)
        if buffer is None:
            if isinstance(text, bytes):
                raise OSError(errno.EINVAL, "standard output takes only text here")
            stream.write(text)
            stream.flush()
            return
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        stream.flush()  # what was printed before comes first
        buffer.write(data)
        buffer.flush()
    except UnicodeEncodeError as err:
        raise WriteFailed("standard output", f"the text is not valid Unicode ({err.reason})") from None
    except BrokenPipeError:
        raise
    except OSError as err:
        raise WriteFailed("standard output", err) from None


def _locate(shown: str) -> tuple[str, bool]:
    """The file to write for `shown` (symlinks followed one by one) and whether it is reached through an
    open descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N). `os.path.realpath` will not do: it turns
    /dev/stdout into `pipe:[123]` or the path of the file the shell opened, which must not be renamed over."""
    current = shown if os.path.isabs(shown) else os.path.join(os.getcwd(), shown)
    for _ in range(_MAX_HOPS):
        folder, name = os.path.split(current)
        if name in ("", ".", ".."):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        folder = os.path.realpath(folder)
        current = os.path.join(folder, name)
        if _DESCRIPTORS.fullmatch(folder):
            return current, True
        if not os.path.islink(current):
            return current, False
        current = os.path.join(folder, os.readlink(current))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))


def _may_write(target: str) -> bool:
    """Whether the file's own permissions let this process write it: a rename could replace a read-only
    file (only the folder's permissions count for that), which the shell's `>` would refuse."""
    if os.access in os.supports_effective_ids:
        return os.access(target, os.W_OK, effective_ids=True)
    return os.access(target, os.W_OK)


def _write_in_place(target: str, data: bytes, append: bool) -> None:
    """Write straight into a device, a FIFO or a descriptor (no temporary file, no rename). A descriptor's
    file is appended to: the shell opened it (and truncated it for `>`), and `>>` must keep what it held."""
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if append:
        flags |= os.O_APPEND
    with open(os.open(target, flags), "wb") as handle:
        handle.write(data)


def _replace(target: str, data: bytes, info: os.stat_result | None) -> None:
    """Temporary file beside `target`, same mode and owner as the old file, fsync, rename, fsync the folder."""
    folder, name = os.path.split(target)
    _sweep(folder, name)
    temporary, fd = _reserve(folder, name)
    try:
        with open(fd, "wb") as handle:
            if info is not None:
                _keep_owner_and_mode(handle.fileno(), info)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        with _lock:
            _active.discard(temporary)
    _sync_folder(folder)


def _keep_owner_and_mode(fd: int, info: os.stat_result) -> None:
    """The old file's owner and group (only root may give a file away; others keep the group where they
    belong to it) and then its mode (after chown, which clears set-user-ID bits). A new file has already
    got 0666 less the umask from `os.open`."""
    if hasattr(os, "fchown") and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):
            os.fchown(fd, info.st_uid if os.geteuid() == 0 else -1, info.st_gid)
    os.fchmod(fd, stat.S_IMODE(info.st_mode))


def _temporary_name(name: str, tag: str) -> str:
    return f".{name[:_NAME_ROOM]}.{tag}.tmp"


def _reserve(folder: str, name: str) -> tuple[str, int]:
    """Create this process's temporary file for `name` (`.<name>.<pid>.tmp`; `-<n>` is added while another
    thread of this process writes the same name)."""
    pid = os.getpid()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for n in itertools.count():
        temporary = os.path.join(folder, _temporary_name(name, str(pid) if n == 0 else f"{pid}-{n}"))
        with _lock:
            if temporary in _active:
                continue
            _active.add(temporary)
        try:
            return temporary, os.open(temporary, flags, 0o666)  # the umask applies, as for any new file
        except FileExistsError:
            with _lock:
                _active.discard(temporary)
            if n >= 100:
                raise
        except BaseException:
            with _lock:
                _active.discard(temporary)
            raise
    raise AssertionError("unreachable")


def _sweep(folder: str, name: str) -> None:
    """Remove the temporary files of `name` left by writers that died (killed, power cut): those whose pid
    is no longer running, and this process's own that no thread is using. Only regular files this user
    owns are removed, and any error is ignored: sweeping is housekeeping, never a reason to fail."""
    prefix = f".{name[:_NAME_ROOM]}."
    me = os.getpid()
    try:
        entries = [e for e in os.listdir(folder) if e.startswith(prefix) and e.endswith(".tmp")]
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry[len(prefix):-len(".tmp")])
        if match is None:
            continue
        pid = int(match.group(1))
        path = os.path.join(folder, entry)
        if pid == me:
            with _lock:
                if path in _active:
                    continue
        elif not 0 < pid < _MAX_PID or _alive(pid):
            continue
        try:
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode) and (os.geteuid() in (0, info.st_uid)):
                os.unlink(path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (`kill(pid, 0)` sends nothing). Where that test is unavailable every
    writer counts as alive, so nothing is removed (on Windows `os.kill` would end the process)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, as another user
    return True


def _sync_folder(folder: str) -> None:
    """Flush the folder's entry for the renamed file, so a power cut after success cannot undo the rename.
    Folders that cannot be opened or synced (no read permission, filesystems without directory fsync) are
    left alone: the file is already in place."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EROFS):
            raise
    finally:
        os.close(fd)
