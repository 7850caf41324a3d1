"""The run report (ARCHITECTURE §4): the contract other tools read.

`status` is a name of the table of statuses (`chaosbus.report.status.STATUSES`: `held |
violated | aborted | error | inconclusive`, each with its exit code and wording);
`hypotheses` are the steady-state bounds
as judged before injection and after recovery; `anomalies` and `metrics` are the monitors'
fragment summed over every check (each check's own report is under `checks`); `faults`
counts decisions by type, `pass` included, and `faults_suppressed` the faults a blast-radius
cap turned into passes, by cap (`max_faults`, `max_faults_per_s`, …); `timeline` has one
point per second; `service` is the service's consumer-group progress when
`monitor.service_group` is declared. With `http_routes`, `faults` adds `http.<type>` keys,
`metrics.retries` the retry metrics, `anomalies` the retry anomalies (decision 0110).
`remedies` (derived from `anomalies`, recomputed on read) says what to change for each
anomaly found, in plain words for the people who build the flows, in the service and per
platform in the automation (`monitors.remedies`); `platform_presets` names the platform
presets the experiment used and the factor their time was compressed by.
`baseline` is the side-by-side comparison with a stored run (`report.comparison`), when
the run was compared with one. `redelivered` counts the copies an at-least-once interposer
sent again after a restart (the ledger decided their source messages twice,
`monitors.redelivery`): no fault asked for them, so they are not in `faults` (each source
message's decision is counted once). `reads` says what the monitors could read
(`monitors.reads`): each probe's failed reads and its last error, whether the source and
the ledger were read to the source's end; `interposer_restarts` when the run's interposer
(a supervised child process) was killed and started again.
Bump `REPORT_VERSION` on any incompatible change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from chaosbus.monitors.lag import ServiceProgress
from chaosbus.monitors.reads import Reads
from chaosbus.monitors.remedies import remedy
from chaosbus.monitors.report import Anomalies, Metrics, MonitorReport
from chaosbus.platforms.presets import PresetUse
from chaosbus.report.comparison import Comparison
from chaosbus.report.status import STATUSES, StatusRow
from chaosbus.report.status import Status as Status  # re-exported: the runner reads it here

# 2: status `inconclusive`, coverage's source/judged events and share, causes of examples.
REPORT_VERSION = 2

# A view of the table of statuses (`chaosbus.report.status`), kept for its readers.
EXIT_CODES: dict[str, int] = {name: row.exit_code for name, row in STATUSES.items()}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HypothesisResult(_Frozen):
    name: str
    metric: str
    check: str | None = None
    threshold: str
    observed: float | None
    held: bool | None  # None: no value to judge (e.g. no latency sample)
    phase: Literal["before", "after"]


class GuardrailResult(_Frozen):
    name: str
    metric: str
    check: str | None = None
    threshold: str
    for_s: float
    worst: float | None
    breached: bool


class PhaseSpan(_Frozen):
    name: str  # preflight | warmup | inject | recover | settle | abort
    start_s: float
    end_s: float


class TimelinePoint(_Frozen):
    t_s: float  # seconds since the run started
    phase: str
    faults_per_s: float
    forwarded_per_s: float
    anomalies: int  # live count at that moment (units currently judged bad)
    anomalies_per_s: float  # newly counted per second
    latency_p99_ms: float | None
    held: int
    intensity: float
    # The HTTP side: faults injected and requests (attempts) the proxies received, per second.
    http_faults_per_s: float = 0.0
    http_requests_per_s: float = 0.0


class RemedyText(_Frozen):
    """What to change for one anomaly: in the service, and in the automation per platform."""

    explanation: str
    service: list[str]
    automation: dict[str, str]  # platform name (or `any`) → advice


class TrafficResult(_Frozen):
    """The user's traffic command (`run --traffic CMD`), started when injection began: how
    it ended and where its output (stdout and stderr together) is kept."""

    command: str
    output: str  # the file its stdout and stderr went to
    started_s: float  # since the run's start
    exit_code: int | None  # None: it could not be started (`error` says why)
    # Still running when the run wound down: chaosbus stopped it (SIGTERM), not a failure.
    stopped: bool = False
    error: str | None = None

    @property
    def failed(self) -> bool:
        return not self.stopped and self.exit_code != 0

    def describe(self) -> str:
        """`traffic command `…` exited 1 (output: PATH)`, one line."""
        if self.error is not None:
            how = f"could not start: {self.error}"
        elif self.stopped:
            how = "was still running at the end and was stopped"
        else:
            how = f"exited {self.exit_code}"
        return f"traffic command `{self.command}` {how} (output: {self.output})"


class RunReport(_Frozen):
    version: int = REPORT_VERSION
    name: str
    hypothesis: str
    status: Status
    reason: str | None = None
    run_id: str
    seed: int
    actor: str
    started_at: str  # ISO 8601, UTC
    started_ms: int | None = None  # the same instant in epoch ms: the timeline's zero
    duration_s: float
    routes: list[str]
    http_routes: list[str] = []  # `name: listen -> upstream`
    request_log: str | None = None  # the HTTP request log written beside the report
    traffic: TrafficResult | None = None  # `run --traffic CMD`: its exit and output
    # Judged by `check` after the fact: no live reads, so no latency nor recovery time.
    after_the_fact: bool = False
    hypotheses: list[HypothesisResult]
    anomalies: Anomalies
    faults: dict[str, int]
    faults_suppressed: dict[str, int] = {}
    redelivered: int = 0  # crash re-deliveries, apart from injected duplicates
    metrics: Metrics
    guardrails: list[GuardrailResult]
    checks: dict[str, MonitorReport]
    service: ServiceProgress | None = None  # the service's consumer group, when named
    # What the monitors could read (each probe's reads and failures, the catch-up): the
    # facts behind an `inconclusive` or `error` for want of data; None in older reports.
    reads: Reads | None = None
    # A supervised interposer's restarts, one line each ("was killed by SIGKILL at 6.2 s…").
    interposer_restarts: list[str] = []
    phases: list[PhaseSpan]
    timeline: list[TimelinePoint]
    platform_presets: list[PresetUse] = []  # issue 23: presets used, time compression
    # The run beside its baseline, when it was compared (`run --baseline`, `rerun`).
    baseline: Comparison | None = None

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        """A report's own JSON carries `remedies`; they are recomputed, not read."""
        if isinstance(data, dict) and "remedies" in data:
            return {k: v for k, v in data.items() if k != "remedies"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remedies(self) -> dict[str, RemedyText]:
        """What to change for each anomaly this report counts (`monitors.remedies`)."""
        out: dict[str, RemedyText] = {}
        for name, count in self.anomalies.counts.items():
            found = remedy(name) if count else None
            if found is not None:
                out[name] = RemedyText(
                    explanation=found.explanation,
                    service=list(found.service),
                    automation=dict(found.automation),
                )
        return out

    @property
    def status_row(self) -> StatusRow:
        """This report's row of the table of statuses: what every renderer shows."""
        return STATUSES[self.status]

    @property
    def exit_code(self) -> int:
        return self.status_row.exit_code
