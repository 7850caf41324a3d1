"""A read-only HTTP view of a demo service's state, as many services expose one.

    GET /orders/{order_id}        {"version": N}      404 when absent or deleted
    GET /customers/{customer}     {"paid": N}         404 when nothing was paid
    GET /effects                  {"event_ids": [...]} one id per effect, in order

Standard library `ThreadingHTTPServer` in a thread; each request runs the ledger's read on
the service's own event loop (the ledger's clients belong to it) and waits for the answer.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from collections.abc import Awaitable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from chaosbus_demo.ledgers import Ledger

TIMEOUT_S = 5.0


class StateHttp:
    """`async with StateHttp(ledger, port) as view:` serves on 127.0.0.1:`view.port`."""

    def __init__(self, ledger: Ledger, port: int = 0) -> None:
        self.ledger = ledger
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        view = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = view.answer(self.path, loop)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        # A request thread may wait on this loop; closing must never join it from the loop.
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="state-http", daemon=True
        )
        self._thread.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            server = self._server
            # shutdown() waits for the serving thread, which may be waiting on this loop.
            await asyncio.to_thread(server.shutdown)
            await asyncio.to_thread(server.server_close)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, loop: asyncio.AbstractEventLoop) -> tuple[int, Any]:
        parts = [urllib.parse.unquote(p) for p in path.split("?")[0].split("/") if p]
        if parts == ["effects"]:
            return 200, {"event_ids": self._wait(self.ledger.effect_ids(), loop)}
        if len(parts) == 2 and parts[0] == "orders":
            version = self._wait(self.ledger.order_version(parts[1]), loop)
            return (404, {}) if version is None else (200, {"version": version})
        if len(parts) == 2 and parts[0] == "customers":
            paid = self._wait(self.ledger.paid(parts[1]), loop)
            return (404, {}) if paid is None else (200, {"paid": paid})
        return 404, {}

    @staticmethod
    def _wait(read: Awaitable[Any], loop: asyncio.AbstractEventLoop) -> Any:
        async def run() -> Any:
            return await read

        return asyncio.run_coroutine_threadsafe(run(), loop).result(TIMEOUT_S)
