"""Preflight's look at each check's probe: one read, before anything is injected.

A probe that cannot reach the service's state would fail every poll of the run, and the
run would inject its faults for nothing and end `error` (issue 20: 87 faults injected,
then `nothing was judged`). So preflight (and `--dry-run`) opens each check's probe the
way the run will (`runner.check_readers`) and reads it once for `SAMPLE_ENTITY`:

- a value, or an absence (404/410, a missing key or row): passes;
- another refusal of the sample (a 4xx, a type error): passes, since the sample is not one
  of the service's entities, its refusal says nothing of theirs (the run's reads judge them);
- no answer (refused, timed out, a 5xx, the store away): refused, one line naming the
  check, the probe kind and the error (exit 2);
- a refused password or a bad address on opening: refused, `check NAME: …`, as a run's
  start always was.

The distinction is the probe's own: a `ProbeError` is `retriable` when the store did not
answer (`monitors.errors`).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from chaosbus.errors import Unreachable
from chaosbus.experiment.monitor import CheckSpec
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.errors import MonitorError
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.runner.check_readers import open_check_reader

# Named so that a service's access log says who asked (`GET /orders/chaosbus-preflight`).
SAMPLE_ENTITY = "chaosbus-preflight"
# Longer than any probe's own timeout (HTTP's default is 5 s): the probe says why first.
PROBE_TIMEOUT_S = 20.0


async def check_probes(
    spec: ExperimentSpec, context: ProbeContext, *, now_ms: int, timeout_s: float = PROBE_TIMEOUT_S
) -> list[str]:
    """Read every check's probe once; a line per check that answered (for `--dry-run`).
    Raises `Unreachable` (or `InvalidInput` when the probe refuses to open) for the first
    probe that did not answer."""
    lines = []
    for check in spec.monitor.checks:
        try:
            await asyncio.wait_for(_read_once(check, context, now_ms), timeout_s)
        except TimeoutError as exc:
            raise Unreachable(_refusal(check, f"no answer in {timeout_s:g} s")) from exc
        lines.append(f"check {check.name}: its {check.probe.kind} probe answered")
    return lines


async def _read_once(check: CheckSpec, context: ProbeContext, now_ms: int) -> None:
    async with AsyncExitStack() as stack:
        # Opening a listing reads it once already (its baseline); a probe that cannot open
        # is one line naming its check, as at a run's start (`check_readers.check_problem`).
        reader = await open_check_reader(stack, check, context)
        try:
            await reader.read([SAMPLE_ENTITY], now_ms)
        except MonitorError as exc:
            if exc.retriable:
                raise Unreachable(_refusal(check, str(exc))) from exc


def _refusal(check: CheckSpec, error: str) -> str:
    return f"check {check.name}: its {check.probe.kind} probe cannot read: {error}"
