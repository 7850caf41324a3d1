"""Chaos on chaosbus: its own dependencies fail in the middle of real runs.

Each test plays one row of `tests/dependency_cases.py` (the table in
docs/dependency-failures.md) on real processes: it stops or kills the dependency while a
run is live, asserts the status and the one-line reason the row gives, that the ledger and
the destination agree (nothing lost that no fault dropped), and that a `held` came only
with everything read. The module's Kafka, Redis and PostgreSQL are its own (`stack`,
`postgres`): stopping them disturbs no other test.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout, web

from chaosbus.experiment import ExperimentSpec
from chaosbus.local.postgres_node import PostgresNode
from chaosbus.local.stack import LocalStack
from chaosbus.monitors.reads import LAG
from chaosbus.report.model import RunReport
from chaosbus.runner import ExperimentRun
from chaosbus.testing import committed_offsets, end_offsets, free_port_pair, poll_until
from chaosbus_demo.services import ServiceConfig
from tests.dependency_cases import CASES, DependencyCase
from tests.integration.dependency_support import (
    OUTAGE_S,
    Agreement,
    Phases,
    agreement,
    ensure_running,
    one_line,
    persistent_traffic,
    private_stack,
    restarting_service,
    stopped_for,
)
from tests.integration.runner_support import Stage, ledger_of, make_stage, service_group
from tests.postgres_reader import reader_dsn

pytestmark = pytest.mark.integration

DUPLICATES = [{"name": "retries", "type": "duplicate", "probability": 0.3, "copies": 1}]
HOLDING = [
    *DUPLICATES,
    {
        "name": "late",
        "type": "delay",
        "probability": 0.3,
        "distribution": {"kind": "fixed", "ms": 3_000},
    },
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Kafka and Redis of this module's own."""
    stack = private_stack(tmp_path_factory.mktemp("dependency-stack"))
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def running(stack: LocalStack) -> LocalStack:
    """The module's stack, with whatever an earlier test stopped running again."""
    ensure_running(stack)
    return stack


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresNode]:
    """A PostgreSQL of this module's own (the session's `postgres_dsn` is never stopped)."""
    node = PostgresNode(home=tmp_path_factory.mktemp("dependency-postgres"), port=free_port_pair())
    node.start()
    try:
        yield node
    finally:
        node.stop()
        node.remove()


async def stage_on(stack: LocalStack, name: str) -> Stage:
    status = stack.status()
    return await make_stage(status.bootstrap, status.redis_url, f"dep-{name}-{time.time_ns()}")


def reaimed(
    spec: ExperimentSpec, probes: dict[str, dict[str, Any]], **monitor: Any
) -> ExperimentSpec:
    """The experiment with other probes for some checks, and other monitor settings."""
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for check in doc["monitor"]["checks"]:
        check["probe"] = probes.get(check["name"], check["probe"])
    doc["monitor"].update(monitor)
    return ExperimentSpec.model_validate(doc)


def observed(case: DependencyCase, report: RunReport, agreed: Agreement) -> None:
    """The run ended as the table says, and the ledger and the destination agree."""
    reason = one_line(report)
    print(f"\n{case.key}: {report.status} — {reason or '(no reason)'}; {agreed}")
    assert report.status == case.status, reason
    pattern = case.pattern()
    if case.status == "inconclusive":
        # A second true reason may follow the table's (`verdict.conclude` joins them): a
        # check that judged too little because the failing reader never read some units.
        # On a loaded machine the source is read late, so a few entities are first asked
        # of the probe only once it has started failing; the table's reason still leads.
        pattern += r"(; check \S+ judged .+ below the \d+% needed.*)?"
    assert re.fullmatch(pattern, reason), reason
    if report.status == "held":
        # `held` only with everything read: each final read, and the catch-up.
        assert report.reads is not None
        assert report.reads.unread() == []
        assert report.reads.catch_up is not None
        assert report.reads.catch_up.reached
    assert agreed.decided > 0


async def service_caught_up(stage: Stage) -> None:
    """Wait until the service group has committed everything on the destination."""
    group = service_group(stage)

    async def behind() -> int:
        ends = await end_offsets(stage.kafka.bootstrap, stage.destination)
        done = await committed_offsets(stage.kafka.bootstrap, group)
        return sum(end - done.get((stage.destination, p), 0) for p, end in ends.items())

    # Another consumer's commits: there is nothing to await but the broker's answer.
    assert await poll_until(behind, lambda left: left == 0, timeout_s=60) == 0


