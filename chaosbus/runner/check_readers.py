"""Each check's probe, opened by one function for a live run and for `chaosbus check`.

`open_check_reader` enters a check's probe (its kind's opener, `monitors.probes.registry`)
on the caller's exit stack. A live run (`runner.observation`) opens every check with
`from_now` and reads them on every poll; `check` (`runner.check_window`) opens them to read
everything so far, once. Either way a read feeds the `Collector` (`feed_reading`).

A probe that cannot start, or after the fact cannot read, is one line naming its check:
`InvalidInput` when refused or misconfigured (not worth a retry), `Unreachable` when it
did not answer.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.monitor import CheckSpec
from chaosbus.monitors.errors import MonitorError, ProbeError
from chaosbus.monitors.probes.kind import ProbeContext, ProbeReader
from chaosbus.monitors.probes.registry import open_probe


async def open_check_reader(
    stack: AsyncExitStack, check: CheckSpec, context: ProbeContext
) -> ProbeReader:
    """The reader of `check`'s probe, open until `stack` closes."""
    try:
        return await stack.enter_async_context(open_probe(check.probe, context))
    except MonitorError as exc:
        raise check_problem(check.name, exc) from exc


def check_problem(name: str, exc: MonitorError) -> InvalidInput:
    """The one line for a probe that failed: refused or untrusted is not worth a retry."""
    if isinstance(exc, ProbeError) and not exc.retriable:
        return InvalidInput(f"check {name}: {exc}")
    return Unreachable(f"check {name}: {exc}")
