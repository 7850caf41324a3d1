"""A local HTTP server on a free loopback port, in a thread, for tests of HTTP readers and
senders (probes, preflight, webhooks): one handler class per test module, one way to serve it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test's output clean (no access log on stderr)."""

    def log_message(self, format: str, *args: object) -> None:
        return None

    def answer(self, status: int, body: bytes = b"") -> None:
        """One whole answer: the status, its length, the body."""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`http://127.0.0.1:<port>` while the block runs; the server is shut down after it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
