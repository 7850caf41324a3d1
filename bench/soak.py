"""A soak of the real `chaosbus proxy` process: SIGKILLs and broker restarts under steady load.

    python3 bench/soak.py [--mode both|at-least-once|exactly-once] [--kills 20]
        [--broker-restarts 2] [--rate 2000] [--seconds 120] [--seed 1] [--quick]
        [--commit-interval-ms N] [--bootstrap HOST:PORT]

Per delivery mode: a source and a destination topic (3 partitions); an independent producer
writes `{"seq": n}` at a steady rate; the proxy runs as a subprocess and is SIGKILLed at
seeded random instants and restarted each time (awaited: its output advances again); the
broker is stopped and started while it runs. When the load stops and the proxy has caught
up (its group's committed offsets at the source's ends, the destination's ends stable), an
independent consumer reads both topics (read_committed) and counts, per sequence number:
lost (in the source, not in the destination), duplicates (destination copies beyond the
source's), and of those the ones outside every kill's re-delivery window (source offsets
from the group's last commit to the source end at the kill). The ledger's own count of
crash re-deliveries (`monitors.redelivery`) is printed beside them.

Without `--bootstrap` the soak starts its own Kafka and Redis on free ports under a
temporary home and stops them at the end; with it, it cannot restart the broker, so
`--broker-restarts` must be 0. Figures, never assertions: `tests/integration/test_soak.py`
runs a short soak and asserts only what the delivery modes promise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.contracts.ledger_record import route_name
from chaosbus.local.stack import LocalStack, default_cache
from chaosbus.monitors.probes.kafka_reader import read_ledger, read_topic
from chaosbus.monitors.redelivery import redelivered, unledgered_copies
from chaosbus.runner.readers import end_positions
from chaosbus.streams.config import DEFAULT_COMMIT_INTERVAL_MS
from chaosbus.streams.topics import TopicAdmin
from chaosbus.testing import create_topics, free_port_pair

PARTITIONS = 3
T = TypeVar("T")
Mode = Literal["at-least-once", "exactly-once"]
MODES: tuple[Mode, ...] = ("at-least-once", "exactly-once")
ROOT = Path(__file__).resolve().parent.parent
# Bounds on every wait: generous, the machine is shared; a wait that runs out fails the mode.
READY_TIMEOUT_S = 180.0
CATCH_UP_TIMEOUT_S = 600.0
POLL_S = 0.25


class SoakFailed(RuntimeError):
    """A wait ran out: the figures of this mode would mean nothing."""


@dataclass(frozen=True)
class SoakOptions:
    kills: int = 20
    broker_restarts: int = 2
    rate: int = 2_000
    seconds: float = 120.0
    seed: int = 1
    commit_interval_ms: int | None = None  # None: the proxy's default


@dataclass
class Window:
    """What a crashed proxy had sent past its last commit, taken right after the crash: the
    group's committed source offsets and the destination's ends. The copies below those
    ends whose source offset is at or past the commit are read and sent again."""

    committed: dict[int, int]
    sent_below: dict[int, int]  # destination end offsets, per partition (keep_partition)

    def redelivered(self, copies: dict[int, list[tuple[int, int]]]) -> set[tuple[int, int]]:
        """The source (partition, offset)s re-delivered, from the destination's copies
        ((destination offset, source offset) per partition; transactions leave gaps)."""
        return {
            (partition, offset)
            for partition, pairs in copies.items()
            for at, offset in pairs
            if at < self.sent_below.get(partition, 0) and offset >= self.committed.get(partition, 0)
        }


@dataclass
class SoakResult:
    mode: Mode
    kills: int = 0
    broker_restarts: int = 0
    exits: int = 0  # the proxy ended by itself (then it is restarted too)
    produced: int = 0  # in the source, as read back
    producer_failures: int = 0
    delivered: int = 0  # destination records
    lost: int = 0
    duplicates: int = 0
    outside_windows: int = 0  # duplicates not sent past any crash's last commit
    redelivered: int = 0  # the ledger's count (monitors.redelivery)
    unledgered: int = 0  # destination copies no ledger emission names
    window_sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0


# ---- the stack ------------------------------------------------------------------------


@contextmanager
def private_stack() -> Iterator[LocalStack]:
    with tempfile.TemporaryDirectory(prefix="chaosbus-soak-") as home:
        stack = LocalStack(
            home=Path(home),
            cache=default_cache(),
            kafka_port=free_port_pair(),
            redis_port=free_port_pair(),
        )
        stack.up()
        try:
            yield stack
        finally:
            stack.down()


async def retrying(what: str, call: Callable[[], Awaitable[T]], timeout_s: float) -> T:
    """`call()` until it answers: the broker may be restarting."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await call()
        except (KafkaError, BrokerUnreachable, OSError, TimeoutError) as exc:
            if time.monotonic() > deadline:
                raise SoakFailed(f"{what}: no answer within {timeout_s:.0f} s ({exc})") from exc
            await asyncio.sleep(1.0)


