"""The HTTP probe, against a real HTTP server on loopback (standard library, in a thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.probes.http_probe import HttpProbe, HttpProbeConfig

# path -> (status, body)
RESOURCES: dict[str, tuple[int, bytes]] = {
    "/orders/a": (200, json.dumps({"state": {"version": 3}}).encode()),
    "/orders/b%2Fc": (200, json.dumps({"state": {"version": "7"}}).encode()),
    "/orders/gone": (200, json.dumps({"state": {"version": None}}).encode()),
    "/orders/text": (200, b"not json"),
    "/orders/boom": (503, b""),
    "/effects": (200, json.dumps({"ids": ["e1", "e2", "e1", {"odd": 1}]}).encode()),
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

    async def test_effects_endpoint_lists_one_effect_per_id(self, base_url: str) -> None:
        """An id listed twice is two effects; an item that is no id is counted unparsable."""
        config = HttpProbeConfig.model_validate({"url": f"{base_url}/effects", "json": "$.ids"})
        async with HttpProbe(config) as p:
            effects = await p.effects(now_ms=9)
        assert [(e.event_id, e.observed_at_ms) for e in effects] == [
            ("e1", 9),
            ("e2", 9),
            ("e1", 9),
        ]
        assert p.unparsable == 1

    def test_url_without_the_entity_reads_effects(self) -> None:
        """A URL without {entity} is an effects endpoint; one with it reads per entity."""
        listing = HttpProbeConfig.model_validate({"url": "http://x/effects", "json": "$.ids"})
        per_entity = HttpProbeConfig.model_validate({"url": "http://x/o/{entity}", "json": "$.v"})
        assert (listing.reads_effects, per_entity.reads_effects) == (True, False)

    def test_url_must_be_http(self) -> None:
        """A URL that is not http(s) is refused at validation."""
        with pytest.raises(ValidationError, match="http"):
            HttpProbeConfig.model_validate({"url": "ftp://x/{entity}", "json": "$.v"})
