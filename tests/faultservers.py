"""Misbehaving HTTP servers on loopback, for the fault battery of the remote commands (tests/test_faults_remote.py).

Each kind is a context manager that starts a `ThreadingHTTPServer` on port 0 of a loopback address (127.0.0.1
by default; 127.0.0.2 is loopback too on Linux and serves as "a host the user did not name"), runs it in a daemon
thread, yields a `Served` — the URL (a `str`) carrying the requests received and the bytes sent — and always
shuts the server down. Nothing here talks to anything but 127.0.0.0/8, and every loop is bounded: by a number
of bytes or rows, by a maximum duration, and by the server being stopped.

Kinds:

- `select(rows)`   a valid SPARQL JSON SELECT answer;       `ask(value)`   a valid boolean answer;
- `slow(delay)`    a valid answer after `delay` seconds;    `silent()`     reads the request, never answers
                                                                           (closes after at most 60 s);
- `status(code, body, headers, times=None)`  answers `code` (forever, or for the first `times` requests and
                   then a valid SELECT answer) — 500 with a text body, 429 with `Retry-After: 1`…;
- `html()`         200 with a text/html page;               `truncated()`  a valid header, then SPARQL JSON cut
                                                                           in the middle, then close;
- `huge(rows)`     a valid SELECT answer of ~200 bytes a row (1,000,000 rows ≈ 200 MB) generated on the fly
                   and streamed in chunks; `Served.sent` counts the body bytes the client took before hanging
                   up, `Served.total` is the whole answer's size;
- `trickle(interval)` a valid answer sent one byte every `interval` seconds (optionally the status line and
                   headers too);
- `redirect_loop()` 302 to itself;                          `redirect_to(url)` 302 to another URL;
- `closed()`       the URL of a loopback port nobody listens on (connection refused).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MAX_SECONDS = 60.0  # no handler of any kind lives longer than this
MAX_REQUEST_BODY = 64 * 1024 * 1024
JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class State:
    """What a server shares between its handler threads and the test."""

    requests: list[Request] = field(default_factory=list)
    sent: int = 0  # body bytes written to the socket without error
    total: int = 0  # the size of the whole answer, where a kind knows it (huge)
    hangups: int = 0  # answers the client broke off
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: threading.Condition = field(default_factory=threading.Condition)
    active: int = 0


class Served(str):
    """The URL of a running server (it *is* the URL string), with what the server saw and did."""

    state: State
    host: str
    port: int
    base: str

    @property
    def requests(self) -> list[Request]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def sent(self) -> int:
        return self.state.sent

    @property
    def total(self) -> int:
        return self.state.total

    @property
    def hangups(self) -> int:
        return self.state.hangups

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered (so `sent` is final); False when `timeout` ran out."""
        end = time.monotonic() + timeout
        with self.state.idle:
            while self.state.active:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.state.idle.wait(left)
        return True


class _Handler(http.server.BaseHTTPRequestHandler):
    behaviour: Callable[[_Handler, State], None]
    state: State
    server_version = "faultserver/1"
    timeout = MAX_SECONDS  # a client that sends half a request cannot hold a thread longer than this

    def _any(self) -> None:
        state = self.state
        with state.idle:
            state.active += 1
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(max(length, 0), MAX_REQUEST_BODY)) if length else b""
            with state.lock:
                state.requests.append(Request(self.command, self.path, dict(self.headers.items()), body,
                                              time.monotonic()))
            with contextlib.suppress(OSError):
                type(self).behaviour(self, state)
        finally:
            self.close_connection = True
            with state.idle:
                state.active -= 1
                state.idle.notify_all()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

    def log_message(self, *args: object) -> None:
        pass

    # helpers for behaviours
    def answer(self, code: int, body: bytes, content_type: str | None = JSON,
               headers: dict[str, str] | None = None, length: bool = True) -> None:
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self.state.sent += len(body)


@contextlib.contextmanager
def serve(behaviour: Callable[[_Handler, State], None], host: str = "127.0.0.1", path: str = "/sparql",
          state: State | None = None) -> Iterator[Served]:
    """Run a server whose every request is answered by `behaviour(handler, state)`; yield its URL."""
    if not host.startswith("127."):
        raise ValueError("fault servers bind on loopback (127.0.0.0/8) only")
    state = state or State()
    handler = type("FaultHandler", (_Handler,), {"behaviour": staticmethod(behaviour), "state": state})
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    served = Served(f"http://{host}:{port}{path}")
    served.state, served.host, served.port, served.base = state, host, port, f"http://{host}:{port}"
    try:
        yield served
    finally:
        state.stop.set()  # lets silent, slow and trickling handlers end now
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---- answers --------------------------------------------------------------------------------------------------