async def ends(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    return await retrying(f"end offsets of {topic}", lambda: end_positions(kafka, topic), 120)


async def committed(kafka: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    async def fetch() -> dict[int, int]:
        async with TopicAdmin(kafka) as admin:
            offsets = await admin.committed(group)
        return {p: o for (t, p), o in offsets.items() if t == topic and o >= 0}

    return await retrying(f"committed offsets of {group}", fetch, 120)


# ---- the load ---------------------------------------------------------------------------


class SteadyProducer:
    """Writes `{"seq": n}` at `rate` per second until stopped, never catching up more than
    a second behind its schedule (after a broker restart it resumes, it does not burst)."""

    def __init__(self, kafka: KafkaSettings, topic: str, rate: int) -> None:
        self.kafka, self.topic, self.rate = kafka, topic, rate
        self.sent = 0
        self.failures = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def _done(self, future: asyncio.Future[object]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.failures += 1

    async def run(self) -> None:
        producer = AIOKafkaProducer(
            **self.kafka.client_options(), enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        tick = 0.01
        started = time.monotonic()
        try:
            while not self._stopping.is_set():
                due = int((time.monotonic() - started) * self.rate)
                if due - self.sent > self.rate:  # fell behind during an outage: resume
                    started = time.monotonic() - self.sent / self.rate
                    due = self.sent
                while self.sent < due:
                    n = self.sent
                    value = json.dumps({"seq": n}).encode()
                    future = await producer.send(
                        self.topic, value=value, key=f"k{n % 1000}".encode()
                    )
                    future.add_done_callback(self._done)
                    self.sent += 1
                await asyncio.sleep(tick)
            await producer.flush()
        finally:
            await producer.stop()


# ---- the proxy process ------------------------------------------------------------------


class ProxyProcess:
    """`chaosbus proxy` as a child process, started again after each kill."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=log, cwd=ROOT)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout_s: float = 120) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


def proxy_argv(
    bootstrap: str,
    source: str,
    destination: str,
    group: str,
    run_id: str,
    mode: Mode,
    commit_interval_ms: int | None,
) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "chaosbus",
        "proxy",
        "--route",
        f"{source}:{destination}",
        "--bootstrap",
        bootstrap,
        "--group",
        group,
        "--run-id",
        run_id,
        "--delivery",
        mode,
    ]
    if commit_interval_ms is not None:
        argv += ["--commit-interval-ms", str(commit_interval_ms)]
    return argv


# ---- one mode ---------------------------------------------------------------------------


class Soak:
    def __init__(
        self,
        stack: LocalStack | None,
        bootstrap: str,
        mode: Mode,
        options: SoakOptions,
        log_dir: Path,
    ) -> None:
        self.stack, self.mode, self.options = stack, mode, options
        self.kafka = KafkaSettings(bootstrap)
        tag = uuid.uuid4().hex[:6]
        self.source, self.destination = f"soak-{tag}.src", f"soak-{tag}.dst"
        self.group, self.run_id = f"soak-{tag}", f"soak-{tag}"
        self.result = SoakResult(mode)
        self.windows: list[Window] = []
        argv = proxy_argv(
            bootstrap,
            self.source,
            self.destination,
            self.group,
            self.run_id,
            mode,
            options.commit_interval_ms,
        )
        self.proxy = ProxyProcess(argv, log_dir / f"soak-{mode}-{tag}.log")
        self.log = partial(print, flush=True)

    async def run(self) -> SoakResult:
        options = self.options
        started = time.monotonic()
        await create_topics(self.kafka, [self.source, self.destination], PARTITIONS)
        producer = SteadyProducer(self.kafka, self.source, options.rate)
        load = asyncio.create_task(producer.run())
        try:
            self.proxy.start()
            await self.await_consuming(0)
            await self.chaos(started)
            producer.stop()
            await load
        finally:
            producer.stop()
            if not load.done():
                load.cancel()
                with suppress(asyncio.CancelledError):
                    await load
        self.result.producer_failures = producer.failures
        await self.await_caught_up()
        code = self.proxy.terminate()
        self.log(f"[{self.mode}] proxy stopped with exit code {code}")
        await self.count()
        self.result.seconds = time.monotonic() - started
        return self.result

    async def chaos(self, started: float) -> None:
        """The kills and broker restarts, in one seeded schedule over `seconds`."""
        options = self.options
        rng = random.Random(options.seed)
        events = [(rng.uniform(0.05, 0.95) * options.seconds, "kill") for _ in range(options.kills)]
        events += [
            (options.seconds * (i + 1) / (options.broker_restarts + 1), "broker")
            for i in range(options.broker_restarts)
        ]
        events.sort()
        # Each event also waits until the proxy has caught up with the load again, then a
        # seeded 0-2 s: a kill during the catch-up after the last restart would measure that
        # restart's backlog (whole 5,000-message turns in flight), not the steady window.
        gaps = [rng.uniform(0.0, 2.0) for _ in events]
        for (at, kind), gap in zip(events, gaps, strict=True):
            await self.sleep_watching(started + at - time.monotonic())
            await self.await_steady()
            await self.sleep_watching(gap)
            if kind == "kill":
                await self.kill_and_restart()
            else:
                await self.restart_broker()
        await self.sleep_watching(started + options.seconds - time.monotonic())

    async def sleep_watching(self, seconds: float) -> None:
        """Let the load run for `seconds`, restarting the proxy if it ends by itself."""
        deadline = time.monotonic() + max(0.0, seconds)
        while time.monotonic() < deadline:
            if not self.proxy.alive():
                await self.restart_exited()
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))

    async def restart_exited(self) -> None:
        self.result.exits += 1
        code = self.proxy.process.returncode if self.proxy.process else None
        self.log(f"[{self.mode}] the proxy exited by itself (code {code}); restarting it")
        await self.note_window()
        mark = sum((await ends(self.kafka, self.destination)).values())
        self.proxy.start()
        await self.await_consuming(mark)

    async def note_window(self) -> None:
        done = await committed(self.kafka, self.group, self.source)
        self.windows.append(Window(done, await ends(self.kafka, self.destination)))

    async def kill_and_restart(self) -> None:
        self.proxy.kill()
        self.result.kills += 1
        await self.note_window()
        mark = sum((await ends(self.kafka, self.destination)).values())
        self.proxy.start()
        await self.await_consuming(mark)
        self.log(f"[{self.mode}] kill {self.result.kills}: consuming again")

    async def restart_broker(self) -> None:
        if self.stack is None:
            raise SoakFailed("--broker-restarts needs the soak's own stack (no --bootstrap)")
        node = self.stack.kafka()
        await asyncio.to_thread(node.stop)
        await asyncio.to_thread(node.start)
        self.result.broker_restarts += 1
        if not self.proxy.alive():
            await self.restart_exited()
        mark = sum((await ends(self.kafka, self.destination)).values())
        await self.await_consuming(mark)
        self.log(f"[{self.mode}] broker restart {self.result.broker_restarts}: consuming again")

    async def await_consuming(self, mark: int) -> None:
        """Until the destination grows past `mark` (the proxy reads and sends again)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while sum((await ends(self.kafka, self.destination)).values()) <= mark:
            if time.monotonic() > deadline:
                raise SoakFailed(f"the proxy sent nothing within {READY_TIMEOUT_S:.0f} s")
            if not self.proxy.alive():
                self.result.exits += 1
                self.log(f"[{self.mode}] the proxy exited while starting; restarting it")
                self.proxy.start()
            await asyncio.sleep(POLL_S)

    async def await_steady(self) -> None:
        """Until the group's committed lag is what steady load leaves: the messages of one
        commit interval and one second more."""
        interval_ms = self.options.commit_interval_ms
        if interval_ms is None:
            interval_ms = DEFAULT_COMMIT_INTERVAL_MS
        bound = self.options.rate * (interval_ms / 1000 + 1.0)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if not self.proxy.alive():
                await self.restart_exited()
            source_end = await ends(self.kafka, self.source)
            done = await committed(self.kafka, self.group, self.source)
            if sum(end - done.get(p, 0) for p, end in source_end.items()) <= bound:
                return
            if time.monotonic() > deadline:
                raise SoakFailed(f"the proxy did not catch up within {READY_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_S)

    async def await_caught_up(self) -> None:
        """Until the group has committed the source's ends and the destination stands still."""
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        source_end = await ends(self.kafka, self.source)
        last: dict[int, int] | None = None
        while True:
            if not self.proxy.alive():
                await self.restart_exited()
            done = await committed(self.kafka, self.group, self.source)
            lag = sum(end - done.get(p, 0) for p, end in source_end.items())
            now = await ends(self.kafka, self.destination)
            if lag == 0 and now == last:
                return
            last = now if lag == 0 else None
            if time.monotonic() > deadline:
                raise SoakFailed(f"the proxy did not catch up within {CATCH_UP_TIMEOUT_S:.0f} s")
            await asyncio.sleep(1.0)

    async def count(self) -> None:
        source = await read_topic(self.kafka, self.source, timeout_s=300)
        destination = await read_topic(self.kafka, self.destination, timeout_s=300)
        where: dict[int, tuple[int, int]] = {}
        in_source: Counter[int] = Counter()
        for envelope in source:
            seq = json.loads(envelope.value or b"{}")["seq"]
            in_source[seq] += 1
            where.setdefault(seq, (envelope.source.partition, envelope.source.offset))
        in_destination: Counter[int] = Counter()
        copies: dict[int, list[tuple[int, int]]] = {}  # (destination, source offset)
        for envelope in destination:
            seq = json.loads(envelope.value or b"{}")["seq"]
            in_destination[seq] += 1
            _, offset = where.get(seq, (-1, -1))
            at = envelope.source
            copies.setdefault(at.partition, []).append((at.offset, offset))
        windows = [w.redelivered(copies) for w in self.windows]
        resent: set[tuple[int, int]] = set().union(*windows)
        result = self.result
        result.window_sizes = [len(w) for w in windows]
        result.produced = len(source)
        result.delivered = len(destination)
        result.lost = sum(1 for seq in in_source if seq not in in_destination)
        for seq, count in in_destination.items():
            extra = count - in_source.get(seq, 0)
            if extra <= 0:
                continue
            result.duplicates += extra
            if where.get(seq) not in resent:
                result.outside_windows += extra
        ledger, _ = await read_ledger(
            self.kafka, self.run_id, source_topic=self.source, timeout_s=300
        )
        result.redelivered = redelivered(ledger)
        coords = [(e.source.partition, e.source.offset) for e in destination]
        result.unledgered = unledgered_copies(
            ledger, route_name(self.source, self.destination), coords
        )


# ---- the command ------------------------------------------------------------------------


def table(results: list[SoakResult]) -> list[str]:
    rows: list[tuple[str, Callable[[SoakResult], object]]] = [
        ("kills", lambda r: r.kills),
        ("broker restarts", lambda r: r.broker_restarts),
        ("proxy exits by itself", lambda r: r.exits),
        ("messages (source)", lambda r: r.produced),
        ("destination records", lambda r: r.delivered),
        ("lost", lambda r: r.lost),
        ("duplicates", lambda r: r.duplicates),
        ("  past no kill's last commit", lambda r: r.outside_windows),
        ("  per kill", lambda r: f"{r.duplicates / r.kills:.0f}" if r.kills else "-"),
        ("redelivered (ledger, report)", lambda r: r.redelivered),
        ("unledgered copies", lambda r: r.unledgered),
        # At-least-once only: a transaction's offsets become visible to a fetch a moment
        # after its copies, so right after a crash the exactly-once figure overcounts.
        ("sent past the last commit, per crash", _window),
        ("producer send failures", lambda r: r.producer_failures),
        ("seconds", lambda r: f"{r.seconds:.0f}"),
    ]
    width = 38
    lines = [f"{'':{width}}" + "".join(f"{r.mode:>16}" for r in results)]
    for name, value in rows:
        lines.append(f"{name:{width}}" + "".join(f"{value(r)!s:>16}" for r in results))
    return lines


def _window(result: SoakResult) -> str:
    return _mean(result.window_sizes) if result.mode == "at-least-once" else "-"


def _mean(values: list[int]) -> str:
    return f"{sum(values) / len(values):.0f}" if values else "-"


async def soak(
    bootstrap: str,
    stack: LocalStack | None,
    modes: tuple[Mode, ...],
    options: SoakOptions,
    log_dir: Path,
) -> list[SoakResult]:
    results = []
    for mode in modes:
        results.append(await Soak(stack, bootstrap, mode, options, log_dir).run())
    return results


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, SoakOptions]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("both", *MODES), default="both")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--broker-restarts", type=int, default=2)
    parser.add_argument("--rate", type=int, default=2_000, help="messages per second")
    parser.add_argument("--seconds", type=float, default=120.0, help="load time at least")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commit-interval-ms", type=int, help="passed to chaosbus proxy")
    parser.add_argument("--quick", action="store_true", help="3 kills, 1 broker restart, 40 s")
    parser.add_argument("--bootstrap", help="an existing broker (no broker restarts then)")
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.broker_restarts, args.seconds = 3, 1, 40.0
    if args.bootstrap and args.broker_restarts:
        parser.error("--bootstrap names a broker the soak cannot restart: add --broker-restarts 0")
    options = SoakOptions(
        kills=args.kills,
        broker_restarts=args.broker_restarts,
        rate=args.rate,
        seconds=args.seconds,
        seed=args.seed,
        commit_interval_ms=args.commit_interval_ms,
    )
    return args, options


def main() -> None:
    args, options = parse()
    # The broker restarts make aiokafka log every refused connection; the table is the output.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    modes = MODES if args.mode == "both" else (args.mode,)
    print(
        f"soak: {options.kills} kills, {options.broker_restarts} broker restarts, "
        f"{options.rate} msg/s for {options.seconds:.0f} s at least, seed {options.seed}, "
        f"commit interval {options.commit_interval_ms or 'default'}; logs in {args.log_dir}"
    )
    try:
        if args.bootstrap:
            results = asyncio.run(soak(args.bootstrap, None, modes, options, args.log_dir))
        else:
            with private_stack() as stack:
                results = asyncio.run(soak(stack.bootstrap, stack, modes, options, args.log_dir))
    except SoakFailed as exc:
        print(f"soak: {exc}", file=sys.stderr)
        raise SystemExit(3) from exc
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
