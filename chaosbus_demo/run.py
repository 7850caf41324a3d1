"""`chaosbus demo`: a real automation, two services, two experiments, one verdict table.

    stack (given, running, or started) → topics → Node-RED → services
        → for each experiment: a burst of traffic while it runs, judging ledger-naive;
          then ledger-safe judged over the same recorded window (`check_window`)
        → reports in `out/`

Traffic goes to Node-RED's webhook, which publishes to the source topic; each experiment
interposes from there into its own topic, read by its own pair of services (see
`chaosbus_demo.plan` for why). One run judges both services: they consume the same
interposed topic, so the faults they saw are the same ledgered ones.

Everything started is stopped on the way out, in reverse order, also on an error or an
interrupt. An interrupt (the `interrupt` event; the CLI sets it on SIGINT/SIGTERM) lets a
running experiment abort cleanly (no injection, held messages released) and skips the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaosbus.control import operations
from chaosbus.errors import ChaosbusError
from chaosbus.experiment import ExperimentSpec, with_overrides
from chaosbus.history.recorder import FactsKept
from chaosbus.local.stack import LocalStack
from chaosbus.logs import LogFormat
from chaosbus.report.write import write_report
from chaosbus.runner import RunOptions, run_experiment
from chaosbus.runner.check_window import check_window
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus_demo.background import Services, Traffic, services_running, traffic_running
from chaosbus_demo.display import DemoDisplay
from chaosbus_demo.errors import DemoError
from chaosbus_demo.events import OrderEvent
from chaosbus_demo.expectations import Verdict, problems
from chaosbus_demo.infra import (
    Addresses,
    broker_and_redis,
    create_topics,
    node_red_running,
    start_group_at_end,
)
from chaosbus_demo.plan import DEMO_EXPERIMENTS, PARTITIONS, DemoPlan, Stage, new_run_id
from chaosbus_demo.traffic import TrafficReport, iter_order_events

# Long enough for over a hundred faults at 40 events/s, short enough for two experiments and
# the start-up in well under three minutes.
DEMO_SCHEDULE: dict[str, Any] = {"warmup_s": 3, "inject_s": 10, "recover_s": 6}
EXIT_SHOWN, EXIT_NOT_SHOWN, EXIT_INTERRUPTED = 0, 1, 3


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    """No `bootstrap`/`redis_url`: the local stack is used, and started if it is down."""

    bootstrap: str | None = None
    redis_url: str | None = field(default=None, repr=False)  # may carry a password
    kafka_config: Path | None = None  # a client properties file (SASL, TLS)
    out: Path = Path("demo-out")
    schedule: dict[str, Any] = field(default_factory=lambda: dict(DEMO_SCHEDULE))
    settle_ms: int = 2_000
    rate: float = 40.0
    seed: int = 1
    experiments: tuple[str, ...] = DEMO_EXPERIMENTS
    node_red_install_dir: Path | None = None  # default: the cache nodered.install uses
    stack: LocalStack | None = None  # default: LocalStack.default()
    control_namespace: str = "chaosbus"  # tests isolate their kill switch and audit log
    actor: str = "demo"
    log_format: LogFormat = "text"  # `--log-format json`: log records as JSON lines


@dataclass(frozen=True)
class DemoResult:
    run_id: str
    out: Path
    verdicts: tuple[Verdict, ...]
    problems: tuple[str, ...]  # why the demo did not show what it should; empty when it did
    interrupted: bool
    traffic: TrafficReport | None = None
    # Each experiment as it ran (the library's, re-aimed): the text the history keeps.
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_NOT_SHOWN if self.problems else EXIT_SHOWN

    @property
    def report_files(self) -> list[Path]:
        return [path for verdict in self.verdicts for path in verdict.files]


class _Interrupted(DemoError):
    """Ends the demo early on Ctrl-C; caught by the run itself."""


@dataclass
class _World:
    """The outside world: one endless stream of orders, posted in a burst per experiment."""

    url: str
    events: Iterator[OrderEvent]
    bursts: list[Traffic] = field(default_factory=list)


@dataclass
class _Running:
    """What is up once the start-up is through: addresses, services and the traffic source."""

    addresses: Addresses
    services: Services
    world: _World


async def run_demo(
    options: DemoOptions,
    *,
    interrupt: asyncio.Event | None = None,
    display: DemoDisplay | None = None,
) -> DemoResult:
    """Run the demo end to end and return the verdicts; raises `ChaosbusError` on bad input."""
    demo = _Demo(options, interrupt or asyncio.Event(), display or DemoDisplay())
    return await demo.run()


def demo_spec(options: DemoOptions, plan: DemoPlan, stage: Stage) -> ExperimentSpec:
    """The library's experiment, aimed at this run's topics, on the demo's short schedule."""
    return with_overrides(
        load_experiment_or_scenario(stage.experiment),
        source=plan.source,
        destination=stage.destination,
        schedule=options.schedule,
        group_id=stage.runner_group,
        settle_ms=options.settle_ms,
    )


