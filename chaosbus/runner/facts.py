"""What a run observed, frozen: the one input of the report assembly (`runner.assembly`).

    run (live)           ─┐
    check (a recorded     ├─► RunFacts ─► assemble(spec, facts) ─► RunReport
    window, after)       ─┘        │
                                   └─► (a run history stores it; `rerun` re-assembles it)

The facts hold what was observed, and the judgements that can only be made while a run is
live (the steady state before injection, each guardrail's worst value, the time to
recovery), never the rules: the assembly takes those from the experiment, so the same
experiment over the same facts gives the same report. Every field is plain data (a frozen
pydantic model, JSON both ways), so facts can be stored beside the experiment they ran and
assembled again later.

With `privacy: hashed` the checks' examples are pseudonymised *before* they become facts
(`observed_checks`): stored facts carry no raw key or event id, and the salt is never kept.

`window` is when the facts were gathered: a run's own start, end and phases; for `check`
today the moment of the check (no phases). A `check` that reads a recorded run's facts can
carry that run's window instead (decision 0190).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict

from chaosbus.experiment.governance import Privacy
from chaosbus.monitors.lag import ServiceProgress
from chaosbus.monitors.reads import Reads
from chaosbus.monitors.report import MonitorReport
from chaosbus.report.model import HypothesisResult, PhaseSpan, TimelinePoint, TrafficResult
from chaosbus.runner.privacy import pseudonymised
from chaosbus.runner.retry_observation import RetryObservation


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Window(_Frozen):
    """When the facts were gathered (epoch ms), with the run's phases and its timeline."""

    started_ms: int
    ended_ms: int
    phases: tuple[PhaseSpan, ...] = ()
    timeline: tuple[TimelinePoint, ...] = ()

    @classmethod
    def at(cls, now_ms: int) -> Window:
        """A window of one moment: facts read at once, after the fact."""
        return cls(started_ms=now_ms, ended_ms=now_ms)


class RunFacts(_Frozen):
    run_id: str
    actor: str
    window: Window
    # The batch verdict of each check, examples pseudonymised under `privacy: hashed`.
    checks: dict[str, MonitorReport]
    faults: dict[str, int]  # decisions by type, `pass` (and `http.<type>`) included
    faults_suppressed: dict[str, int]  # faults each blast-radius cap turned into passes
    redelivered: int = 0  # crash re-deliveries (`monitors.redelivery`), apart from faults
    # What the monitors could read: each probe's failed reads, the catch-up (decision 0270).
    reads: Reads = Reads()
    # A supervised interposer's restarts, one line each: when, and why (decision 0271).
    interposer_restarts: tuple[str, ...] = ()
    service: ServiceProgress | None = None  # the service's consumer group, when named
    retries: RetryObservation | None = None  # the HTTP side's retry verdict, with routes
    http_routes: tuple[str, ...] = ()  # `name: listen -> upstream`, as the run proxied them
    request_log: str | None = None  # where the run wrote its HTTP request log
    traffic: TrafficResult | None = None  # `run --traffic CMD`: its exit and output
    # Judged or measured live, only by a run: `live` False (check) has none of them, and
    # leaves `time_to_recovery_s` bounds out of the judgement (unknown after the fact).
    live: bool = True
    before: tuple[HypothesisResult, ...] = ()
    time_to_recovery_s: float | None = None
    guardrail_worst: dict[int, float] = {}  # by index in the experiment's `guardrails`
    abort_reason: str | None = None


FactsSink = Callable[["RunFacts"], None]
"""Given the facts once they are frozen: how `run` and `check` hand them to a run history."""


def new_salt(privacy: Privacy) -> bytes | None:
    """A fresh salt per run (or check) under `privacy: hashed`, held in memory only: its
    pseudonyms cannot be linked to another run's nor reversed by guessing once it is over."""
    return secrets.token_bytes(16) if privacy.identifiers == "hashed" else None


def observed_checks(
    reports: Mapping[str, MonitorReport], salt: bytes | None
) -> dict[str, MonitorReport]:
    """The checks' reports as facts keep them: every identifier hashed when there is a
    salt (the privacy step of every path to a report)."""
    return pseudonymised(reports, salt)