class TestInterposerKilled:
    async def test_the_runner_starts_it_again(self, running: LocalStack) -> None:
        """SIGKILL of the run's interposer mid-injection: the runner starts it again from
        the committed offsets, the run holds, nothing is lost, the restart is a fact."""
        case = CASES["interposer-killed"]
        stage = await stage_on(running, "killed")
        spec = stage.spec(
            "duplicate-storm",
            # The group hands the dead child's partitions over after its session timeout
            # (10 s): the injection outlasts it, so the new child decides as the old one did.
            schedule={"warmup_s": 1, "inject_s": 16, "recover_s": 4},
            faults=HOLDING,
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases, interposer="supervised"))
        async with restarting_service(stage), persistent_traffic(stage, go) as sent:
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject")
            go.set()
            await phases.until(lambda p: p.faults > 10 and p.held > 0)
            assert run.live is not None
            pid = run.live.topics.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            report = await running_run
            assert await sent == 150
        agreed = await agreement(stage, run.run_id, extra_allowed=True)
        observed(case, report, agreed)
        assert len(report.interposer_restarts) == 1
        assert re.fullmatch(
            r"was killed by SIGKILL at \d+\.\d s; started again", report.interposer_restarts[0]
        )
        # Faults are counted once per source message, from the ledger, after a restart.
        assert sum(report.faults.values()) == agreed.decided


class TestRedisStopped:
    async def test_injection_stops_forwarding_goes_on_the_run_aborts(
        self, running: LocalStack
    ) -> None:
        """Redis (control plane and probes) stopped 10 s mid-injection: within a second
        nothing is injected nor held, forwarding goes on, the run aborts saying why."""
        case = CASES["redis-stopped"]
        stage = await stage_on(running, "redis")
        hold = {
            "type": "delay",
            "probability": 0.5,
            "distribution": {"kind": "fixed", "ms": 60_000},
        }
        spec = stage.spec(
            "duplicate-storm",
            schedule={"warmup_s": 1, "inject_s": 20, "recover_s": 2},
            faults=[*DUPLICATES, {"name": "hold", **hold}],
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases, tick_ms=100))
        redis = running.redis()
        async with restarting_service(stage), persistent_traffic(stage, go, events=300, rate=50):
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject")
            go.set()
            await phases.until(lambda p: p.held > 10)
            await asyncio.to_thread(redis.stop)
            stopped_ms = int(time.time() * 1000)
            # No waiting on a progress tick here: the aborting run may end before the next
            # one, and the ticks of a loop sharing two cores with the suite come late. The
            # promise (released within 1 s) is read off the ledger below, in the
            # interposer's own clock.
            report = await running_run
            # The outage lasts its 10 s whatever the run did meanwhile.
            await asyncio.sleep(max(stopped_ms / 1000 + OUTAGE_S - time.time(), 0))
            await asyncio.to_thread(redis.start)
        agreed = await agreement(stage, run.run_id)
        observed(case, report, agreed)
        ledger = await ledger_of(stage, run.run_id)
        # Decided once the watcher had seen Redis go (within a second): passes only.
        late = [r for r in ledger if r.decided_at_ms > stopped_ms + 1_000]
        assert {r.fault for r in late} <= {"pass"}
        # Held for 60 s when Redis went: released within a second of it, not at their due.
        held = [r for r in ledger if r.fault_name == "hold" and r.decided_at_ms < stopped_ms]
        assert held, "nothing was held when Redis went"
        sent = [e.sent_at_ms for r in held for e in r.emissions]
        assert None not in sent
        assert max(s for s in sent if s is not None) <= stopped_ms + 1_000, sent
        # Forwarding goes on: the held copies above went out, and every message decided
        # after Redis went was forwarded as it came. How many that is depends on how soon
        # the abort's catch-up ends (50 ms in one run: 2 messages), so none is allowed too.
        decided_after = [r for r in ledger if r.decided_at_ms > stopped_ms]
        assert all(r.emissions for r in decided_after), decided_after
        assert report.reads is not None
        assert [p.final for p in report.reads.probes.values()] == [False, False]