def _term(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    text = str(value)
    if text.startswith(("http://", "https://", "urn:")):
        return {"type": "uri", "value": text}
    return {"type": "literal", "value": text}


DEFAULT_ROWS: list[dict[str, object]] = [
    {"s": "http://ex/alpha", "p": "http://ex/name", "o": "Alpha"},
    {"s": "http://ex/beta", "p": "http://ex/name", "o": "Beta"},
]


def select_body(rows: list[dict[str, object]] | None = None, variables: list[str] | None = None) -> bytes:
    """A SPARQL 1.1 JSON SELECT answer; plain values are literals, or IRIs when they look like one."""
    rows = DEFAULT_ROWS if rows is None else rows
    if variables is None:
        variables = []
        for row in rows:
            variables += [v for v in row if v not in variables]
        variables = variables or ["s", "p", "o"]
    bindings = [{var: _term(value) for var, value in row.items()} for row in rows]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}).encode()


def ask_body(value: bool) -> bytes:
    return json.dumps({"head": {}, "boolean": bool(value)}).encode()


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n"
             b"<body><h1>It works!</h1><p>This is not a SPARQL endpoint.</p></body></html>\n")


# ---- kinds ----------------------------------------------------------------------------------------------------

def select(rows: list[dict[str, object]] | None = None, variables: list[str] | None = None,
           **where: str) -> contextlib.AbstractContextManager[Served]:
    """A valid SELECT answer to every request (it does not run the query)."""
    body = select_body(rows, variables)
    return serve(lambda h, st: h.answer(200, body), **where)


def ask(value: bool = True, **where: str) -> contextlib.AbstractContextManager[Served]:
    body = ask_body(value)
    return serve(lambda h, st: h.answer(200, body), **where)


def slow(delay: float, **where: str) -> contextlib.AbstractContextManager[Served]:
    """A valid SELECT answer after `delay` seconds (or as soon as the server stops)."""
    body = select_body()

    def behaviour(h: _Handler, st: State) -> None:
        if not st.stop.wait(min(delay, MAX_SECONDS)):
            h.answer(200, body)

    return serve(behaviour, **where)


def silent(max_seconds: float = MAX_SECONDS, **where: str) -> contextlib.AbstractContextManager[Served]:
    """Reads the request and sends nothing, closing the connection after at most `max_seconds`."""
    wait = min(max_seconds, MAX_SECONDS)
    return serve(lambda h, st: st.stop.wait(wait), **where)


def status(code: int, body: str | bytes = b"", headers: dict[str, str] | None = None, times: int | None = None,
           content_type: str = "text/plain; charset=utf-8", then: bytes | None = None,
           **where: str) -> contextlib.AbstractContextManager[Served]:
    """Answer `code` with `body` and `headers` — to every request, or to the first `times` requests and then
    `then` (a valid SELECT answer by default)."""
    raw = body.encode() if isinstance(body, str) else body
    after = select_body() if then is None else then
    counter = {"n": 0}
    lock = threading.Lock()

    def behaviour(h: _Handler, st: State) -> None:
        with lock:
            counter["n"] += 1
            n = counter["n"]
        if times is None or n <= times:
            h.answer(code, raw, content_type, headers)
        else:
            h.answer(200, after)

    return serve(behaviour, **where)


def html(code: int = 200, **where: str) -> contextlib.AbstractContextManager[Served]:
    """An HTML page (a web server's welcome page, a login form…), with status `code`."""
    return serve(lambda h, st: h.answer(code, HTML_PAGE, "text/html; charset=utf-8"), **where)


