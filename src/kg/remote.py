"""The one HTTP client: SPARQL queries to an endpoint and Graph Store Protocol uploads, within hard limits.

Every remote call goes through `exchange`, which enforces what a reader of `kg` is promised:

- **a wall-clock budget for the whole request** — connecting, sending, waiting, every byte of the answer —
  not one socket read: a server trickling a byte every two seconds is cut off at the budget;
- **a size limit** on the answer, read as a stream, so `LIMIT`-like early stops read only what they need;
- **no host the user did not name**: a redirect to another host or port is refused, loops are refused;
- **credentials never echoed**: `http://user:pass@host/…` is sent as Basic authentication and shown as
  `http://host/…` in every message;
- **retries only where the server asks for them**: 429 and 503 with a `Retry-After` that fits the budget.

Queries are always sent as `query=` (SPARQL 1.1 Protocol §2.1): SPARQLWrapper builds the request, but its
own choice between `query=` and `update=` (a regular expression over the text) is overridden, so a text
that slipped past `kg.sparql` could still only ever reach the server's query parser, never its update one.
"""

from __future__ import annotations

import io
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, TYPE_CHECKING, TypeVar

from kg import __version__
from kg.errors import KgError, LimitExceeded, Refused
from kg.limits import int_limit

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer  # typeshed's name for what `readinto` fills (stubs only)

USER_AGENT = f"crossroads-kg/{__version__} (https://w3id.org/crossroads-kg; kg command-line tool)"
RETRY_STATUSES = (429, 503)
MAX_TRIES = 4
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
T = TypeVar("T")


def redact(url: str) -> str:
    """`url` without its user name and password, for messages."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user info, (user, password) or None); a URL that is not http(s) is refused."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise KgError(f"not a valid URL: {redact(url)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KgError(f"an endpoint must be an http(s) URL, got {redact(url)!r}")
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in (parts.hostname or "") and not netloc.startswith("["):
        netloc = f"[{parts.hostname}]" + (f":{port}" if port else "")
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    if parts.username is None:
        return clean, None
    user = urllib.parse.unquote(parts.username)
    return clean, (user, urllib.parse.unquote(parts.password or ""))


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same scheme, host and port; anything else was not named by the user."""

    max_redirections = 5

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise Refused(f"{redact(req.full_url)} redirected to another host ({redact(newurl)}); "
                          "only the host given is contacted")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects)


