"""The HTTP probe, against a real HTTP server on loopback (standard library, in a thread)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from chaosbus.monitors.errors import ProbeError
from chaosbus.monitors.probes.http_probe import HttpProbe, HttpProbeConfig
from tests.local_http import QuietHandler, serving

# path -> (status, body)
RESOURCES: dict[str, tuple[int, bytes]] = {
    "/orders/a": (200, json.dumps({"state": {"version": 3}}).encode()),
    "/orders/b%2Fc": (200, json.dumps({"state": {"version": "7"}}).encode()),
    "/orders/gone": (200, json.dumps({"state": {"version": None}}).encode()),
    "/orders/text": (200, b"not json"),
    "/orders/boom": (503, b""),
    "/orders/deleted": (410, b""),
    "/orders/nofield": (200, json.dumps({"state": {}}).encode()),
    "/orders/denied": (403, b""),
    "/orders/bad": (400, b""),
    "/orders/slow": (200, json.dumps({"state": {"version": 1}}).encode()),
    "/effects": (200, json.dumps({"ids": ["e1", "e2", "e1", {"odd": 1}]}).encode()),
}


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        status, body = RESOURCES.get(self.path, (404, b""))
        if self.path == "/orders/slow":
            time.sleep(0.5)  # longer than the probe's timeout below
        self.answer(status, body)


@pytest.fixture
def base_url() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


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


class TestWhatAnswersMean:
    """The table in `monitors.probes.http_probe` (and docs/experiments.md), row by row."""

    async def test_404_and_410_are_absent(self, base_url: str) -> None:
        """Not found and gone both read as an absent entity (deleted, or never there)."""
        async with probe(base_url) as p:
            seen = await p.observe(["missing", "deleted"], now_ms=1)
        assert [(o.entity, o.value) for o in seen] == [("missing", None), ("deleted", None)]
        assert p.unparsable == 0

    async def test_a_missing_field_is_unparsable_not_absent(self, base_url: str) -> None:
        """A 200 without a number at the path is no observation: never a false absence."""
        async with probe(base_url) as p:
            assert await p.observe(["nofield"], now_ms=1) == []
            assert p.unparsable == 1

    @pytest.mark.parametrize(("entity", "status"), [("denied", 403), ("bad", 400)])
    async def test_other_4xx_fail_the_read_for_good(
        self, base_url: str, entity: str, status: int
    ) -> None:
        """A 400 or 403 is a probe that is wrong: the read fails, not retriable."""
        async with probe(base_url) as p:
            with pytest.raises(ProbeError, match=f"HTTP {status}") as caught:
                await p.observe([entity], now_ms=1)
        assert not caught.value.retriable

    async def test_a_timeout_fails_the_read(self, base_url: str) -> None:
        """An answer slower than `timeout_s` fails the read, retriable."""
        config = HttpProbeConfig.model_validate(
            {"url": base_url + "/orders/{entity}", "json": "$.state.version", "timeout_s": 0.1}
        )
        async with HttpProbe(config) as p:
            with pytest.raises(ProbeError, match="timed out") as caught:
                await p.observe(["slow"], now_ms=1)
        assert caught.value.retriable

    async def test_a_refused_connection_fails_the_read(self) -> None:
        """Nothing listening: the read fails, retriable, naming the URL."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # closed again: nothing listens there
        config = HttpProbeConfig.model_validate(
            {"url": f"http://127.0.0.1:{port}/orders/{{entity}}", "json": "$.v"}
        )
        async with HttpProbe(config) as p:
            with pytest.raises(ProbeError, match=f"GET http://127.0.0.1:{port}/orders/a") as caught:
                await p.observe(["a"], now_ms=1)
        assert caught.value.retriable

    async def test_a_listing_answering_404_lists_nothing(self, base_url: str) -> None:
        """An effects endpoint that is absent lists no effects (nothing done yet)."""
        config = HttpProbeConfig.model_validate({"url": f"{base_url}/nothing", "json": "$.ids"})
        async with HttpProbe(config) as p:
            assert await p.effects(now_ms=1) == []


class TestConfig:
    def test_url_without_the_entity_reads_effects(self) -> None:
        """A URL without {entity} is an effects endpoint; one with it reads per entity."""
        listing = HttpProbeConfig.model_validate({"url": "http://x/effects", "json": "$.ids"})
        per_entity = HttpProbeConfig.model_validate({"url": "http://x/o/{entity}", "json": "$.v"})
        assert (listing.reads_effects, per_entity.reads_effects) == (True, False)

    def test_url_must_be_http(self) -> None:
        """A URL that is not http(s) is refused at validation."""
        with pytest.raises(ValidationError, match="http"):
            HttpProbeConfig.model_validate({"url": "ftp://x/{entity}", "json": "$.v"})