class TestBrokerStopped:
    async def test_a_broker_away_mid_run_then_back_changes_nothing(
        self, running: LocalStack
    ) -> None:
        """The single broker stopped 10 s while copies are held, then restarted: everything
        is read once it is back, so the run may hold, and nothing is lost."""
        case = CASES["broker-stopped-mid-run"]
        stage = await stage_on(running, "broker")
        spec = stage.spec(
            "duplicate-storm",
            # The recovery outlasts the outage and the broker's restart (about 30 s here).
            schedule={"warmup_s": 1, "inject_s": 4, "recover_s": 40},
            faults=HOLDING,
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases))
        kafka = running.kafka()
        async with restarting_service(stage) as service, persistent_traffic(stage, go) as sent:
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject")
            go.set()
            assert await sent == 150
            await phases.until(lambda p: p.held > 0)
            await stopped_for(kafka.stop, kafka.start)
            report = await running_run
        agreed = await agreement(stage, run.run_id)
        print(f"service crashes: {service.crashes}")
        observed(case, report, agreed)
        assert agreed.undecided == 0

    async def test_a_broker_away_at_the_wind_down_is_not_held(self, running: LocalStack) -> None:
        """The broker stopped as the recovery begins, back only after the catch-up's deadline:
        the ledger cannot be read to the source's end, the lag neither; inconclusive, and
        once the broker is back the interposer drains: nothing lost."""
        case = CASES["broker-stopped-at-wind-down"]
        stage = await stage_on(running, "windown")
        spec = reaimed(
            stage.spec(
                "duplicate-storm",
                # 4 s of recovery: the broker's stop (a JVM's shutdown, slow on a loaded
                # machine) must complete before the catch-up begins, or the catch-up reads
                # everything and only the lag's read meets the outage.
                schedule={"warmup_s": 1, "inject_s": 4, "recover_s": 4},
                faults=DUPLICATES,
            ),
            {},
            service_group=service_group(stage),
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases, catch_up_timeout_s=5))
        kafka = running.kafka()
        async with restarting_service(stage), persistent_traffic(stage, go) as sent:
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject")
            go.set()
            assert await sent == 150
            await phases.reached("recover")  # the wind-down begins 4 s later
            outage = asyncio.create_task(stopped_for(kafka.stop, kafka.start))
            report = await running_run
            await outage
        agreed = await agreement(stage, run.run_id)
        observed(case, report, agreed)
        assert report.reads is not None
        # Whether the lag's final read still meets the broker away depends on when the
        # catch-up gives up on a loaded machine; either way the reason says what was unread.
        lag_unread = report.reads.probes[LAG].final is False
        assert one_line(report).startswith("service group lag: its final read failed: ") is (
            lag_unread
        ), one_line(report)


def sql_probes(dsn: str, schema: str) -> dict[str, dict[str, Any]]:
    """The duplicate-storm checks read from the service's PostgreSQL tables."""
    return {
        "order-state": {
            "kind": "sql",
            "dsn": dsn,
            "query": f"select version, deleted from {schema}.orders where id = %(entity)s",
            "deleted_column": "deleted",
            "timeout_s": 2,
        },
        "customer-paid": {
            "kind": "sql",
            "dsn": dsn,
            "query": f"select total from {schema}.paid where customer = %(entity)s",
            "timeout_s": 2,
        },
    }


