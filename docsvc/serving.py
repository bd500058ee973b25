"""How `docsvc serve` runs gunicorn: the one place for its configuration and worker class.

Why a worker of our own: gunicorn's sync and gthread workers read a request's headers and
body in the thread that then runs the application, so a client sending one byte per
second holds that thread (and a sync worker) for as long as it likes. `BufferingWorker`
is gunicorn's gthread worker in which the event loop first reads the whole request (head
and a body of announced length) without blocking, as a buffering proxy would, and hands
it to a thread only once it is complete. A client that has not sent its request within
`client_timeout` seconds gets `408` and is closed; it never held a thread.

The worker also answers gunicorn's own errors (400, 414, 431...) as problem+json, and
recycles itself after a request that left it bigger than `max_rss_mb` (WeasyPrint and
the allocator rarely give memory back), besides gunicorn's max_requests with jitter.

No request outlives DOCSVC_REQUEST_TIMEOUT without an answer (`RequestDeadline`): the
application runs in a thread of its own and the worker's thread waits for it at most that
long, then answers 503 problem+json with Retry-After. The application thread goes on to
the end, so an issue it had started is completed (files, then resource): a retry finds the
original, or, arriving meanwhile, runs on its own and ends with the same original (the
archive is write-once and IssueDocument reuses files already written). A worker that
stops (recycled, max_requests) first lets such runs finish. If gunicorn's arbiter still
aborts a worker (WORKER_TIMEOUT, its loop starved), requests in flight get 503
problem+json too, never gunicorn's HTML page, and a retry completes what the killed run
left.
"""
from __future__ import annotations

import ctypes
import errno
import io
import json
import logging
import math
import os
import re
import selectors
import socket
import struct
import threading
import time
from functools import partial

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from .processes import recycle_bloated, rss_mb
from .settings import WORKER_TIMEOUT

log = logging.getLogger("docsvc.serving")

#: Threads per worker: one renders while the others answer health checks, reads and
#: validations. Rendering is CPU-bound, so more threads buy latency, not throughput.
THREADS = 4
#: Seconds a connection refused from the loop (413, 400) is read away before it is closed.
DRAIN = 2
#: Seconds an idle kept-alive connection stays open.
KEEPALIVE = 5
#: Requests before a worker is replaced (plus up to JITTER, so workers don't restart together).
MAX_REQUESTS, MAX_REQUESTS_JITTER = 2000, 200
#: gunicorn's own limits on the request line and headers (414 and 431 beyond).
LIMIT_REQUEST_LINE, LIMIT_REQUEST_FIELDS, LIMIT_REQUEST_FIELD_SIZE = 8190, 64, 8190

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*(?=\r\n)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.I)
#: a body sent in chunks and nothing else: the loop hands it to a thread with a Content-Length
_CHUNKED_ONLY = re.compile(rb"\r\ntransfer-encoding[ \t]*:[ \t]*chunked[ \t]*(?=\r\n)", re.I)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*(?=\r\n)", re.I)
_REASONS = {400: "Bad Request", 403: "Forbidden", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
_SLUGS = {400: "bad-request", 408: "request-timeout", 413: "too-large", 414: "uri-too-long", 431: "headers-too-large",
          501: "not-implemented", 503: "timeout"}


def problem_body(status: int, reason: str | None = None, detail: str | None = None) -> bytes:
    reason = _REASONS.get(status, reason or "Error")
    return json.dumps({"type": "https://docsvc.dev/problems/" + _SLUGS.get(status, "http-error"),
                       "title": reason, "status": status,
                       "detail": detail or f"The request was refused by the HTTP layer ({reason})."}).encode()


def problem_bytes(status: int, reason: str | None = None, detail: str | None = None,
                  retry_after: int | None = None) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    body = problem_body(status, reason, detail)
    retry = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, reason or 'Error')}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\n{retry}Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
    return head + body


def timeout_detail(seconds: float) -> str:
    return (f"The request took longer than DOCSVC_REQUEST_TIMEOUT ({seconds:g} s). It goes on in the "
            "background: retry the same request after Retry-After seconds; a retry of an issue answers the "
            "original once it is archived, or completes it.")


# ------------------------------------------------------------ the request deadline


