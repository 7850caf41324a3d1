"""`chaosbus horizon`: how late a copy may come and still be recognised, measured.

    the experiment (one route, a `once` check reading the service's effects)
      → round 1: a run replays a few sampled events at each delay of a doubling ladder
      → per delay: the ledger says which events were replayed at it, the effects say which
        of them the service applied twice (`horizon_search.outcomes_of`)
      → the bracket (largest delay that held, smallest that failed) → the next ladder
        splits it (`horizon_search`) → … until it is narrower than the precision
      → "duplicates are recognised up to ≥ X s, applied twice from Y s", beside the
        re-delivery offsets of the platforms named

Each round is an ordinary `run_experiment`: the kill switch, the audit log, the guardrails
and the ledger apply, and its blast radius caps the faults at samples times delays times
partitions. Its recovery outlasts the round's longest delay, so every copy lands before the
round is judged. The service under test must write effects naming their events (an effects
topic, an HTTP listing or a SQL effects query): one event, one effect; a second effect is a
copy applied twice. Bounds (time and faults) are checked before anything runs.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from chaosbus.clients.errors import BrokerUnreachable
from chaosbus.errors import InvalidInput, Unreachable
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors import compile_extractors
from chaosbus.monitors.errors import MonitorError
from chaosbus.monitors.probes.kafka_reader import read_ledger, read_source
from chaosbus.monitors.probes.kind import ProbeContext
from chaosbus.monitors.probes.registry import shape_of
from chaosbus.platforms.horizon_search import (
    Bracket,
    Tried,
    bracket,
    first_ladder,
    next_ladder,
    outcomes_of,
)
from chaosbus.platforms.presets import duration
from chaosbus.platforms.profile import Profile
from chaosbus.runner import RunOptions, run_experiment
from chaosbus.runner.check_readers import open_check_reader
from chaosbus.runner.preflight import check_topics

FAULT_PREFIX = "horizon@"
MAX_DELAY_MS = 600_000  # ten minutes: a round lasts longer than its longest delay
MAX_TOTAL_S = 3_600.0  # a search, all rounds together
MARGIN_S = 2.0  # after the longest delay of a round: the copy is applied, the effect written


@dataclass(frozen=True)
class HorizonPlan:
    check: str | None = None  # the `once` check; the experiment's only one when None
    min_delay_ms: int = 250
    max_delay_ms: int = 60_000
    precision_ms: int = 250
    samples: int = 1  # events replayed per delay and source partition
    points: int = 4  # delays per refining round
    max_rounds: int = 6
    warmup_s: float = 1.0
    inject_s: float = 5.0

    def problems(self) -> list[str]:
        out: list[str] = []
        if not 1 <= self.min_delay_ms < self.max_delay_ms:
            out.append("--min-delay must be at least 1 ms and below --max-delay")
        if self.max_delay_ms > MAX_DELAY_MS:
            out.append(
                f"--max-delay {self.max_delay_ms / 1000:g} s exceeds the limit of "
                f"{MAX_DELAY_MS / 1000:g} s per round"
            )
        if self.precision_ms < 1 or self.samples < 1 or self.points < 1 or self.max_rounds < 1:
            out.append("--precision, --samples, --points and --rounds must be positive")
        if self.worst_case_s(2.0) > MAX_TOTAL_S:
            out.append(
                f"the search could take {self.worst_case_s(2.0):.0f} s, over the "
                f"limit of {MAX_TOTAL_S:.0f} s: fewer --rounds or a shorter --max-delay"
            )
        return out

    def round_s(self, longest_ms: int, settle_s: float) -> float:
        return self.warmup_s + self.inject_s + longest_ms / 1000 + MARGIN_S + settle_s

    def worst_case_s(self, settle_s: float) -> float:
        return self.max_rounds * self.round_s(self.max_delay_ms, settle_s)


@dataclass
class HorizonResult:
    tries: list[Tried] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    faults: int = 0
    elapsed_s: float = 0.0

    @property
    def bracket(self) -> Bracket:
        return bracket(self.tries)

    def lines(self, platforms: list[Profile]) -> list[str]:
        found = self.bracket
        lines = [found.sentence()]
        width = found.width_ms()
        if width is not None and found.held_ms is not None:
            lines.append(f"precision: {width / 1000:g} s")
        lines.append(
            f"{len(self.run_ids)} rounds, {self.faults} replayed copies, {self.elapsed_s:.0f} s"
            f" (runs {', '.join(self.run_ids)})"
        )
        for tried in sorted(self.tries, key=lambda t: t.delay_ms):
            lines.append(
                f"  {tried.delay_ms / 1000:g} s: {tried.outcome} ({len(tried.applied_twice)} of "
                f"{len(tried.replayed)} applied twice)"
            )
        if found.inconsistent:
            shown = ", ".join(f"{d / 1000:g} s" for d in found.inconsistent)
            lines.append(f"held again above the first failure at {shown}: not a clean window")
        lines += [platform_line(found, p) for p in platforms]
        return lines


def platform_line(found: Bracket, profile: Profile) -> str:
    """Which of a platform's documented re-deliveries the measured horizon catches."""
    offsets = sorted({*profile.retry_offsets_s, *profile.replay_offsets_s})
    if not offsets:
        return f"{profile.title}: sends no copy of its own (no retry or replay documented)"
    twice = [o for o in offsets if found.failed_ms is not None and o * 1000 >= found.failed_ms]
    caught = [o for o in offsets if found.held_ms is not None and o * 1000 <= found.held_ms]
    rest = [o for o in offsets if o not in twice and o not in caught]
    parts = [f"{profile.title} re-sends at {', '.join(duration(o) for o in offsets)}"]
    if caught:
        parts.append(f"recognised: {', '.join(duration(o) for o in caught)}")
    if twice:
        parts.append(f"applied twice: {', '.join(duration(o) for o in twice)}")
    if rest:
        parts.append(f"not settled by this measurement: {', '.join(duration(o) for o in rest)}")
    return "; ".join(parts)


