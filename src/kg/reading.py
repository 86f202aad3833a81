"""Reading an input file (a Turtle file, a stored question or check, a report text) so that no input can
hold a command forever or fill its memory.

The file's type and size are checked with `os.stat` before it is opened, because opening a FIFO waits for
a writer forever and a device such as /dev/zero never ends; the open itself does not block, and the checks
are repeated on the open file in case the path was swapped in between. At most limit + 1 bytes are read,
so a file that grows meanwhile is refused too. Every failure is one `KgError` naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kg.errors import KgError, LimitExceeded
from kg.limits import int_limit

# Open without blocking (a FIFO that slipped past the stat check), and in binary mode on Windows.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_capped(path: Path, limit_name: str, what: str, label: str | None = None) -> bytes:
    """The bytes of the regular file `path`, at most the `limit_name` limit (see kg.limits).

    `what` names the kind of file in the size message ("one Turtle file"); `label` starts every message
    (default: the path)."""
    label = str(path) if label is None else label
    cap = int_limit(limit_name)

    def check(info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise KgError(f"{label}: not a regular file")
        if info.st_size > cap:
            raise too_large(info.st_size)

    def too_large(size: int) -> LimitExceeded:
        return LimitExceeded(f"{label}: {size:,} bytes, more than the size limit of {cap:,} bytes for {what}",
                             limit_name)

    try:
        check(os.stat(path))
        fd = os.open(path, OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            check(os.fstat(handle.fileno()))
            data = handle.read(cap + 1)
    except FileNotFoundError:
        raise KgError(f"{label}: cannot read: no such file") from None
    except OSError as err:
        raise KgError(f"{label}: cannot read: {err.strerror or err}") from None
    if len(data) > cap:
        raise too_large(len(data))
    return data


def decode_utf8(data: bytes, label: str) -> str:
    """`data` as text, or a KgError naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise KgError(f"{label}: not UTF-8 text (line {line})") from None


def read_text(path: Path, limit_name: str, what: str, label: str | None = None) -> str:
    """`read_capped` and `decode_utf8` in one: the text of a regular UTF-8 file within its limit."""
    return decode_utf8(read_capped(path, limit_name, what, label), str(path) if label is None else label)
