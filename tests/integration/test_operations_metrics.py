"""Operating a proxy: a real Prometheus server scrapes a running `chaosbus proxy`, and the
values it stores equal the ledger's; its `--log-format json` lines parse back, one per
action (decide, emit, commit, release, refuse, kill)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations
from chaosbus.monitors.probes.kafka_reader import read_ledger
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import Message, free_port_pair, poll_until, produce, read_all
from tests.integration import databases
from tests.integration.databases import flushed
from tests.integration.prometheus_server import PrometheusServer
from tests.integration.proxy_process import ProxyProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("prometheus") is None, reason="needs prometheus (scripts/setup.sh)"
    ),
]

MESSAGES = 200
SEED = 7
FAULTS = """\
faults:
  - {name: twice, type: duplicate, probability: 0.3, copies: 1}
  - {name: gone, type: drop, probability: 0.1}
  - {name: late, type: delay, probability: 0.15, distribution: {kind: fixed, ms: 600000},
     preserve_order: false}
"""
ACTIONS = {"decide", "emit", "commit", "release", "refuse", "kill"}
SECRET = "s3cret-pw-never-logged"


def traffic() -> list[Message]:
    return [
        Message(key=f"customer-{i % 20}".encode(), value=json.dumps({"n": i}).encode())
        for i in range(MESSAGES)
    ]


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the proxy's stderr, each parsed as one JSON object (fails otherwise)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class TestPrometheusScrapesAProxy:
    async def test_stored_values_equal_the_ledger_and_every_action_is_a_json_line(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """Decisions by fault and name, messages read and forwarded, held copies and the
        dead-lettered count in Prometheus equal the ledger; the log is JSON, action by action,
        and names no secret."""
        source, destination, dlq = (f"{topic_name}.{end}" for end in ("src", "dst", "dlq"))
        async with TopicAdmin(KafkaSettings(bootstrap)) as admin:
            await admin.create(source, 2)
            await admin.create(destination, 2, config={"max.message.bytes": "2000"})
            await admin.create(dlq, 1)
        # A password in the URL (the local Redis takes any): it must never reach a log line.
        plain = await flushed(redis_url, databases.OPERATIONS_METRICS)
        control = plain.replace("redis://", f"redis://:{SECRET}@")
        await operations.init(control, "test")
        faults = tmp_path / "faults.yaml"
        faults.write_text(FAULTS)
        port = free_port_pair()
        run_id = f"metrics-{topic_name[-30:]}"
        proxy = ProxyProcess(
            *("--route", f"{source}:{destination}", "--bootstrap", bootstrap),
            *("--group", f"g-{topic_name}", "--fault", str(faults), "--seed", str(SEED)),
            *("--redis", control, "--run-id", run_id, "--on-undeliverable", f"dead_letter:{dlq}"),
            *("--metrics", f"127.0.0.1:{port}", "--log-format", "json"),
            env={"CHAOSBUS_LOG_LEVEL": "DEBUG"},
        )
        async with PrometheusServer(f"127.0.0.1:{port}") as prometheus:
            await proxy.start()
            try:
                assert await proxy.wait_for_log("control plane: clear", timeout_s=60)
                await produce(bootstrap, source, traffic())
                # Everything read and decided, as Prometheus stores it (it scrapes each second).
                read = await poll_until(
                    lambda: prometheus.values("chaosbus_messages_read_total", "chaosbus_route"),
                    lambda found: sum(found.values()) == MESSAGES,
                    timeout_s=60,
                )
                assert sum(read.values()) == MESSAGES
                kafka = KafkaSettings(bootstrap)

                async def held_and_ledgered() -> tuple[float, int]:
                    held = await prometheus.values("chaosbus_held", "chaosbus_route")
                    records, _ = await read_ledger(kafka, run_id, source_topic=source)
                    return sum(held.values()), len(records)

                # Settled: every message is either ledgered or held by the 10-minute delay.
                held_before_kill, _ = await poll_until(
                    held_and_ledgered,
                    lambda found: found[0] > 0 and found[0] + found[1] == MESSAGES,
                    timeout_s=30,
                )
                # The kill switch releases the copies the 10-minute delay holds: the ledger
                # then has every decision.
                await operations.kill(control, "test", "drill")
                await proxy.wait_for_log('"action":"release"', timeout_s=10)
                ledger = await poll_until(
                    lambda: read_ledger(kafka, run_id, source_topic=source),
                    lambda found: len(found[0]) >= MESSAGES,
                    timeout_s=30,
                )
                records = ledger[0]
                await self._stored_equal_the_ledger(prometheus, records, held_before_kill)
                # A message the destination refuses, dead-lettered (no faults: killed).
                await produce(bootstrap, source, [Message(key=b"large", value=b"x" * 5_000)])
                dead = await poll_until(
                    lambda: prometheus.values(
                        "chaosbus_messages_dead_lettered_total", "chaosbus_route"
                    ),
                    lambda found: sum(found.values()) == 1,
                    timeout_s=30,
                )
                assert sum(dead.values()) == 1
                assert len(await read_all(bootstrap, dlq)) == 1
                assert (await prometheus.values("chaosbus_kill_switch", ""))[""] == 1
            finally:
                code, tail = await proxy.terminate()
                await operations.unkill(control, "test")
        assert code == 0, tail
        assert SECRET not in proxy.log.read_text()
        self._every_action_parses_back(json_lines(proxy.log))

    async def _stored_equal_the_ledger(
        self, prometheus: PrometheusServer, records: list[Any], held_before_kill: float
    ) -> None:
        by_fault = Counter((r.fault, r.fault_name or "") for r in records)
        copies = sum(len(r.emissions) for r in records)

        async def stored() -> tuple[dict[tuple[str, str], float], float]:
            rows = await prometheus.query("chaosbus_decisions_total")
            decisions = {
                (row["metric"]["chaosbus_fault"], row["metric"].get("chaosbus_fault_name", "")): (
                    float(row["value"][1])
                )
                for row in rows
            }
            forwarded = await prometheus.values("chaosbus_messages_forwarded_total", "")
            return decisions, sum(forwarded.values())

        decisions, forwarded = await poll_until(
            stored, lambda found: found[1] == copies, timeout_s=30
        )
        assert decisions == {key: float(n) for key, n in by_fault.items()}
        assert forwarded == copies
        assert sum(by_fault.values()) == MESSAGES
        # Each `late` decision held one copy for ten minutes until the kill released it.
        assert held_before_kill == by_fault[("delay", "late")]
        assert {fault for fault, _ in by_fault} == {"pass", "duplicate", "drop", "delay"}

    def _every_action_parses_back(self, lines: list[dict[str, Any]]) -> None:
        actions = Counter(line.get("action") for line in lines)
        assert set(actions) >= ACTIONS, actions
        decided = [line for line in lines if line.get("action") == "decide"]
        assert len(decided) == MESSAGES + 1  # the large message too
        for line in decided:
            assert {"time", "level", "route", "fault", "payload_bytes", "offset"} <= line.keys()
        faulted = [line for line in decided if line["fault"] != "pass"]
        assert {line["fault_name"] for line in faulted} == {"twice", "gone", "late"}
        refused = next(line for line in lines if line.get("action") == "refuse")
        assert refused["dead_letter"].endswith(".dlq")
        assert refused["payload_bytes"] == 5_000