def horizon_check(spec: ExperimentSpec, name: str | None) -> Any:
    """The `once` check whose effects count applications; refused in one line otherwise."""
    once = [c for c in spec.monitor.checks if c.model == "once"]
    chosen = [c for c in once if name is None or c.name == name]
    if len(spec.routes) != 1:
        raise InvalidInput(
            f"{spec.name}: the horizon is measured on one route, not {len(spec.routes)}"
        )
    if not chosen or (name is None and len(once) > 1):
        known = ", ".join(c.name for c in once) or "none"
        raise InvalidInput(
            f"{spec.name}: name one `once` check reading the service's effects with --check "
            f"(the experiment's once checks: {known})"
        )
    return chosen[0]


def round_spec(
    spec: ExperimentSpec, ladder: list[int], plan: HorizonPlan, partitions: int
) -> ExperimentSpec:
    """The experiment with the round's replays, its cap and a recovery past the longest."""
    data = spec.model_dump(mode="python", by_alias=True, exclude={"platform_presets"})
    data["faults"] = [
        {
            "name": f"{FAULT_PREFIX}{delay}ms",
            "type": "replay",
            "after_ms": delay,
            "trigger": {"times": plan.samples},
        }
        for delay in ladder
    ]
    blast = dict(data["blast_radius"])
    blast["max_faults"] = plan.samples * len(ladder) * partitions
    data["blast_radius"] = blast
    data["schedule"] = {
        "warmup_s": plan.warmup_s,
        "inject_s": plan.inject_s,
        "recover_s": math.ceil(max(ladder) / 1000 + MARGIN_S),
    }
    # The round's verdict is not the point: only its copies and their effects are read.
    data["steady_state"] = []
    return ExperimentSpec.model_validate(data)


async def measure(
    spec: ExperimentSpec, options: RunOptions, plan: HorizonPlan, *, say: Any = print
) -> HorizonResult:
    problems = plan.problems()
    if problems:
        raise InvalidInput("; ".join(problems))
    check = horizon_check(spec, plan.check)
    source = spec.routes[0].source
    partitions = (await check_topics(spec, options.kafka))[source]
    started = time.monotonic()
    result = HorizonResult()
    ladder = first_ladder(plan.min_delay_ms, plan.max_delay_ms)
    for number in range(1, plan.max_rounds + 1):
        say(f"round {number}: replaying at {', '.join(f'{d / 1000:g} s' for d in ladder)}")
        report = await run_experiment(round_spec(spec, ladder, plan, partitions), options)
        if report.status in ("aborted", "error"):
            raise InvalidInput(f"round {number} ended {report.status}: {report.reason}")
        result.run_ids.append(report.run_id)
        replayed = await _replayed(options, report.run_id, source, check)
        result.faults += sum(len(ids) for ids in replayed.values())
        applied = await _effect_counts(options, check)
        result.tries += outcomes_of(replayed, applied)
        found = result.bracket
        say(f"round {number}: {found.sentence()}")
        ladder = next_ladder(found, plan.points, plan.precision_ms, plan.min_delay_ms)
        if not ladder:
            break
    result.elapsed_s = time.monotonic() - started
    return result


async def _replayed(
    options: RunOptions, run_id: str, source: str, check: Any
) -> dict[int, list[str]]:
    """Per delay, the event ids (as the check reads them) the round replayed at it."""
    try:
        ledger, _ = await read_ledger(options.kafka, run_id, source_topic=source)
        envelopes = await read_source(options.kafka, source)
    except (MonitorError, BrokerUnreachable) as exc:
        raise Unreachable(str(exc)) from exc
    delays: dict[tuple[str, int, int], int] = {}
    for record in ledger:
        name = record.fault_name or ""
        if record.fault == "replay" and name.startswith(FAULT_PREFIX):
            delay = int(name.removeprefix(FAULT_PREFIX).removesuffix("ms"))
            delays[(record.topic, record.partition, record.offset)] = delay
    extractor = compile_extractors(check.extract, check.where)
    out: dict[int, list[str]] = defaultdict(list)
    for envelope in envelopes:
        at = envelope.source
        replayed_at = delays.get((at.topic, at.partition, at.offset))
        event = extractor(envelope) if replayed_at is not None else None
        if replayed_at is not None and event is not None:
            out[replayed_at].append(event.event_id)
    return dict(out)


async def _effect_counts(options: RunOptions, check: Any) -> Counter[str]:
    """How many effects name each event, all the service wrote so far (the check's probe
    read once from the beginning, as `chaosbus check` reads it)."""
    if shape_of(check.probe) == "state":
        raise InvalidInput(f"check {check.name!r} reads no effects")
    context = ProbeContext(
        kafka=options.kafka,
        redis_url=options.probe_redis_url or options.redis_url,
        key_prefix=options.key_prefix,
        from_now=False,
    )
    async with AsyncExitStack() as stack:
        reader = await open_check_reader(stack, check, context)
        try:
            reading = await reader.read((), int(time.time() * 1000))
        except MonitorError as exc:
            raise Unreachable(f"check {check.name}: {exc}") from exc
    return Counter(effect.event_id for effect in reading.effects)
