"""A real Prometheus server (Debian's `prometheus`) for tests: its own port, its own
storage, a generated config scraping one target every second; queried over its HTTP API."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

from chaosbus.testing import free_port_pair, poll_until

SCRAPE_INTERVAL_S = 1


class PrometheusServer:
    """`async with PrometheusServer(target="127.0.0.1:9464") as prom:` until the block ends."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = free_port_pair()
        self.home = Path(tempfile.mkdtemp(prefix="chaosbus-prometheus-"))
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        config = self.home / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
            f"  scrape_timeout: {SCRAPE_INTERVAL_S}s\n"
            "scrape_configs:\n"
            "  - job_name: chaosbus\n"
            f"    static_configs: [{{targets: ['{self.target}']}}]\n"
        )
        binary = shutil.which("prometheus")
        assert binary is not None, "prometheus is not installed (scripts/setup.sh installs it)"
        with (self.home / "prometheus.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.home / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                stdout=log,
                stderr=log,
            )
        # Another process's start-up: its readiness endpoint is the only signal.
        ready = await poll_until(self._ready, bool, timeout_s=30, every_s=0.2)
        assert ready, (self.home / "prometheus.log").read_text()[-2000:]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)
        shutil.rmtree(self.home, ignore_errors=True)

    async def _ready(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{self.url}/-/ready") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def query(self, expression: str) -> list[dict[str, Any]]:
        """An instant query's result vector: [{metric: {labels}, value: [time, "value"]}]."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/api/v1/query", params={"query": expression}) as response,
        ):
            body = await response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    async def values(self, expression: str, label: str) -> dict[str, float]:
        """The stored value of each series, by one label's value."""
        return {
            row["metric"].get(label, ""): float(row["value"][1])
            for row in await self.query(expression)
        }
