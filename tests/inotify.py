"""Waiting for a file event without spinning: Linux inotify through ctypes (no package needed).

The kill tests must stop a `kg` process the moment a temp file appears or its output changes. A loop that polls
`os.listdir` without sleeping catches that too, but keeps a core busy for the whole run of the process it
watches — on a 2-core machine that is the CPU of the process under test. inotify wakes the test only when the
kernel reports an event in a watched folder, with the file's name, so a temp file that lives for a millisecond is
seen as surely as by polling. Where inotify is missing (not Linux), `Watch` is None and callers poll.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from collections.abc import Iterator
from pathlib import Path

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
EVENTS = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
_HEADER = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1  # noqa: B018 (absent outside Linux)
    except (OSError, AttributeError):
        return None
    return libc


class Watch:
    """An inotify instance watching folders for created, moved-in, written and changed files."""

    def __init__(self, libc: ctypes.CDLL, folders: tuple[Path, ...]) -> None:
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folders: dict[int, Path] = {}
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            wd = libc.inotify_add_watch(self.fd, os.fsencode(folder), EVENTS)
            if wd < 0:
                os.close(self.fd)
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder} failed")
            self.folders[wd] = folder

    def events(self, timeout: float) -> Iterator[Path]:
        """The paths named by the events that arrive within `timeout` seconds (none if nothing happened)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        offset = 0
        while offset < len(data):
            wd, _mask, _cookie, length = _HEADER.unpack_from(data, offset)
            raw = data[offset + _HEADER.size:offset + _HEADER.size + length].rstrip(b"\0")
            offset += _HEADER.size + length
            yield self.folders.get(wd, Path("/")) / os.fsdecode(raw)

    def close(self) -> None:
        os.close(self.fd)


def watch(folders: tuple[Path, ...]) -> Watch | None:
    """A Watch on `folders`, or None where inotify is not available."""
    libc = _libc()
    return Watch(libc, folders) if libc is not None else None
