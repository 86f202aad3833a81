"""The command's guard: a wall-clock budget for the whole run, and Ctrl-C that works whatever is running.

pyoxigraph evaluates a query in Rust with the GIL released, so a cross product neither returns to Python
nor lets Python's SIGINT handler run: Ctrl-C is ignored and no timer in the main thread can fire. The
guard is a separate thread that waits on a pipe fed by the C-level signal handler (`signal.set_wakeup_fd`)
with a timeout equal to the budget. On a signal or at the budget it prints one `kg:` line and ends the
process with exit code 2 (`os._exit`: the main thread may be deep inside a query it cannot leave), after killing
any child process (the reasoner's JVM), so nothing outlives the command.
Temporary files of an interrupted write are left for the next writer to clean (see `kg.files`).

Only the `kg` entry point starts the guard; library callers and tests that invoke the CLI in-process are
not affected.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time

EXIT_ERROR = 2
_started = False


def _say(message: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        os.write(2, f"kg: {message}\n".encode("utf-8", "replace"))


def _end(message: str) -> None:
    """Say why, stop any child process (HermiT's JVM) so nothing outlives the command, and exit 2."""
    _say(message)
    for child in _children():
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    os._exit(EXIT_ERROR)


def _children() -> list[int]:
    """Process ids whose parent is this process (read from /proc; empty where there is none)."""
    me, found = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[1]) == me:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def start(seconds: float, hint: str = "") -> None:
    """Guard the rest of this process: at most `seconds` of wall-clock time, and prompt SIGINT/SIGTERM."""
    global _started
    if _started or threading.current_thread() is not threading.main_thread():
        return
    _started = True
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: None)  # the guard thread acts; Python's handler does nothing
    deadline = time.monotonic() + seconds

    def guard() -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _end(f"time limit of {seconds:g} s hit; nothing was answered{hint}")
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                data = os.read(read_end, 64)
                if any(b in (signal.SIGINT, signal.SIGTERM) for b in data):
                    _end("interrupted" if signal.SIGINT in data else "terminated")

    threading.Thread(target=guard, name="kg-watchdog", daemon=True).start()
