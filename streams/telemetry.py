"""Tracing and metrics of the interposer (OpenTelemetry).

The W3C trace context of a source message is continued: a `chaosbus.decide` span is a child
of the incoming `traceparent`, and each emission gets a `chaosbus.emit` span, child of the
decision, whose context replaces the inbound `traceparent` in the produced headers. A held
message keeps its decision context until it is released, so a trace shows the delay.

Copies are byte-identical to their source when tracing is off. With tracing on, only the
`traceparent`/`tracestate` headers differ: each delivery is its own hop in the trace.
The inbound header is stripped rather than appended to, because consumers read the first
`traceparent` they find and would otherwise skip the interposer's hop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates

TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
_PROPAGATOR = TraceContextTextMapPropagator()


Carrier = Sequence[tuple[str, bytes | None]]


class _HeaderGetter(Getter[Carrier]):
    def get(self, carrier: Carrier, key: str) -> list[str] | None:
        found = [
            value.decode("latin-1") for name, value in carrier if name == key and value is not None
        ]
        return found or None

    def keys(self, carrier: Carrier) -> list[str]:
        return [name for name, _ in carrier]


_GETTER = _HeaderGetter()


def trace_id_of(headers: Sequence[tuple[str, bytes | None]]) -> str | None:
    """The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), if any."""
    for name, value in headers:
        if name == "traceparent":
            if value is None:  # a null header value is legal in Kafka
                return None
            parts = value.decode("latin-1").split("-")
            if len(parts) >= 4 and len(parts[1]) == 32 and parts[1] != "0" * 32:
                return parts[1].lower()
            return None
    return None


class Telemetry:
    """Spans and metrics for decisions and emissions; a no-op unless enabled."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        route: str = "",
    ) -> None:
        self.enabled = tracer_provider is not None
        self._route = route
        self._tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer(
            "chaosbus.streams"
        )
        meter = (meter_provider or metrics.NoOpMeterProvider()).get_meter("chaosbus.streams")
        self._faults = meter.create_counter(
            "chaosbus.decisions", description="decisions by fault type"
        )
        self._added_delay = meter.create_histogram(
            "chaosbus.added_delay", unit="ms", description="delay a fault added to an emission"
        )
        self._meter = meter
        self._fault_attributes: dict[str, dict[str, str]] = {}
        self._decisions: dict[SourceCoordinates, tuple[Span, int]] = {}

    @classmethod
    def disabled(cls) -> Telemetry:
        return cls(None)

    def observe_held(self, held: Callable[[], int]) -> None:
        """Report the number of held emissions as a gauge, read when metrics are collected."""

        def observe(_: CallbackOptions) -> list[Observation]:
            return [Observation(held(), {"chaosbus.route": self._route})]

        self._meter.create_observable_gauge(
            "chaosbus.held", callbacks=[observe], description="emissions held by faults"
        )

    def decided(
        self, envelope: Envelope, fault: str, expected_emissions: int, now_ms: int
    ) -> str | None:
        """Count the decision and open its span; returns the trace id the decision is in
        (the decision span's when tracing, else the inbound `traceparent`'s, else None)."""
        attributes = self._fault_attributes.get(fault)
        if attributes is None:
            # Built once per fault type: this runs for every message forwarded.
            attributes = {"chaosbus.fault": fault, "chaosbus.route": self._route}
            self._fault_attributes[fault] = attributes
        self._faults.add(1, attributes)
        if not self.enabled:
            return trace_id_of(envelope.headers)
        parent = _PROPAGATOR.extract(envelope.headers, getter=_GETTER)
        span = self._tracer.start_span(
            "chaosbus.decide",
            context=parent,
            # The decision's logical time, the base of every planned release.
            start_time=now_ms * 1_000_000,
            kind=SpanKind.CONSUMER,
            attributes={
                **attributes,
                "messaging.source.name": envelope.source.topic,
                "messaging.kafka.partition": envelope.source.partition,
                "messaging.kafka.offset": envelope.source.offset,
            },
        )
        span.end()
        # Kept until the last copy is emitted: a held message keeps its context while held.
        self._decisions[envelope.source] = (span, expected_emissions)
        return format(span.get_span_context().trace_id, "032x")

    def outgoing_headers(
        self, envelope: Envelope, emission: Emission
    ) -> list[tuple[str, bytes | None]]:
        if emission.planned_delay_ms:
            self._added_delay.record(emission.planned_delay_ms, {"chaosbus.route": self._route})
        if not self.enabled:
            return list(envelope.headers)
        decision = self._decisions.get(envelope.source)
        parent = trace.set_span_in_context(decision[0]) if decision else otel_context.Context()
        span = self._tracer.start_span(
            "chaosbus.emit",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "chaosbus.copy": emission.copy,
                "chaosbus.planned_delay_ms": emission.planned_delay_ms,
                "chaosbus.route": self._route,
            },
        )
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
        span.end()
        headers = [(k, v) for k, v in envelope.headers if k not in TRACE_HEADERS]
        headers.extend((k, v.encode("latin-1")) for k, v in carrier.items())
        return headers

    def emitted(self, emission: Emission) -> None:
        if not self.enabled:
            return
        source = emission.envelope.source
        entry = self._decisions.get(source)
        if entry is None:
            return
        span, remaining = entry
        if remaining <= 1:
            del self._decisions[source]
        else:
            self._decisions[source] = (span, remaining - 1)
