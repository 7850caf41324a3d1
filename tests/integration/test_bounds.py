"""Bounds everywhere (issue 21, reproduction 9), through the real command line: a probe
`timeout_s: .inf` (accepted, then an OverflowError), a webhook to the cloud metadata address
(accepted), and an HTTP request log under `privacy: hashed` that kept idempotency keys and
paths in clear."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
import yaml

from chaosbus.control import operations
from chaosbus_demo.nodered import free_port
from chaosbus_demo.pricing import serving
from tests.cli_runner import chaosbus
from tests.integration import databases
from tests.integration.databases import database

pytestmark = pytest.mark.integration

HTTP_ROUTE = {"name": "p", "listen": "127.0.0.1:1", "upstream": "http://127.0.0.1:2"}
FAULTS = [{"type": "error", "probability": 0.3, "status": 503}]


def experiment(**extra: object) -> dict[str, object]:
    return {
        "name": "bounds",
        "hypothesis": "Every bound holds.",
        "seed": 3,
        "schedule": {"warmup_s": 1, "inject_s": 3, "recover_s": 1},
        "http_routes": [{**HTTP_ROUTE, "faults": FAULTS}],
        **extra,
    }


def validate(tmp_path: Path, doc: dict[str, object]) -> tuple[int, str]:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    outcome = chaosbus("validate", str(path))
    return outcome.code, outcome.stderr


class TestTheFileIsRefused:
    @pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e12])
    def test_a_probe_timeout_that_is_not_finite_and_bounded(
        self, timeout: float, tmp_path: Path
    ) -> None:
        """One line naming `…probe.timeout_s` (exit 2), before anything connects."""
        doc = yaml.safe_load(
            (
                Path(__file__).resolve().parents[2] / "chaosbus/scenarios/duplicate-storm.yaml"
            ).read_text()
        )
        check = doc["monitor"]["checks"][0]
        check["probe"] = {
            "kind": "sql",
            "dsn": "dbname=shop",
            "query": "select version from orders where id = %(entity)s",
            "timeout_s": timeout,  # written by PyYAML as .inf, .nan, 1.0e+12
        }
        path = tmp_path / "exp.yaml"
        path.write_text(yaml.safe_dump(doc))
        outcome = chaosbus("validate", str(path))
        assert outcome.code == 2, outcome.stdout
        assert "monitor.checks[0].probe.timeout_s: " in outcome.stderr
        assert len(outcome.stderr.strip().splitlines()) == 2  # the header and the one problem

    @pytest.mark.parametrize(
        "url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:8080/h"]
    )
    def test_a_webhook_to_a_link_local_address(self, url: str, tmp_path: Path) -> None:
        """Refused unless the file's owner says `allow_link_local: true` on the hook."""
        code, err = validate(tmp_path, experiment(notify=[{"url": url}]))
        assert code == 2
        assert "notify[0]: " in err
        assert "is link-local" in err
        code, err = validate(tmp_path, experiment(notify=[{"url": url, "allow_link_local": True}]))
        assert code == 0, err


class TestRequestLogUnderPrivacy:
    async def test_idempotency_keys_and_paths_are_pseudonyms(
        self, redis_url: str, bootstrap: str, tmp_path: Path
    ) -> None:
        """A run under `privacy: hashed` writes its request log with request ids and paths
        as keyed hashes: neither the customer's key nor the path appears in any file."""
        control = database(redis_url, databases.BOUNDS)
        client = aioredis.from_url(control)
        try:
            await client.flushdb()
        finally:
            await client.aclose()
        await operations.init(control, "test")
        customer = f"cust-{uuid.uuid4().hex[:10]}"
        port = free_port()
        async with serving() as (_, upstream):
            route = {"name": "pricing", "listen": f"127.0.0.1:{port}", "upstream": upstream}
            doc = experiment(http_routes=[{**route, "faults": FAULTS}])
            doc["privacy"] = {"identifiers": "hashed"}
            path = tmp_path / "exp.yaml"
            path.write_text(yaml.safe_dump(doc))
            report = tmp_path / "out" / "report.json"
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "chaosbus", "run", str(path), "--redis", control),
                *("--bootstrap", bootstrap, "--report", str(report)),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "CHAOSBUS_HISTORY": str(tmp_path / "history.sqlite")},
            )
            sent = await send(port, customer, requests=10)
            out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert sent > 0, err.decode()
        log = report.with_name("report.requests.jsonl")
        logged = [json.loads(line) for line in log.read_text().splitlines()]
        lines = [line for line in logged if line["method"] == "POST"]  # not the readiness GET
        assert len(lines) >= sent
        assert all(line["request_id"].startswith("h-") for line in lines)
        assert all(line["path"].startswith("h-") for line in lines)
        assert len({line["request_id"] for line in lines}) == 1  # one logical request, kept
        for written in await asyncio.to_thread(lambda: list(tmp_path.rglob("*"))):
            if written.is_file() and written != path:
                assert customer.encode() not in written.read_bytes(), written
        assert customer not in out.decode() + err.decode()


async def send(port: int, customer: str, *, requests: int) -> int:
    """POST the same logical request `requests` times once the proxy listens; how many got
    an answer."""
    answered = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(200):  # up to ~20 s for the run to open its proxy
            try:
                async with session.get(f"http://127.0.0.1:{port}/health"):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        for _ in range(requests):
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}/price/{customer}",
                    json={"order_id": customer, "amount": 1},
                    headers={"Idempotency-Key": customer},
                ):
                    answered += 1
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    return answered
