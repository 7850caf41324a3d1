"""The run's interposer as a child process of `chaosbus run` (decision 0271).

    python -m chaosbus.runner.interposer_child
      stdin   Launch, then Command lines (runner.interposer_protocol)
      stdout  Status lines: started, the counts every STATUS_EVERY_S, a final one
      stderr  its log, by `chaosbus.logs`' console rules; the runner relays each line

It runs the same `TopicSide` an in-process run does, so a decision is the same whichever
process makes it. Its life:

1. read the Launch, open the topic side (the proxy starts), say `started`;
2. apply each Command: intensity, the kill switch's halt (injection stops at once and what
   is held is released), the scoped pauses (`chaosbus pause`), stop;
3. stop on a `stop` command, on stdin closing (the runner is gone: fail closed, never keep
   injecting without it) or on SIGTERM: the proxy releases what it holds, drains, commits;
   then a `final` Status, exit 0. A proxy that fails says its `failure` line and exits 2.

It ignores SIGINT: it runs in a session of its own, and a Ctrl-C is the runner's to act on
(the runner stops it through stdin, after its own wind-down).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiokafka.errors import KafkaConnectionError

from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.errors import Unreachable
from chaosbus.logs import console_logging
from chaosbus.runner.interposer_protocol import STATUS_EVERY_S, Command, Launch, Status
from chaosbus.runner.topic_side import TopicSide

EXIT_FAILED = 2


def status_of(side: TopicSide, **extra: object) -> Status:
    return Status.model_validate(
        {
            "counts": side.fault_counts(),
            "refused": side.refused(),
            "suppressed": side.suppressed_counts(),
            "held": side.held,
            **extra,
        }
    )


def say(status: Status) -> None:
    # The runner gone, nobody reads: stdin's end stops the child, not a broken pipe here.
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.buffer.write(status.line())
        sys.stdout.buffer.flush()


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def obey(commands: asyncio.StreamReader, side: TopicSide) -> None:
    """Apply commands until `stop` or the end of stdin."""
    while line := await commands.readline():
        command = Command.model_validate_json(line)
        if command.intensity is not None:
            side.set_intensity(command.intensity)
        if command.injecting is False:
            await side.stop_injecting()
        if command.pauses is not None:
            side.apply_pauses(command.pauses.paused())
        if command.stop:
            return


async def report_until_failed(side: TopicSide) -> BaseException:
    """Say the counts every STATUS_EVERY_S; returns what stopped the proxy, if it stops."""
    while (failure := side.failure()) is None:
        say(status_of(side, started=True))
        await asyncio.sleep(STATUS_EVERY_S)
    return failure


async def run(commands: asyncio.StreamReader, launch: Launch) -> Status:
    side = TopicSide(
        launch.experiment(),
        kafka=launch.settings(),
        run_id=launch.run_id,
        salt=launch.identifier_salt(),
    )
    side.set_intensity(launch.intensity)
    side.apply_pauses(launch.pauses.paused())
    if not launch.injecting:
        await side.stop_injecting()
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    async with side:
        say(status_of(side, started=True))
        tasks = {
            asyncio.create_task(obey(commands, side)),
            asyncio.create_task(stopping.wait()),
            reporting := asyncio.create_task(report_until_failed(side)),
        }
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Fail closed whatever ended the wait: nothing more is injected from here on.
        await side.stop_injecting()
        await side.stop()
        if reporting in done:
            return failed(reporting.result())
    failure = side.failure()
    return failed(failure) if failure is not None else status_of(side, final=True)


def failed(exc: BaseException) -> Status:
    unreachable = isinstance(exc, BrokerUnreachable | Unreachable | KafkaConnectionError)
    return Status(failure=str(exc) or type(exc).__name__, unreachable=unreachable)


async def main() -> int:
    commands = await stdin_lines()
    first = await commands.readline()
    if not first:
        return 0  # the runner went before it launched anything
    launch = Launch.model_validate_json(first)
    try:
        status = await run(commands, launch)
    except Exception as exc:  # what stopped the proxy before or while it started
        status = failed(exc)
    say(status)
    return EXIT_FAILED if status.failure is not None else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with console_logging():
        sys.exit(asyncio.run(main()))
