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
"""
from __future__ import annotations

import errno
import json
import re
import selectors
import socket
import struct
import time
from functools import partial

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

#: Threads per worker: one renders while the others answer health checks, reads and
#: validations. Rendering is CPU-bound, so more threads buy latency, not throughput.
THREADS = 4
#: Seconds an idle kept-alive connection stays open.
KEEPALIVE = 5
#: Requests before a worker is replaced (plus up to JITTER, so workers don't restart together).
MAX_REQUESTS, MAX_REQUESTS_JITTER = 2000, 200
#: gunicorn's own limits on the request line and headers (414 and 431 beyond).
LIMIT_REQUEST_LINE, LIMIT_REQUEST_FIELDS, LIMIT_REQUEST_FIELD_SIZE = 8190, 64, 8190

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*(?=\r\n)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.I)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*(?=\r\n)", re.I)
_REASONS = {400: "Bad Request", 403: "Forbidden", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented"}
_SLUGS = {400: "bad-request", 408: "request-timeout", 414: "uri-too-long", 431: "headers-too-large",
          501: "not-implemented"}


def problem_bytes(status: int, reason: str | None = None, detail: str | None = None) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    reason = _REASONS.get(status, reason or "Error")
    body = json.dumps({"type": "https://docsvc.dev/problems/" + _SLUGS.get(status, "http-error"),
                       "title": reason, "status": status,
                       "detail": detail or f"The request was refused by the HTTP layer ({reason})."}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    return head + body


def write_problem(sock, status_int, reason, mesg):
    """Replaces gunicorn.util.write_error (an HTML page) in docsvc's workers. The message
    gunicorn passes may quote the client's bytes: it goes to the log, not the answer."""
    util.write_nonblock(sock, problem_bytes(status_int, reason))


def _rss_mb(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


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

    def init_process(self):
        util.write_error = write_problem  # gunicorn's own 400/414/431 answers, as problem+json
        super().init_process()

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
        conn.need = None  # total bytes of head + body, once the head is known
        conn.read_deadline = time.monotonic() + self.client_timeout
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, client):
        try:
            chunk = conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.inbuf += chunk
        if self._complete(conn):
            self._stop_reading(conn)
            conn.data_ready = True
            conn.prebuffer = bytes(conn.inbuf)
            conn.inbuf = None
            self.enqueue_req(conn)

    def _complete(self, conn) -> bool:
        """Whether the request can go to a thread without the thread waiting on the client."""
        buf = conn.inbuf
        if conn.need is None:
            end = buf.find(_HEAD_END)
            if end < 0:
                return len(buf) > self.max_head  # too big: the parser answers 414/431 from what is here
            head = bytes(buf[:end + 2])
            length = _CONTENT_LENGTH.search(head)
            if _CHUNKED.search(head) or length is None:
                return True  # no body, or chunked (the thread reads it under SO_RCVTIMEO)
            if int(length.group(1)) > self.max_body:
                return True  # the application answers 413 without reading it
            if _EXPECT.search(head):  # the body follows a 100 Continue: send it from here
                try:
                    conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    pass
                conn.inbuf = buf = bytearray(_EXPECT.sub(b"", bytes(buf[:end + 4]))) + buf[end + 4:]
                end = buf.find(_HEAD_END)
            conn.need = end + 4 + int(length.group(1))
        return len(buf) >= conn.need

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
        return super().handle(conn)


def recycle_when_bloated(max_rss_mb: int):
    """post_request hook: a worker left bigger than max_rss_mb by a request finishes its
    in-flight requests and is replaced by a fresh one (the arbiter starts it)."""
    def post_request(worker, req, environ, resp):
        rss = _rss_mb()
        if rss is not None and rss > max_rss_mb and worker.alive:
            worker.log.info("worker %s at %.0f MB RSS (DOCSVC_WORKER_MAX_RSS_MB=%d): recycling it",
                            worker.pid, rss, max_rss_mb)
            worker.alive = False
            if hasattr(worker, "method_queue"):
                worker.method_queue.defer(lambda: None)  # wake the loop so it notices
    return post_request


class Server(BaseApplication):
    """gunicorn with docsvc's worker and limits; `app_factory` builds the app in each worker."""

    def __init__(self, app_factory, bind: str, workers: int, log_level: str, *, client_timeout: int,
                 max_body: int, max_rss_mb: int, extra: dict | None = None):
        self.app_factory = app_factory
        BufferingWorker.client_timeout, BufferingWorker.max_body = client_timeout, max_body  # inherited by forks
        self.options = {
            "bind": bind, "workers": workers, "worker_class": BufferingWorker, "threads": THREADS,
            "timeout": 120, "graceful_timeout": 30, "keepalive": KEEPALIVE,
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
        return self.app_factory()
