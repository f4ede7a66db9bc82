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
    ranges: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(
        self, status: int, body: bytes, length: int | None = None, ctype: str = "text/csv", extra: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
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

    def _range_start(self) -> int:
        value = self.headers.get("Range", "")
        return int(value.removeprefix("bytes=").rstrip("-")) if value.startswith("bytes=") else 0

    def do_GET(self) -> None:
        name = self.path.strip("/").split(".")[0]
        self.hits[name] += 1
        self.ranges.append(self.headers.get("Range", ""))
        n = self.hits[name]
        start = self._range_start()
        if name == "ok":
            self._send(200, BODY)
        elif name == "cut_then_resume":  # first reply stops half way; the server honours Range
            if n == 1:
                self._send(200, BODY[: len(BODY) // 2], length=len(BODY))
            else:
                self._send(206, BODY[start:], extra={"Content-Range": f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"})
        elif name == "cut_then_ignore_range":  # resumption refused: the whole file again
            if n == 1:
                self._send(200, BODY[:1000], length=len(BODY))
            else:
                self._send(200, BODY)
        elif name == "cut_then_wrong_range":  # resumes at byte 0 while claiming a resumption (206)
            if n == 1:
                self._send(200, BODY[: len(BODY) // 2], length=len(BODY))
            elif start:
                self._send(206, BODY, extra={"Content-Range": f"bytes 0-{len(BODY) - 1}/{len(BODY)}"})
            else:
                self._send(200, BODY)
        elif name == "cut_then_no_content_range":  # a 206 that does not say where it starts
            if n == 1:
                self._send(200, BODY[: len(BODY) // 2], length=len(BODY))
            elif start:
                self._send(206, BODY[start:])
            else:
                self._send(200, BODY)
        elif name == "wrong_range":  # cut once, then always the wrong part
            if n == 1:
                self._send(200, BODY[: len(BODY) // 2], length=len(BODY))
            else:
                self._send(206, BODY[100:], extra={"Content-Range": f"bytes 100-{len(BODY) - 1}/{len(BODY)}"})
        elif name in ("reset_then_resume", "always_reset"):  # the connection is reset mid-body
            if n == 1 or name == "always_reset":
                self._reset_after(BODY[: len(BODY) // 2], length=len(BODY))
            else:
                self._send(206, BODY[start:], extra={"Content-Range": f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"})
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
