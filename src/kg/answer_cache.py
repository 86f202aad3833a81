"""The answer cache of every external endpoint `kg link` asks (Wikidata lookups, federated questions).

`CachedEngine` keeps the raw answers of an endpoint on disk (per endpoint and query text) and parses them with
the parser `kg.query.RemoteEngine` uses, so a cached answer and a fresh one are the same Result. Nothing
here is used by `kg query`, `kg stats` or the other reading commands: their answers are never cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kg.errors import KgError
from kg.graph import cache_dir
from kg.query import MEDIA_FORMATS, Engine, Prepared, RemoteEngine, Result, parse_answer
from kg.reading import read_capped

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"  # the default external endpoint of `kg link`
BATCH = 50  # join keys (or identifiers) bound per remote query
RETRIES, BACKOFF = 4, 2.0  # public endpoints rate-limit: ask again after 2, 4, 8, 16 s unless told otherwise
# The suffix of a cached answer is its format; each format is read back as its first media type.
CACHED_FORMATS = {fmt: media_type for media_type, fmt in reversed(MEDIA_FORMATS.items())}
T = TypeVar("T")
Progress = Callable[[int], None]


def batches(items: Sequence[T], size: int = BATCH) -> list[list[T]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


@dataclass
class CachedEngine(Engine):
    """`remote` with its answers kept on disk: `sparql/<hash of endpoint and query>.<format>` in the user's
    cache folder holds the endpoint's answer byte for byte. A cached entry that cannot be read or parsed is
    fetched again; a cache that cannot be written is no error. `sent` counts the queries that went out."""

    remote: RemoteEngine
    use_cache: bool = True
    sent: int = 0

    embedded = False

    def describe(self) -> str:
        return self.remote.describe()

    def entry(self, text: str) -> Path | None:
        """Where the answer to `text` is kept, without its format suffix (None: no cache folder)."""
        folder = cache_dir()
        if folder is None:
            return None
        digest = hashlib.sha256(f"{self.remote.endpoint}\n{text}".encode()).hexdigest()[:32]
        return folder / "sparql" / digest

    def _run(self, prepared: Prepared, limit_rows: int | None) -> Result:
        entry = self.entry(prepared.text)
        if self.use_cache and entry is not None:
            cached = self._cached(entry, limit_rows)
            if cached is not None:
                return cached
        self.sent += 1
        media_type, body = self.remote.send(prepared, lambda answer: (answer.media_type, answer.stream().read()))
        result = parse_answer(self.remote.endpoint, media_type, io.BytesIO(body), limit_rows)
        if entry is not None:  # parsed first: an answer that is not SPARQL results is never kept
            self._keep(entry, MEDIA_FORMATS[media_type], body)
        return result

    def _cached(self, entry: Path, limit_rows: int | None) -> Result | None:
        for fmt, media_type in CACHED_FORMATS.items():
            path = entry.with_suffix(f".{fmt}")
            try:  # a regular file within the answer size limit (a FIFO planted there cannot hold `kg`)
                body = read_capped(path, "answer_bytes", "a cached answer")
                return parse_answer(self.remote.endpoint, media_type, io.BytesIO(body), limit_rows)
            except (OSError, KgError):
                continue  # none, unreadable, too large or damaged: fetched again
        return None

    @staticmethod
    def _keep(entry: Path, fmt: str, body: bytes) -> None:
        from kg.files import write_atomically

        target = entry.with_suffix(f".{fmt}")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(target).st_mode):  # a FIFO, device or symlink is replaced, never
                    target.unlink()  # written through (write_atomically writes into what is not a file)
            write_atomically(target, body.decode("utf-8"))
            for other in CACHED_FORMATS.keys() - {fmt}:  # one answer per query: an older one in another format goes
                entry.with_suffix(f".{other}").unlink(missing_ok=True)
        except (OSError, KgError, UnicodeDecodeError):
            pass  # no cache is not an error (and an answer that is not UTF-8 is not kept)


def remote_engine(endpoint: str, timeout: float, refresh: bool = False) -> CachedEngine:
    """The engine for an external endpoint: kg.query.RemoteEngine with the retries public endpoints need,
    answers cached (`refresh`: asked again, and the cache renewed)."""
    return CachedEngine(RemoteEngine(endpoint, timeout, retries=RETRIES, backoff=BACKOFF), use_cache=not refresh)