class TestPostgresStopped:
    async def play(
        self, stack: LocalStack, postgres: PostgresNode, name: str, *, back: bool
    ) -> tuple[RunReport, Agreement]:
        """The service keeps its state in PostgreSQL, the checks read it with `sql`
        probes; once the service applied everything, PostgreSQL stops: for 10 s
        (`back`), or until the run is over."""
        stage = await stage_on(stack, name)
        schema = ServiceConfig(
            kind="safe", topic="", kafka=stage.kafka, redis_url="", prefix=stage.prefix
        ).schema
        # Back: the recovery outlasts the outage and PostgreSQL's restart (a second or two).
        recover = 18 if back else 4
        spec = reaimed(
            stage.spec(
                "duplicate-storm",
                schedule={"warmup_s": 1, "inject_s": 4, "recover_s": recover},
                faults=DUPLICATES,
            ),
            sql_probes(reader_dsn(postgres.dsn), schema),
        )
        phases, go = Phases(), asyncio.Event()
        run = ExperimentRun(spec, stage.options(on_progress=phases))
        options = {"store": "postgres", "postgres_dsn": postgres.dsn}
        async with restarting_service(stage, **options), persistent_traffic(stage, go) as sent:
            running_run = asyncio.create_task(run.run())
            await phases.reached("inject")
            go.set()
            assert await sent == 150
            await phases.reached("recover")
            await service_caught_up(stage)
            if back:
                await stopped_for(postgres.stop, postgres.start)
                report = await running_run
            else:
                await asyncio.to_thread(postgres.stop)
                report = await running_run
                await asyncio.to_thread(postgres.start)
        return report, await agreement(stage, run.run_id)

    async def test_a_probe_whose_database_is_gone_is_not_held(
        self, running: LocalStack, postgres: PostgresNode
    ) -> None:
        """PostgreSQL down from the recovery to the end: each final read fails,
        inconclusive naming both probes and their error."""
        report, agreed = await self.play(running, postgres, "pg-gone", back=False)
        observed(CASES["postgres-stopped"], report, agreed)
        assert report.reads is not None
        assert [p.final for p in report.reads.probes.values()] == [False, False]

    async def test_a_probe_reconnects_when_its_database_is_back(
        self, running: LocalStack, postgres: PostgresNode
    ) -> None:
        """PostgreSQL down 10 s in the recovery, then back: the probes connect again, the
        final reads succeed, the run holds; the failed reads are counted."""
        report, agreed = await self.play(running, postgres, "pg-back", back=True)
        observed(CASES["postgres-restarted"], report, agreed)
        assert report.reads is not None
        assert all(p.failed > 0 and p.final for p in report.reads.probes.values())


class SlowView:
    """An HTTP view in front of the service's: it answers at once until `slow` is set,
    then only after `delay_s`, past any probe's timeout."""

    def __init__(self, upstream: str, delay_s: float) -> None:
        self.upstream = upstream
        self.delay_s = delay_s
        self.slow = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    async def __aenter__(self) -> SlowView:
        self._session = ClientSession(timeout=ClientTimeout(total=5))
        app = web.Application()
        app.router.add_get("/{path:.*}", self._answer)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _answer(self, request: web.Request) -> web.Response:
        if self.slow.is_set():
            # The slowness is what the test injects: the answer comes after the timeout.
            await asyncio.sleep(self.delay_s)
        assert self._session is not None
        async with self._session.get(f"{self.upstream}{request.path_qs}") as upstream:
            return web.Response(status=upstream.status, body=await upstream.read())


class TestProbeTooSlow:
    async def test_a_probe_answering_after_its_timeout_is_not_held(
        self, running: LocalStack
    ) -> None:
        """An HTTP probe that answers only after its timeout from the recovery on: its
        earlier observations are stale, its final read fails; inconclusive, never held."""
        stage = await stage_on(running, "slow")
        phases, go = Phases(), asyncio.Event()
        async with (
            restarting_service(stage, http_port=0) as service,
            persistent_traffic(stage, go) as sent,
        ):
            await poll_until(lambda: service.current, bool, timeout_s=30)  # its view is up
            assert service.current is not None
            async with SlowView(service.current.http_url, delay_s=2.0) as view:
                spec = reaimed(
                    stage.spec(
                        "duplicate-storm",
                        schedule={"warmup_s": 1, "inject_s": 4, "recover_s": 4},
                        faults=DUPLICATES,
                    ),
                    {
                        "order-state": {
                            "kind": "http",
                            "url": f"{view.url}/orders/{{entity}}",
                            "json": "$.version",
                            "timeout_s": 0.5,
                        }
                    },
                )
                run = ExperimentRun(spec, stage.options(on_progress=phases))
                running_run = asyncio.create_task(run.run())
                await phases.reached("inject")
                go.set()
                assert await sent == 150
                await phases.reached("recover")
                view.slow.set()
                report = await running_run
        observed(CASES["probe-too-slow"], report, await agreement(stage, run.run_id))
        assert report.reads is not None
        order_state = report.reads.probes["order-state"]
        assert order_state.final is False
        assert 0 < order_state.failed < order_state.reads  # it read fine before it slowed
