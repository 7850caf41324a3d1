"""The HTTP probe, against a real HTTP server on loopback (standard library, in a thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from monitors.errors import ProbeError
from monitors.probes.http_probe import HttpProbe, HttpProbeConfig

# path -> (status, body)
RESOURCES: dict[str, tuple[int, bytes]] = {
    "/orders/a": (200, json.dumps({"state": {"version": 3}}).encode()),
    "/orders/b%2Fc": (200, json.dumps({"state": {"version": "7"}}).encode()),
    "/orders/gone": (200, json.dumps({"state": {"version": None}}).encode()),
    "/orders/text": (200, b"not json"),
    "/orders/boom": (503, b""),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = RESOURCES.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def probe(base_url: str) -> HttpProbe:
    config = HttpProbeConfig.model_validate(
        {"url": base_url + "/orders/{entity}", "json": "$.state.version"}
    )
    return HttpProbe(config)


class TestHttpProbe:
    async def test_reads_numbers_and_absences(self, base_url: str) -> None:
        """Versions become numbers (entity quoted in the URL); 404 and null read as absent."""
        async with probe(base_url) as p:
            seen = await p.observe(["a", "b/c", "missing", "gone"], now_ms=5)
        assert [(o.entity, o.value, o.observed_at_ms) for o in seen] == [
            ("a", 3, 5),
            ("b/c", 7, 5),
            ("missing", None, 5),
            ("gone", None, 5),
        ]

    async def test_unreadable_body_is_counted_and_left_out(self, base_url: str) -> None:
        """A body that is not JSON is unparsable: no observation rather than a false absence."""
        async with probe(base_url) as p:
            assert await p.observe(["text"], now_ms=1) == []
            assert p.unparsable == 1

    async def test_server_error_is_retriable(self, base_url: str) -> None:
        """A 5xx raises ProbeError marked retriable."""
        async with probe(base_url) as p:
            with pytest.raises(ProbeError) as caught:
                await p.observe(["boom"], now_ms=1)
        assert caught.value.retriable

    def test_url_must_name_the_entity(self) -> None:
        """A URL template without {entity} is refused at validation."""
        with pytest.raises(ValidationError, match="entity"):
            HttpProbeConfig.model_validate({"url": "http://x/orders", "json": "$.v"})