class _Run:
    """One run of the application for a request, in its own thread."""

    def __init__(self):
        self.done = threading.Event()
        self.status: str | None = None
        self.headers: list = []
        self.exc_info = None
        self.result = None  # the response iterable
        self.error: BaseException | None = None
        self.abandoned = False  # answered 503 at the deadline: nobody takes the result
        self.lock = threading.Lock()


class RequestDeadline:
    """WSGI middleware: the application runs in a thread per request; the worker's thread
    waits for it at most `seconds`, then answers 503 problem+json with Retry-After and
    leaves the run to finish (its answer is dropped). Issuing is idempotent and the archive
    write-once, so a retry after a 503 finds the original, or completes it."""

    def __init__(self, app, seconds: float, retry_after: int | None = None):
        self.app = app
        self.seconds = seconds
        self.retry_after = retry_after or max(1, math.ceil(seconds))
        self.lock = threading.Lock()
        self.running: set[threading.Thread] = set()

    def __getattr__(self, name: str):
        """The application's attributes (Flask's `extensions`: what gunicorn's worker_exit
        hook flushes, the audit trail's buffer)."""
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        self._buffer(environ)
        run = _Run()
        thread = threading.Thread(target=self._run, args=(environ, run), daemon=True, name="docsvc-request")
        with self.lock:
            self.running.add(thread)
        thread.start()
        if not run.done.wait(self.seconds):
            with run.lock:
                run.abandoned = not run.done.is_set()
            if run.abandoned:
                mark(environ, "answering")
                log.warning("request past DOCSVC_REQUEST_TIMEOUT (%g s): answered 503, still running", self.seconds,
                            extra={"fields": {"method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO"),
                                              "request_id": environ.get("HTTP_X_REQUEST_ID")}})
                body = problem_body(503, detail=timeout_detail(self.seconds))
                start_response("503 Service Unavailable", [
                    ("Content-Type", "application/problem+json"), ("Content-Length", str(len(body))),
                    ("Retry-After", str(self.retry_after)), ("Connection", "close")])
                return [body]
        mark(environ, "answering")
        if run.error is not None:
            raise run.error
        assert run.status is not None, "the application answered"
        start_response(run.status, run.headers, run.exc_info)
        return run.result

    @staticmethod
    def _buffer(environ) -> None:
        """The body, already read into memory by the worker, handed to the run as its own
        stream, so the run never shares gunicorn's reader."""
        length = environ.get("CONTENT_LENGTH")
        stream = environ.get("wsgi.input")
        if stream is None or not length or not length.isdigit() or int(length) > BufferingWorker.max_body:
            return
        environ["wsgi.input"] = io.BytesIO(stream.read(int(length)))

    def _run(self, environ, run: _Run) -> None:
        def start(status, headers, exc_info=None):
            run.status, run.headers, run.exc_info = status, headers, exc_info
            return lambda data: None  # the write() callable: unused by Flask

        try:
            run.result = self.app(environ, start)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            run.error = exc
        finally:
            with self.lock:
                self.running.discard(threading.current_thread())
            with run.lock:
                run.done.set()
                abandoned = run.abandoned
            if abandoned and run.result is not None:
                getattr(run.result, "close", lambda: None)()

    def wait(self, seconds: float, tick=lambda: None) -> int:
        """Let runs still going finish (a worker that stops), at most `seconds`; returns how
        many are left."""
        deadline = time.monotonic() + seconds
        while True:
            with self.lock:
                left = [t for t in self.running if t.is_alive()]
            if not left or time.monotonic() >= deadline:
                return len(left)
            tick()
            left[0].join(min(1.0, max(0.0, deadline - time.monotonic())))


#: Where each request in flight is, by its client socket: "running" until an answer is
#: handed to gunicorn. On an abort, the running ones get a 503 (the others have an answer
#: on its way, which a second one would corrupt).
_IN_FLIGHT: dict = {}


def mark(environ, state: str) -> None:
    sock = environ.get("gunicorn.socket")
    if sock is not None and sock in _IN_FLIGHT:
        _IN_FLIGHT[sock] = state


def write_problem(sock, status_int, reason, mesg):
    """Replaces gunicorn.util.write_error (an HTML page) in docsvc's workers. The message
    gunicorn passes may quote the client's bytes: it goes to the log, not the answer."""
    util.write_nonblock(sock, problem_bytes(status_int, reason))


