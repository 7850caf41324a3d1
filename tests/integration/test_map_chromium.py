"""`chaosbus map` of a demo-shaped stack, drawn by Graphviz and opened in headless Chromium.

The stack: a source topic with live traffic, a real `chaosbus proxy` interposing into the
destination, three services reading the destination (ledger-safe, ledger-naive and an
audit copy: a topic many groups read), and a reporting group that stopped while messages
keep coming (its lag grows). The experiment file names ledger-safe as the probed service.
Set CHAOSBUS_MAP_SCREENSHOT=docs/map-screenshot.png to keep the screenshot.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.clients.connection import KafkaSettings
from chaosbus.map.render import dom_id
from chaosbus.scenarios import scenario
from chaosbus.testing import create_topics, unique_topic, wait_for_count
from chaosbus_demo.background import services_running
from chaosbus_demo.infra import start_group_at_end
from chaosbus_demo.services import ServiceConfig
from chaosbus_demo.traffic import KafkaSink, iter_order_events, play
from tests.integration.proxy_process import ProxyProcess
from tests.unit.test_report_chromium import CHROMIUM, OFFLINE

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed"),
]


def experiment_file(path: Path, source: str, destination: str, service_group: str) -> Path:
    """duplicate-storm aimed at this test's topics, probing ledger-safe."""
    data = yaml.safe_load(scenario("duplicate-storm").text)
    data["routes"] = [{"from": source, "to": destination}]
    data["monitor"]["source_topic"] = source
    data["monitor"]["service_group"] = service_group
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_the_map_of_the_demo_stack_in_chromium(
    bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """Every handoff drawn, the three chokepoints marked, rendered offline by Chromium."""
    tag = uuid.uuid4().hex[:6]
    source, destination = unique_topic(f"map-{tag}.nocode"), unique_topic(f"map-{tag}.orders")
    await create_topics(bootstrap, [source, destination], 3)
    kafka = KafkaSettings(bootstrap)
    groups = {kind: f"map-{tag}-ledger-{kind}" for kind in ("safe", "naive", "audit")}
    services = [
        ServiceConfig(
            kind="safe" if kind == "safe" else "naive",
            topic=destination,
            kafka=kafka,
            redis_url=redis_url,
            prefix=f"{kind}:{tag}:",
            group_id=group,
        )
        for kind, group in groups.items()
    ]
    reporting = f"map-{tag}-reporting"
    proxy = ProxyProcess(
        "--route",
        f"{source}:{destination}",
        "--bootstrap",
        bootstrap,
        "--group",
        f"chaosbus.map-{tag}",
        "--no-ledger",
    )
    await proxy.start()
    stop = asyncio.Event()
    page = tmp_path / "map.html"
    try:
        async with services_running(services), KafkaSink(kafka, source) as sink:
            traffic = asyncio.create_task(
                play(iter_order_events(3, namespace=f"{tag}-"), sink, rate=20, stop=stop)
            )
            assert await wait_for_count(bootstrap, destination, 20, timeout_s=60) >= 20
            # A reporting job that read up to here and stopped: its lag grows from now on.
            await start_group_at_end(kafka, destination, reporting)
            spec = experiment_file(tmp_path / "storm.yaml", source, destination, groups["safe"])
            result = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                ["map", str(spec), "--bootstrap", bootstrap, "--out", str(page), "--sample-s", "2"],
            )
            stop.set()
            await traffic
    finally:
        code, log = await proxy.terminate()
    assert code == 0, log
    assert result.exit_code == 0, result.output
    text = result.output
    print(text)
    assert f" ! {destination} (3 partitions) → reads " in text
    assert f"  ! {destination}: read by 4 groups" in text
    assert f"  ! {groups['naive']}: no experiment probes this service" in text
    assert f"  ! {reporting}: lag growing: {destination} +" in text
    assert f"automation (writes {source}, duplicate-storm) → publishes {source}" in text

    browsed = await asyncio.to_thread(
        subprocess.run,
        [
            CHROMIUM or "chromium",
            *OFFLINE,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dom = browsed.stdout
    for node in (
        f"topic:{source}",
        f"topic:{destination}",
        f"group:chaosbus.map-{tag}",
        f"group:{groups['safe']}",
        "store:duplicate-storm:customer-paid",
    ):
        assert f'id="{dom_id(node)}"' in dom, node
    shot = tmp_path / "map.png"
    await asyncio.to_thread(
        subprocess.run,
        [
            CHROMIUM or "chromium",
            *OFFLINE,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1600,1000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("CHAOSBUS_MAP_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