def truncated(content_length: bool = True, **where: str) -> contextlib.AbstractContextManager[Served]:
    """A 200 SPARQL JSON header, then half of a valid answer, then the connection is closed. With
    `content_length`, the header announces the whole answer's length (so the cut is visible to HTTP too);
    without, the body simply ends (HTTP/1.0 style) and only the JSON is incomplete."""
    whole = select_body([{"s": f"http://ex/{i}", "o": f"value {i}"} for i in range(50)])
    part = whole[: len(whole) // 2]

    def behaviour(h: _Handler, st: State) -> None:
        h.send_response(200)
        h.send_header("Content-Type", JSON)
        if content_length:
            h.send_header("Content-Length", str(len(whole)))
        h.end_headers()
        h.wfile.write(part)
        h.wfile.flush()
        st.sent += len(part)

    return serve(behaviour, **where)


HUGE_HEAD = b'{"head":{"vars":["s","p","o"]},"results":{"bindings":[\n'
HUGE_TAIL = b"\n]}}\n"
PADDING = "x" * 64


def huge_row(i: int) -> bytes:
    """Row `i` of the huge answer: always the same length (about 200 bytes)."""
    return (f'{{"s":{{"type":"uri","value":"http://ex/s{i:010d}"}},"p":{{"type":"uri","value":"http://ex/p"}},'
            f'"o":{{"type":"literal","value":"{PADDING} {i:010d}"}}}}').encode()


def huge(rows: int = 1_000_000, chunk_rows: int = 500, **where: str) -> contextlib.AbstractContextManager[Served]:
    """A valid SELECT answer of `rows` rows (1,000,000 ≈ 200 MB), generated and sent in chunks, never held in
    memory; it stops at the first write the client no longer takes. `sent` counts what was written."""
    state = State()
    state.total = len(HUGE_HEAD) + rows * len(huge_row(0)) + (rows - 1) * 2 + len(HUGE_TAIL)

    def behaviour(h: _Handler, st: State) -> None:
        h.send_response(200)
        h.send_header("Content-Type", JSON)
        h.send_header("Content-Length", str(st.total))
        h.end_headers()
        end = time.monotonic() + MAX_SECONDS
        try:
            h.wfile.write(HUGE_HEAD)
            st.sent += len(HUGE_HEAD)
            for start in range(0, rows, chunk_rows):
                if st.stop.is_set() or time.monotonic() > end:
                    return
                chunk = b",\n".join(huge_row(i) for i in range(start, min(rows, start + chunk_rows)))
                if start:
                    chunk = b",\n" + chunk
                h.wfile.write(chunk)
                st.sent += len(chunk)
            h.wfile.write(HUGE_TAIL)
            st.sent += len(HUGE_TAIL)
        except OSError:
            st.hangups += 1

    return serve(behaviour, state=state, **where)


def trickle(interval: float, headers_too: bool = False, max_bytes: int = 4096,
            **where: str) -> contextlib.AbstractContextManager[Served]:
    """A valid answer sent one byte every `interval` seconds (the body only, or with `headers_too` the status
    line and headers as well), for at most `max_bytes` bytes and MAX_SECONDS."""
    body = select_body()

    def behaviour(h: _Handler, st: State) -> None:
        head = (f"HTTP/1.0 200 OK\r\nContent-Type: {JSON}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        if headers_too:
            payload = head + body
        else:
            h.wfile.write(head)
            h.wfile.flush()
            payload = body
        end = time.monotonic() + MAX_SECONDS
        try:
            for i in range(min(len(payload), max_bytes)):
                if st.stop.is_set() or time.monotonic() > end:
                    return
                h.wfile.write(payload[i:i + 1])
                h.wfile.flush()
                st.sent += 1
                if st.stop.wait(interval):
                    return
        except OSError:
            st.hangups += 1

    return serve(behaviour, **where)


def redirect_loop(code: int = 302, **where: str) -> contextlib.AbstractContextManager[Served]:
    """`code` to the very URL asked for, forever (each answer is one bounded request)."""
    return serve(lambda h, st: h.answer(code, b"", None, {"Location": h.path}), **where)


def redirect_to(url: str, code: int = 302, **where: str) -> contextlib.AbstractContextManager[Served]:
    """`code` to `url` (say, a server on 127.0.0.2: a host the user did not name)."""
    return serve(lambda h, st: h.answer(code, b"", None, {"Location": url}), **where)


@contextlib.contextmanager
def closed(host: str = "127.0.0.1", path: str = "/sparql") -> Iterator[Served]:
    """A URL on a loopback port that was free a moment ago and that nothing listens on."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    served = Served(f"http://{host}:{port}{path}")
    served.state, served.host, served.port, served.base = State(), host, port, f"http://{host}:{port}"
    yield served