class BufferingWorker(ThreadWorker):
    """gthread, except that requests are read whole by the event loop before a thread runs them."""

    #: Seconds a client has to send a whole request (DOCSVC_CLIENT_TIMEOUT); set by Server.
    client_timeout: float = 20
    #: Bodies announced larger than this (DOCSVC_MAX_BODY_BYTES) are not buffered: the
    #: application answers 413 without reading them, or (a template bundle, which has a
    #: larger limit of its own) reads them in the thread, under SO_RCVTIMEO.
    max_body: int = 2 * 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_head = (LIMIT_REQUEST_LINE + 2 + LIMIT_REQUEST_FIELDS * (LIMIT_REQUEST_FIELD_SIZE + 2) + 4)
        self.reading: list[TConn] = []
        self.draining: list[tuple[TConn, float]] = []  # refused from the loop: what the client still sends is read away

    #: DOCSVC_REQUEST_TIMEOUT: what Retry-After says when the arbiter aborts this worker.
    request_timeout: float = 100
    #: Seconds a stopping worker gives requests that ran past their deadline to finish.
    finish_timeout: float = WORKER_TIMEOUT

    def init_process(self):
        util.write_error = write_problem  # gunicorn's own 400/414/431 answers, as problem+json
        super().init_process()

    def run(self):
        super().run()
        deadline = getattr(self.wsgi, "wait", None)
        if deadline is not None:  # runs past their request's deadline complete their issue first
            left = deadline(self.finish_timeout, self.notify)
            if left:
                self.log.warning("worker %s stops with %d request(s) still running", self.pid, left)

    def handle_abort(self, sig, frame):
        """The arbiter's WORKER_TIMEOUT: answer every request still running 503 problem+json
        (a retry completes what this run leaves), then exit as gunicorn does."""
        for sock, state in list(_IN_FLIGHT.items()):
            if state == "running":
                try:
                    sock.setblocking(True)
                    sock.settimeout(1)
                    sock.sendall(problem_bytes(503, detail="The worker serving this request was stopped (it "
                                               "took too long). Retry the same request after Retry-After seconds: "
                                               "a retry of an issue completes it or answers the original.",
                                               retry_after=max(1, math.ceil(self.request_timeout))))
                    sock.shutdown(socket.SHUT_RDWR)  # the thread that ran it may not answer again
                except OSError:
                    pass
        super().handle_abort(sig, frame)

    # ------------------------------------------------------------ reading in the loop

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return  # another worker took it, or the client left
            raise
        self.nr_conns += 1
        # A thread that still ends up reading (a chunked body) gives up after the timeout.
        client_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                               struct.pack("ll", int(self.client_timeout), 0))
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self._start_reading(conn)

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection sends its next request: read it whole too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_reading(conn)

    def _start_reading(self, conn):
        conn.sock.setblocking(False)
        conn.inbuf = bytearray()
        conn.need = None  # total bytes of head + body, once the head is known (chunked: see _complete)
        conn.chunked_head, conn.chunked_body = 0, bytearray()  # where its head ends; its whole chunks' data
        conn.read_deadline = time.monotonic() + self.client_timeout
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    @staticmethod
    def _receive(conn) -> bytes | None:
        """What the client sent (b"": it went away), or None: nothing yet."""
        try:
            return conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""

    def _on_readable(self, conn, client):
        chunk = self._receive(conn)
        if chunk is None:
            return
        if not chunk:  # the client went away
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.inbuf += chunk
        complete = self._complete(conn)
        if complete is None:  # refused from here (a malformed or oversized chunked body)
            return
        if complete:
            self._stop_reading(conn)
            conn.data_ready = True
            conn.prebuffer = bytes(conn.inbuf)
            conn.inbuf = None
            self.enqueue_req(conn)

    def _complete(self, conn) -> bool | None:
        """Whether the request can go to a thread without the thread waiting on the client
        (None: refused and closed here)."""
        buf = conn.inbuf
        if conn.need is None:
            end = buf.find(_HEAD_END)
            if end < 0:
                return len(buf) > self.max_head  # too big: the parser answers 414/431 from what is here
            head = bytes(buf[:end + 2])
            found = _CONTENT_LENGTH.search(head)
            chunked = _CHUNKED.search(head) is not None
            if not chunked and found is None:
                return True  # no body
            if chunked and found is not None:
                return True  # both: the parser refuses it (400), as request smuggling
            length = int(found.group(1)) if found is not None else 0
            if not chunked and length > self.max_body:
                return True  # the application answers 413 without reading it
            if _EXPECT.search(head):  # the body follows a 100 Continue: send it from here
                try:
                    conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    pass
                conn.inbuf = buf = bytearray(_EXPECT.sub(b"", bytes(buf[:end + 4]))) + buf[end + 4:]
                end = buf.find(_HEAD_END)
            # chunked: read here too, until its last chunk (-start); else the whole length
            conn.need = -(end + 4) if chunked else end + 4 + length
            conn.chunked_head, conn.chunked_body = end, bytearray()
        if conn.need < 0:
            return self._chunked_complete(conn, -conn.need)  # -need: where its next chunk's size line starts
        return len(buf) >= conn.need

    def _chunked_complete(self, conn, start: int) -> bool | None:
        """A chunked body, read here like any other: complete once its last chunk and trailer
        are in (a client trickling it is answered 408 at DOCSVC_CLIENT_TIMEOUT, as for a
        Content-Length body, never holding a thread); 413 past DOCSVC_MAX_BODY_BYTES, 400 if
        the framing is broken."""
        buf, pos, size_total = conn.inbuf, start, len(conn.chunked_body)
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return self._refuse(conn, 400, "The chunked body's framing is broken.") if len(buf) - pos > 64 \
                    else False
            size_text = bytes(buf[pos:line_end]).split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                return self._refuse(conn, 400, "The chunked body's framing is broken (a chunk size is not hex).")
            size = int(size_text, 16)
            size_total += size
            if size_total > self.max_body:
                return self._refuse(conn, 413, f"The body exceeds DOCSVC_MAX_BODY_BYTES ({self.max_body} bytes).")
            if size == 0:  # the last chunk: then an empty line, or trailers and an empty line
                stop = line_end + 4 if buf[line_end + 2:line_end + 4] == b"\r\n" else buf.find(_HEAD_END, line_end) + 4
                if stop < 4:
                    return False
                head = bytes(buf[:conn.chunked_head])
                if _CHUNKED_ONLY.search(head):  # the thread gets the body whole, with its length: gunicorn's
                    body = bytes(conn.chunked_body)  # own chunk reader took 15 s of CPU on 600 kB of 1-byte chunks
                    conn.inbuf = bytearray(_CHUNKED_ONLY.sub(b"", head) + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
                                           + body) + buf[stop:]
                return True
            end = line_end + 2 + size + 2
            if end > len(buf):
                return False  # the next read resumes at this chunk's size line
            if buf[end - 2:end] != b"\r\n":
                return self._refuse(conn, 400, "The chunked body's framing is broken (a chunk overruns its size).")
            conn.chunked_body += buf[line_end + 2:line_end + 2 + size]
            # a whole chunk is in: the next read starts after it, never scanning the body again
            # (a body of one-byte chunks, re-read from its start on every packet, would cost the
            # loop the square of its length)
            pos, conn.need = end, -end

    def _refuse(self, conn, status: int, detail: str) -> bool | None:
        """Answer `status` from the loop, then read away what the client is still sending for
        up to DRAIN seconds before closing (closed with unread data, the connection would be
        reset before the client reads the answer). None, for _complete to say so."""
        self._stop_reading(conn)
        try:
            conn.sock.send(problem_bytes(status, detail=detail))
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return None
        self.draining.append((conn, time.monotonic() + DRAIN))
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))
        return None

    def _drain(self, conn, client):
        if self._receive(conn) == b"":  # read away; closed once the client has sent it all
            self._stop_draining(conn)

    def _stop_draining(self, conn):
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        self.draining = [(c, d) for c, d in self.draining if c is not conn]
        self.nr_conns -= 1
        conn.close()

    def _stop_reading(self, conn):
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        if conn in self.reading:
            self.reading.remove(conn)

    def murder_pending(self):
        """Also close connections that did not send their request in time, with a 408."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.draining):
            if deadline <= now:
                self._stop_draining(conn)
        for conn in [c for c in self.reading if c.read_deadline <= now]:
            self._stop_reading(conn)
            self.nr_conns -= 1
            if conn.inbuf:  # a request had started: say why it is closed
                try:
                    conn.sock.send(problem_bytes(408, detail=f"The request was not received within "
                                                             f"{self.client_timeout:g} s."))
                except OSError:
                    pass
            conn.close()

    def handle(self, conn):
        data = getattr(conn, "prebuffer", None)
        if data is not None:
            conn.prebuffer = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(data)
        _IN_FLIGHT[conn.sock] = "running"
        try:
            return super().handle(conn)
        finally:
            _IN_FLIGHT.pop(conn.sock, None)


def recycle_when_bloated(max_rss_mb: int):
    """post_request hook: a worker left bigger than max_rss_mb by a request finishes its
    in-flight requests and is replaced by a fresh one (the arbiter starts it). A process the
    worker started (the e-invoice's rules, the parts of a long invoice) left bigger than that
    is stopped once idle, and started again when next needed."""
    def post_request(worker, req, environ, resp):
        for pid, mb in recycle_bloated(max_rss_mb):
            worker.log.info("worker %s: its process %s at %.0f MB RSS (DOCSVC_WORKER_MAX_RSS_MB=%d): "
                            "stopping it, a new one starts when needed", worker.pid, pid, mb, max_rss_mb)
        rss = rss_mb()
        if rss is not None and rss > max_rss_mb and worker.alive:
            worker.log.info("worker %s at %.0f MB RSS (DOCSVC_WORKER_MAX_RSS_MB=%d): recycling it",
                            worker.pid, rss, max_rss_mb)
            worker.alive = False
            if hasattr(worker, "method_queue"):
                worker.method_queue.defer(lambda: None)  # wake the loop so it notices
    return post_request


#: glibc malloc arenas per process. glibc gives threads arenas of their own, up to 8 per
#: core, and a worker runs each request in a new thread (RequestDeadline): its heap spreads
#: over them and grows. Issuing 2 000 documents in one process from 4 threads, a thread per
#: request, RSS went 201 -> 212 MB with glibc's default, 172 -> 175 MB with 2 arenas.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def fewer_malloc_arenas() -> bool:
    """Caps glibc's arenas in this process and the workers it forks, unless MALLOC_ARENA_MAX
    is set (glibc reads it itself). False where there is no glibc mallopt (musl, macOS)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, MALLOC_ARENAS))


