"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, one behaviour per path."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

BODY = b"track_id,track_name\n" + b"".join(b"id%05d,song %d\n" % (i, i) for i in range(5000))


class Handler(BaseHTTPRequestHandler):
    hits: ClassVar[Counter] = Counter()

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, length: int | None = None, ctype: str = "text/csv") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        # The client may hang up on seeing the headers (a reply it refuses): nothing to report.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _reset_after(self, body: bytes, length: int) -> None:
        """Send the headers and ``body``, then reset the connection (TCP RST, not a clean close)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def do_GET(self) -> None:
        name = self.path.strip("/").split(".")[0]
        self.hits[name] += 1
        n = self.hits[name]
        if name == "ok":
            self._send(200, BODY)
        elif name == "cut_once":  # the first reply stops half way, the next is whole
            if n == 1:
                self._send(200, BODY[: len(BODY) // 2], length=len(BODY))
            else:
                self._send(200, BODY)
        elif name in ("reset_once", "always_reset"):  # the connection is reset mid-body
            if n == 1 or name == "always_reset":
                self._reset_after(BODY[: len(BODY) // 2], length=len(BODY))
            else:
                self._send(200, BODY)
        elif name == "always_cut":
            self._send(200, BODY[:1000], length=len(BODY))
        elif name == "error500":
            self._send(500, b"oops", ctype="text/plain")
        elif name == "error503_once":
            self._send(503, b"busy", ctype="text/plain") if n == 1 else self._send(200, BODY)
        elif name == "missing":
            self._send(404, b"not found", ctype="text/plain")
        elif name == "html":
            self._send(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", ctype="text/html")
        elif name == "slow":
            threading.Event().wait(1.0)
            self._send(200, BODY)


@contextmanager
def serving() -> Iterator[str]:
    """Run the server in a thread; yield its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
