"""A live run's verdict as metrics: gauges read at each scrape from the last tick.

    chaosbus.run.anomalies        by `chaosbus.anomaly` (every class, and `total`)
    chaosbus.run.judged_share     coverage.judged_share so far (absent until judged)
    chaosbus.run.guardrail        each guardrail's value, by `chaosbus.guardrail`
    chaosbus.run.guardrail_bound  its bound, by `chaosbus.guardrail` and `chaosbus.side`
                                  (`max` or `min`): a panel draws the value against it
    chaosbus.run.intensity        the injection's intensity now (0 in warm-up and recovery)
    chaosbus.kill_switch          1 while the kill switch or an unreachable control plane
                                  stops injection (as `chaosbus proxy` reports it)

The route loop's own metrics (decisions, held copies, lag…) come from `streams.telemetry`
through the same meter provider.
"""

from __future__ import annotations

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.monitors.anomalies import ANOMALY_NAMES
from chaosbus.runner.observe import Observed


class RunMetrics:
    def __init__(self, meter_provider: metrics.MeterProvider, spec: ExperimentSpec) -> None:
        self.spec = spec
        self.observed: Observed | None = None
        self.intensity = 0.0
        self.injection_off = False
        meter = meter_provider.get_meter("chaosbus.runner")
        gauges = {
            "chaosbus.run.anomalies": (self._anomalies, "live anomalies by class"),
            "chaosbus.run.judged_share": (self._judged, "share of the source judged so far"),
            "chaosbus.run.guardrail": (self._guardrails, "each guardrail's value"),
            "chaosbus.run.guardrail_bound": (self._bounds, "each guardrail's bound"),
            "chaosbus.run.intensity": (self._intensity, "the injection's intensity"),
            "chaosbus.kill_switch": (self._switch, "1 while the kill switch stops faults"),
        }
        for name, (callback, description) in gauges.items():
            meter.create_observable_gauge(name, callbacks=[callback], description=description)

    def _anomalies(self, _: CallbackOptions) -> list[Observation]:
        observed = self.observed
        if observed is None:
            return []
        return [
            Observation(observed.value(f"anomalies.{name}") or 0.0, {"chaosbus.anomaly": name})
            for name in (*ANOMALY_NAMES, "total")
        ]

    def _judged(self, _: CallbackOptions) -> list[Observation]:
        share = None if self.observed is None else self.observed.value("coverage.judged_share")
        return [] if share is None else [Observation(share)]

    def _guardrails(self, _: CallbackOptions) -> list[Observation]:
        observed = self.observed
        if observed is None:
            return []
        out = []
        for guardrail in self.spec.guardrails:
            value, _held = observed.judge(guardrail)
            if value is not None:
                out.append(Observation(value, {"chaosbus.guardrail": guardrail.label}))
        return out

    def _bounds(self, _: CallbackOptions) -> list[Observation]:
        out = []
        for guardrail in self.spec.guardrails:
            for side, bound in (("max", guardrail.max), ("min", guardrail.min)):
                if bound is not None:
                    labels = {"chaosbus.guardrail": guardrail.label, "chaosbus.side": side}
                    out.append(Observation(bound, labels))
        return out

    def _intensity(self, _: CallbackOptions) -> list[Observation]:
        return [Observation(self.intensity)]

    def _switch(self, _: CallbackOptions) -> list[Observation]:
        return [Observation(1 if self.injection_off else 0)]
