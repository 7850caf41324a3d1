"""Every path that injects is audited and gated: `chaosbus proxy --fault` writes start and
stop entries and refuses without a control plane; a second interposer on a route is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.routes import Route
from chaosbus.control import operations
from chaosbus.control.errors import RouteShared
from chaosbus.runner.shared_routes import refuse_shared_routes
from chaosbus.streams.interposer import InterposerConfig
from chaosbus.streams.proxy import Proxy
from chaosbus.testing import free_port_pair, poll_until
from tests.integration import databases
from tests.integration.databases import flushed
from tests.integration.proxy_process import ProxyProcess
from tests.integration.runner_support import ready_topics

pytestmark = pytest.mark.integration


class TestSharedRoutes:
    async def test_a_live_interposer_on_the_source_is_refused(
        self, bootstrap: str, topic_name: str
    ) -> None:
        """A proxy reading the source refuses a second run there, naming its group."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await ready_topics(bootstrap, [source, destination], 2)
        group = f"g-{topic_name}"
        config = InterposerConfig(kafka=KafkaSettings(bootstrap), run_id="share", group_id=group)
        proxy = Proxy([Route(source, destination)], config)
        stopping = asyncio.Event()
        running = asyncio.create_task(proxy.run(stopping))
        try:
            await asyncio.wait_for(proxy.started.wait(), 30)

            # The group's assignment lands after `started`; a refusal is what we wait for.
            async def refusal_now() -> str | None:
                try:
                    await refuse_shared_routes(
                        KafkaSettings(bootstrap),
                        [source],
                        own_group="chaosbus.run",
                        own_group_is_replicas=False,
                    )
                except RouteShared as exc:
                    return str(exc)
                return None

            refusal = await poll_until(
                refusal_now, lambda found: found is not None, timeout_s=10, every_s=0.1
            )
            if refusal is None:
                pytest.fail("no refusal while a proxy reads the source")
            assert refusal == (
                f"route from {source} refused: consumer group '{group}' (1 live member, client "
                f"chaosbus-interposer) already reads {source} partitions 0,1; "
                "pass --share-route to run beside it"
            )
            # Its own replicas share the group on purpose.
            await refuse_shared_routes(
                KafkaSettings(bootstrap), [source], own_group=group, own_group_is_replicas=True
            )
        finally:
            stopping.set()
            await running


class TestProxyAudit:
    async def test_fault_proxy_writes_start_and_stop(
        self, bootstrap: str, redis_url: str, topic_name: str, tmp_path: Path
    ) -> None:
        """`chaosbus proxy --fault` appends start, then stop with its counts, to the chain."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await ready_topics(bootstrap, [source, destination], 1)
        url = await flushed(redis_url, databases.CONTROL_ROUTES)
        await operations.init(url, "test")
        faults = tmp_path / "dup.yaml"
        faults.write_text("faults:\n  - type: duplicate\n    probability: 1.0\n    copies: 1\n")
        proxy = ProxyProcess(
            "--route",
            f"{source}:{destination}",
            "--bootstrap",
            bootstrap,
            "--group",
            f"g-{topic_name}",
            "--fault",
            str(faults),
            "--seed",
            "1",
            "--redis",
            url,
            "--run-id",
            "audited",
        )
        await proxy.start()
        assert await proxy.wait_for_log("control plane: clear", timeout_s=60)
        code, log = await proxy.terminate()
        assert code == 0, log
        entries = await operations.audit_log(url, 10)
        assert [(e.action, e.run_id) for e in entries] == [
            ("init", None),
            ("start", "audited"),
            ("stop", "audited"),
        ]
        assert entries[1].detail == f"proxy {source}->{destination}"
        assert (await operations.verify_audit(url)).intact

    async def test_fault_proxy_refuses_without_control_plane(
        self, bootstrap: str, topic_name: str, tmp_path: Path
    ) -> None:
        """No Redis at start: the fault proxy exits 2 and injects nothing."""
        source, destination = f"{topic_name}.src", f"{topic_name}.dst"
        await ready_topics(bootstrap, [source, destination], 1)
        faults = tmp_path / "dup.yaml"
        faults.write_text("faults:\n  - type: duplicate\n    probability: 1.0\n    copies: 1\n")
        dead = f"redis://127.0.0.1:{free_port_pair()}/0"
        proxy = ProxyProcess(
            "--route",
            f"{source}:{destination}",
            "--bootstrap",
            bootstrap,
            "--fault",
            str(faults),
            "--seed",
            "1",
            "--redis",
            dead,
        )
        await proxy.start()
        assert proxy.process is not None
        code = await asyncio.wait_for(proxy.process.wait(), 60)
        last = proxy.log.read_text().strip().splitlines()[-1]
        assert (code, last.split(" does not answer")[0]) == (2, f"chaosbus: Redis at {dead}")


class TestRunNotifies:
    async def test_a_run_posts_start_and_verdict(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """A real run posts `start` then `verdict` to the experiment's webhook."""
        from chaosbus.experiment.governance import Webhook
        from chaosbus.runner.run import ExperimentRun
        from tests.integration.runner_support import make_stage
        from tests.unit.test_runner_notify import Hook

        hook = Hook()
        try:
            stage = await make_stage(bootstrap, redis_url, topic_name)
            spec = stage.spec("duplicate-storm").model_copy(
                update={"notify": (Webhook(url=hook.url),)}
            )
            run = ExperimentRun(spec, stage.options())
            report = await run.run()
            assert [b["event"] for b in hook.bodies] == ["start", "verdict"]
            assert hook.bodies[1]["detail"] == f"{report.status}: {report.reason or 'ok'}"
            assert {b["run_id"] for b in hook.bodies} == {run.run_id}
        finally:
            hook.close()