class _Demo:
    """One demo run; what it got to (verdicts, problems, traffic) survives an interrupt."""

    def __init__(self, options: DemoOptions, interrupt: asyncio.Event, display: DemoDisplay):
        self.options = options
        self.interrupt = interrupt
        self.display = display
        self.plan = DemoPlan(new_run_id(), options.experiments)
        # Every file is read before anything starts: a broken one costs nothing to report.
        self.specs = {s.experiment: demo_spec(options, self.plan, s) for s in self.plan.stages}
        self.verdicts: list[Verdict] = []
        self.problems: list[str] = []
        self.bursts: list[Traffic] = []

    async def run(self) -> DemoResult:
        self.display.say(f"demo run {self.plan.run_id}: {', '.join(self.options.experiments)}")
        try:
            async with _announce(self.interrupt, self.display), AsyncExitStack() as stack:
                running = await self._start(stack)
                try:
                    for stage in self.plan.stages:
                        self._checkpoint()
                        self.verdicts += await self._experiment(stage, running)
                finally:
                    self.problems += running.services.failures
                    self.bursts += running.world.bursts
        except _Interrupted:
            pass
        except ChaosbusError:
            # A Ctrl-C also reaches children in the terminal's process group (npm during the
            # first install): their failure is the interrupt's doing, not an error of its own.
            if not self.interrupt.is_set():
                raise
        interrupted = self.interrupt.is_set()
        if not interrupted:
            self.problems += _traffic_problems(self.bursts) + problems(self.verdicts)
        return DemoResult(
            run_id=self.plan.run_id,
            out=self.options.out,
            verdicts=tuple(self.verdicts),
            problems=tuple(self.problems),
            interrupted=interrupted,
            traffic=total_traffic(self.bursts),
            texts={name: spec_text(spec) for name, spec in self.specs.items()},
        )

    def _checkpoint(self) -> None:
        if self.interrupt.is_set():
            raise _Interrupted

    async def _start(self, stack: AsyncExitStack) -> _Running:
        """Stack, topics, Node-RED, services: each stopped by `stack` on the way out."""
        options, plan, say = self.options, self.plan, self.display.say
        addresses = await stack.enter_async_context(
            broker_and_redis(
                options.bootstrap,
                options.redis_url,
                say=say,
                stack=options.stack,
                kafka_config=options.kafka_config,
            )
        )
        self._checkpoint()
        await create_topics(addresses.kafka, plan.topics, PARTITIONS)
        say(f"topics: {plan.source} → " + ", ".join(s.destination for s in plan.stages))
        self._checkpoint()
        node_red = await stack.enter_async_context(
            node_red_running(
                kafka=addresses.kafka,
                topic=plan.source,
                say=say,
                install_dir=options.node_red_install_dir,
                name=f"demo-{plan.run_id}",
            )
        )
        say(f"Node-RED flow: POST {node_red.webhook_url} → {plan.source}")
        self._checkpoint()
        configs = [
            config
            for stage in plan.stages
            for config in stage.services(kafka=addresses.kafka, redis_url=addresses.redis_url)
        ]
        services = await stack.enter_async_context(services_running(configs))
        say("services: ledger-naive and ledger-safe on each experiment's interposed topic")
        events = iter_order_events(options.seed, namespace=plan.namespace)
        return _Running(addresses, services, _World(node_red.webhook_url, events))

    async def _experiment(self, stage: Stage, running: _Running) -> list[Verdict]:
        """Run one experiment judging ledger-naive, then judge ledger-safe on its window."""
        options, spec, addresses = self.options, self.specs[stage.experiment], running.addresses
        # The demo owns its namespace: a never-used one starts released (a no-op otherwise).
        await operations.init(
            addresses.redis_url, options.actor, namespace=options.control_namespace
        )
        await start_group_at_end(addresses.kafka, spec.routes[0].source, spec.group_id)
        run_options = RunOptions(
            kafka=addresses.kafka,
            redis_url=addresses.redis_url,
            actor=options.actor,
            key_prefix=stage.prefix("naive"),
            control_namespace=options.control_namespace,
            on_facts=(naive_facts := FactsKept()),
        )
        # Traffic for the warm-up, the injection and the recovery, then quiet: a counter is
        # judged once it has settled, and a customer who keeps paying never settles.
        schedule = spec.schedule
        count = round(options.rate * (schedule.warmup_s + schedule.inject_s + schedule.recover_s))
        world = running.world
        with self.display.experiment(spec.name, "ledger-naive") as show:
            run_options.on_progress = show
            async with traffic_running(
                world.url, world.events, count=count, rate=options.rate
            ) as burst:
                world.bursts.append(burst)
                naive = await run_experiment(spec, run_options, self.interrupt)
        verdicts = [
            _written(options, Verdict(stage.experiment, "naive", naive, facts=naive_facts.facts))
        ]
        if self.interrupt.is_set():
            return verdicts
        # The safe service reads the same topic at its own pace: judge it once caught up.
        if not await running.services.caught_up(stage.prefix("safe"), addresses.kafka):
            self.display.say("ledger-safe did not catch up in time; judging what it applied")
        safe = await check_window(
            spec,
            kafka=addresses.kafka,
            redis_url=addresses.redis_url,
            run_id=naive.run_id,
            key_prefix=stage.prefix("safe"),
            actor=options.actor,
            on_facts=(safe_facts := FactsKept()),
        )
        verdicts.append(
            _written(options, Verdict(stage.experiment, "safe", safe, facts=safe_facts.facts))
        )
        self.display.say(f"{spec.name}: ledger-naive {naive.status}, ledger-safe {safe.status}")
        return verdicts