class Deadline:
    """A point in time by which a request must be finished."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, url: str) -> None:
        if self.left() <= 0:
            raise self.exceeded(url)

    def exceeded(self, url: str) -> LimitExceeded:
        return LimitExceeded(f"{redact(url)} gave no complete answer within the time limit of "
                             f"{self.seconds:g} s", "request_seconds")


class CappedReader(io.RawIOBase):
    """A response body read in chunks, stopping at the deadline or the size limit."""

    def __init__(self, response: IO[bytes], url: str, deadline: Deadline, max_bytes: int) -> None:
        self.response, self.url, self.deadline, self.max_bytes = response, url, deadline, max_bytes
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self.deadline.check(self.url)
        with memoryview(buffer) as exported, exported.cast("B") as view:  # bytes, whatever the item format
            chunk = self.response.read1(min(len(view), 65536)) if hasattr(self.response, "read1") \
                else self.response.read(min(len(view), 65536))
            self.read_bytes += len(chunk)
            if self.read_bytes > self.max_bytes:
                raise LimitExceeded(f"the answer from {redact(self.url)} is larger than the size limit of "
                                    f"{self.max_bytes:,} bytes", "answer_bytes")
            view[: len(chunk)] = chunk
        return len(chunk)


@dataclass(frozen=True)
class Answer:
    """What a consumer gets: the status, the media type and the body as a capped stream."""

    status: int
    media_type: str
    body: CappedReader

    def stream(self) -> IO[bytes]:
        """The body as a buffered binary file, as parsers expect it."""
        return io.BufferedReader(self.body)


def exchange(request: urllib.request.Request, consume: Callable[[Answer], T], timeout: float,
             max_bytes: int | None = None, tries: int = MAX_TRIES, backoff: float = 1.0) -> T:
    """Send `request` and hand the answer to `consume`, all within `timeout` seconds of wall-clock time.

    The exchange runs in a worker thread so that the budget holds even while a read blocks; when the budget
    runs out, the caller gets a LimitExceeded at once and the worker is abandoned (its socket times out).
    429 and 503 are tried again up to `tries` times in all, after the server's Retry-After or else after
    `backoff` × 2^attempt seconds, while the budget allows. HTTP errors become one KgError with the status and
    the first line the server gave.
    """
    url = request.full_url
    deadline = Deadline(timeout)
    cap = int_limit("answer_bytes") if max_bytes is None else max_bytes
    values: list[T] = []  # what the worker hands back: the answer, or the error it raised
    errors: list[BaseException] = []

    def work() -> None:
        try:
            values.append(_exchange(request, consume, deadline, cap, tries, backoff))
        except BaseException as err:  # handed to the waiting thread, without the frames of this one: they
            # hold pyoxigraph objects that must be dropped on the thread that made them
            err.__context__ = err.__cause__ = None
            errors.append(err.with_traceback(None))

    worker = threading.Thread(target=work, name="kg-http", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.left()) + 0.05)
    if worker.is_alive():
        raise deadline.exceeded(url)
    if errors:
        raise errors[0]
    return values[0]


def _exchange(request: urllib.request.Request, consume: Callable[[Answer], T], deadline: Deadline,
              cap: int, tries: int, backoff: float) -> T:
    url = request.full_url
    for attempt in range(1, tries + 1):
        deadline.check(url)
        try:
            response = _OPENER.open(request, timeout=max(0.05, deadline.left()))
        except KgError:
            raise  # a refused redirect
        except urllib.error.HTTPError as err:
            wait = _retry_after(err, backoff * 2 ** (attempt - 1))
            if err.code in RETRY_STATUSES and attempt < tries and wait is not None and wait < deadline.left():
                err.close()
                time.sleep(wait)
                continue
            raise _http_error(url, err) from None
        except (TimeoutError, OSError, ValueError, urllib.error.URLError) as err:
            if deadline.left() <= 0 or isinstance(getattr(err, "reason", err), TimeoutError):
                raise deadline.exceeded(url) from None
            raise KgError(f"{redact(url)} unreachable: {_reason(err)}") from None
        except Exception as err:  # http.client.RemoteDisconnected, BadStatusLine, IncompleteRead…
            raise KgError(f"{redact(url)} failed: {type(err).__name__}: {_reason(err)}") from None
        with response:
            media = (response.headers.get_content_type() or "").lower()
            answer = Answer(response.status, media, CappedReader(response, url, deadline, cap))
            try:
                return consume(answer)
            except (KgError, LimitExceeded):
                raise
            except (TimeoutError, OSError) as err:
                if deadline.left() <= 0 or isinstance(err, TimeoutError):
                    raise deadline.exceeded(url) from None
                raise KgError(f"{redact(url)} broke off its answer: {_reason(err)}") from None
            except Exception as err:  # http.client.IncompleteRead and friends
                raise KgError(f"{redact(url)} broke off its answer: {type(err).__name__}") from None
    raise KgError(f"{redact(url)} kept answering 'try again later' ({tries} tries)")


def _retry_after(err: urllib.error.HTTPError, otherwise: float) -> float | None:
    """Seconds the server asks us to wait (Retry-After in seconds), else `otherwise`."""
    raw = err.headers.get("Retry-After") if err.headers else None
    if raw is None:
        return otherwise
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: not worth parsing for a budget of seconds


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err) or type(err).__name__
    return " ".join(str(reason).split())[:200]


def _http_error(url: str, err: urllib.error.HTTPError) -> KgError:
    try:
        detail = err.read(65536).decode("utf-8", "replace")
    except Exception:
        detail = ""
    finally:
        err.close()
    first = next((line.strip() for line in detail.splitlines() if line.strip()), "")
    if "<html" in first.lower() or first.startswith("<!"):
        first = ""
    hint = f": {first[:300]}" if first else (f": {err.reason}" if err.reason else "")
    return KgError(f"{redact(url)} answered HTTP {err.code}{hint}")


def query_request(endpoint: str, sparql: str, accept: str = "application/sparql-results+json") -> \
        urllib.request.Request:
    """A SPARQL 1.1 Protocol query request (POST, form-encoded `query=`), built by SPARQLWrapper."""
    from SPARQLWrapper import POST, SELECT, SPARQLWrapper

    url, credentials = split_credentials(endpoint)
    client = SPARQLWrapper(url, agent=USER_AGENT)
    client.setQuery(sparql)
    client.queryType = SELECT  # always `query=`: SPARQLWrapper's regex would pick `update=` for some texts
    client.setMethod(POST)
    if credentials:
        client.setCredentials(*credentials)
    request = client._createRequest()
    request.add_header("Accept", accept)
    if not isinstance(request.data, bytes) or not request.data.startswith(b"query="):
        raise Refused("internal safeguard: a query request must carry query=")
    return request


def put_request(url: str, body: bytes, media_type: str) -> urllib.request.Request:
    """A Graph Store Protocol PUT (used by `kg.load`)."""
    import base64

    clean, credentials = split_credentials(url)
    headers = {"Content-Type": media_type, "User-Agent": USER_AGENT}
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return urllib.request.Request(clean, data=body, method="PUT", headers=headers)


def get_request(url: str, accept: str) -> urllib.request.Request:
    import base64

    clean, credentials = split_credentials(url)
    headers = {"Accept": accept, "User-Agent": USER_AGENT}
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return urllib.request.Request(clean, method="GET", headers=headers)