class Server(BaseApplication):
    """gunicorn with docsvc's worker and limits; `app_factory` builds the app in each worker."""

    def __init__(self, app_factory, bind: str, workers: int, log_level: str, *, client_timeout: int,
                 max_body: int, max_rss_mb: int, request_timeout: float = 100, extra: dict | None = None):
        self.app_factory = app_factory
        self.request_timeout = request_timeout
        fewer_malloc_arenas()  # in the arbiter, before it forks the workers
        BufferingWorker.client_timeout, BufferingWorker.max_body = client_timeout, max_body  # inherited by forks
        BufferingWorker.request_timeout = request_timeout
        self.options = {
            "bind": bind, "workers": workers, "worker_class": BufferingWorker, "threads": THREADS,
            "timeout": WORKER_TIMEOUT, "graceful_timeout": 30, "keepalive": KEEPALIVE,
            "max_requests": MAX_REQUESTS, "max_requests_jitter": MAX_REQUESTS_JITTER,
            "limit_request_line": LIMIT_REQUEST_LINE, "limit_request_fields": LIMIT_REQUEST_FIELDS,
            "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
            "accesslog": None,  # docsvc logs one JSON line per request itself
            "loglevel": log_level.lower(),
            "post_request": recycle_when_bloated(max_rss_mb),
            **(extra or {}),  # logging, metrics and audit hooks (docsvc.logs, docsvc.metrics, docsvc.access)
        }
        super().__init__()

    def load_config(self):
        from .logs import control_socket_settings

        for key, value in {**self.options, **control_socket_settings(self.cfg.settings)}.items():
            self.cfg.set(key, value)

    def load(self):
        return RequestDeadline(self.app_factory(), self.request_timeout)