def spec_text(spec: ExperimentSpec) -> str:
    """The experiment as the demo ran it, as YAML (it was never a file of its own)."""
    document = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _traffic_problems(bursts: list[Traffic]) -> list[str]:
    found = [f"the traffic stopped: {b.error}" for b in bursts if b.error]
    reports = [b.report for b in bursts if b.report is not None]
    if reports and not found and sum(r.sent for r in reports) == 0:
        found.append(f"no event reached the webhook: {'; '.join(reports[0].errors[:1])}")
    return found


def total_traffic(bursts: list[Traffic]) -> TrafficReport | None:
    reports = [b.report for b in bursts if b.report is not None]
    if not reports:
        return None
    total = TrafficReport()
    for report in reports:
        total.sent += report.sent
        total.failed += report.failed
        total.by_type.update(report.by_type)
        total.errors += report.errors
    return total


def _written(options: DemoOptions, verdict: Verdict) -> Verdict:
    path = options.out / f"{verdict.experiment}-{verdict.service}.json"
    files = tuple(write_report(verdict.report, path))
    return Verdict(verdict.experiment, verdict.service, verdict.report, files, verdict.facts)


@contextlib.asynccontextmanager
async def _announce(interrupt: asyncio.Event, display: DemoDisplay) -> AsyncIterator[None]:
    """Say at once that an interrupt was heard; the clean-up itself takes a few seconds."""

    async def announce() -> None:
        await interrupt.wait()
        display.say("interrupted: stopping everything the demo started…")

    task = asyncio.create_task(announce())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
