"""Tracing and metrics of the interposer (OpenTelemetry).

The W3C trace context of a source message is continued: a `chaosbus.decide` span is a child
of the incoming `traceparent`, and each emission gets a `chaosbus.emit` span, child of the
decision, whose context replaces the inbound `traceparent` in the produced headers. A held
message keeps its decision context until it is released, so a trace shows the delay.

Head sampling (`sample_ratio`, `CHAOSBUS_TRACE_SAMPLE_RATIO`): a message whose inbound
`traceparent` is sampled upstream is always traced; any other is traced when the hash of its
source coordinates falls under the ratio (the same messages whatever the process), and an
untraced one gets no span and keeps its headers as they came. At 1.0 (the default) every
message is traced, as before.

Copies are byte-identical to their source when tracing is off. With tracing on, only the
`traceparent`/`tracestate` headers differ: each delivery is its own hop in the trace.
The inbound header is stripped rather than appended to, because consumers read the first
`traceparent` they find and would otherwise skip the interposer's hop.

Metrics (per route, attribute `chaosbus.route`; Prometheus names in docs/operations.md):

    chaosbus.messages.read           counter    every source message decided
    chaosbus.decisions               counter    by `chaosbus.fault` (type) and `chaosbus.fault_name`
    chaosbus.messages.forwarded      counter    copies the destination acknowledged
    chaosbus.messages.undeliverable  counter    copies the destination refused (route fails)
    chaosbus.messages.dead_lettered  counter    refused copies the dead-letter topic took
    chaosbus.held / chaosbus.held_bytes  gauges copies held by faults, and their bytes
    chaosbus.lag                     gauge      the route's group: messages not yet read
    chaosbus.commit.duration         histogram  ms of each source offset commit
    chaosbus.ledger.duration         histogram  ms from a ledger write to its acknowledgement
    chaosbus.added_delay             histogram  ms a fault added to an emission

Observable gauges are registered once per meter (`_RouteGauges`), each route adding its
callbacks: the SDK keeps only the first callback of an instrument created twice by name.
"""

from __future__ import annotations

import weakref
import zlib
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


def sampled_upstream(headers: Sequence[tuple[str, bytes | None]]) -> bool:
    """Whether a W3C `traceparent` says its trace is sampled (flag bit 0 of the last field)."""
    for name, value in headers:
        if name == "traceparent":
            if value is None:
                return False
            parts = value.split(b"-")
            try:
                return len(parts) >= 4 and bool(int(parts[3][:2], 16) & 1)
            except ValueError:
                return False
    return False


class _RouteGauges:
    """The gauges of every route on one meter: one instrument each, a callback per route."""

    def __init__(self, meter: metrics.Meter) -> None:
        self.sources: dict[str, list[tuple[str, Callable[[], int]]]] = {
            "chaosbus.held": [],
            "chaosbus.held_bytes": [],
            "chaosbus.lag": [],
        }
        descriptions = {
            "chaosbus.held": "copies held by faults",
            "chaosbus.held_bytes": "bytes of the copies read and not yet done",
            "chaosbus.lag": "messages of the route's source not yet read by this process",
        }
        for name, description in descriptions.items():
            meter.create_observable_gauge(
                name, callbacks=[self._callback(name)], description=description
            )

    def _callback(self, name: str) -> Callable[[CallbackOptions], list[Observation]]:
        def observe(_: CallbackOptions) -> list[Observation]:
            return [Observation(read(), {"chaosbus.route": r}) for r, read in self.sources[name]]

        return observe


_GAUGES: weakref.WeakKeyDictionary[metrics.Meter, _RouteGauges] = weakref.WeakKeyDictionary()


class Telemetry:
    """Spans and metrics for decisions and emissions; a no-op unless enabled."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        route: str = "",
        sample_ratio: float = 1.0,
    ) -> None:
        if not 0.0 <= sample_ratio <= 1.0:
            raise ValueError(f"sample_ratio must be within [0, 1], got {sample_ratio}")
        self.enabled = tracer_provider is not None
        # As a bound on a 32-bit hash: a message is head-sampled when its hash is below it.
        self._sample_below = int(sample_ratio * 2**32)
        self.measuring = meter_provider is not None
        self._route = route
        self._tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer(
            "chaosbus.streams"
        )
        meter = (meter_provider or metrics.NoOpMeterProvider()).get_meter("chaosbus.streams")
        self._on_route = {"chaosbus.route": route}
        self._read = meter.create_counter(
            "chaosbus.messages.read", description="source messages read and decided"
        )
        self._faults = meter.create_counter(
            "chaosbus.decisions", description="decisions by fault type and name"
        )
        self._forwarded = meter.create_counter(
            "chaosbus.messages.forwarded", description="copies the destination acknowledged"
        )
        self._undeliverable = meter.create_counter(
            "chaosbus.messages.undeliverable", description="copies the destination refused"
        )
        self._dead_lettered = meter.create_counter(
            "chaosbus.messages.dead_lettered", description="refused copies dead-lettered"
        )
        self._commit = meter.create_histogram(
            "chaosbus.commit.duration", unit="ms", description="source offset commits"
        )
        self._ledger = meter.create_histogram(
            "chaosbus.ledger.duration", unit="ms", description="ledger write to acknowledgement"
        )
        self._added_delay = meter.create_histogram(
            "chaosbus.added_delay", unit="ms", description="delay a fault added to an emission"
        )
        self._meter = meter
        self._fault_attributes: dict[tuple[str, str | None], dict[str, str]] = {}
        self._decisions: dict[SourceCoordinates, tuple[Span, int]] = {}

    @classmethod
    def disabled(cls) -> Telemetry:
        return cls(None)

    def observe_held(
        self,
        held: Callable[[], int],
        held_bytes: Callable[[], int] | None = None,
        lag: Callable[[], int] | None = None,
    ) -> None:
        """Report held copies, their bytes and the route's lag as gauges, read when the
        metrics are collected (a scrape)."""
        if not self.measuring:
            return
        gauges = _GAUGES.get(self._meter)
        if gauges is None:
            gauges = _GAUGES[self._meter] = _RouteGauges(self._meter)
        gauges.sources["chaosbus.held"].append((self._route, held))
        if held_bytes is not None:
            gauges.sources["chaosbus.held_bytes"].append((self._route, held_bytes))
        if lag is not None:
            gauges.sources["chaosbus.lag"].append((self._route, lag))

    def decided(
        self,
        envelope: Envelope,
        fault: str,
        expected_emissions: int,
        now_ms: int,
        fault_name: str | None = None,
    ) -> str | None:
        """Count the decision and open its span; returns the trace id the decision is in
        (the decision span's when tracing, else the inbound `traceparent`'s, else None)."""
        attributes = self._fault_attributes.get((fault, fault_name))
        if attributes is None:
            # Built once per fault: this runs for every message forwarded.
            attributes = {
                "chaosbus.fault": fault,
                "chaosbus.fault_name": fault_name or "",
                "chaosbus.route": self._route,
            }
            self._fault_attributes[(fault, fault_name)] = attributes
        if self.measuring:
            self._read.add(1, self._on_route)
            self._faults.add(1, attributes)
        if not self.enabled or not self._sampled(envelope):
            return trace_id_of(envelope.headers)
        parent = _PROPAGATOR.extract(envelope.headers, getter=_GETTER)
        span = self._tracer.start_span(
            "chaosbus.decide",
            context=parent,
            # The decision's logical time, the base of every planned release.
            start_time=now_ms * 1_000_000,
            kind=SpanKind.CONSUMER,
            attributes={
                "chaosbus.fault": fault,
                "chaosbus.route": self._route,
                "messaging.source.name": envelope.source.topic,
                "messaging.kafka.partition": envelope.source.partition,
                "messaging.kafka.offset": envelope.source.offset,
            },
        )
        span.end()
        # Kept until the last copy is emitted: a held message keeps its context while held.
        self._decisions[envelope.source] = (span, expected_emissions)
        return format(span.get_span_context().trace_id, "032x")

    def _sampled(self, envelope: Envelope) -> bool:
        """Whether this message gets spans: sampled upstream, or under the head ratio."""
        if self._sample_below >= 2**32 or sampled_upstream(envelope.headers):
            return True
        source = envelope.source
        at = f"{source.topic}:{source.partition}:{source.offset}".encode()
        return zlib.crc32(at) < self._sample_below

    def refused(self, *, dead_lettered: bool) -> None:
        """A copy the destination refused: dead-lettered, or undeliverable (the route fails)."""
        if self.measuring:
            (self._dead_lettered if dead_lettered else self._undeliverable).add(1, self._on_route)

    def committed(self, took_ms: float) -> None:
        if self.measuring:
            self._commit.record(took_ms, self._on_route)

    def ledgered(self, took_ms: float) -> None:
        if self.measuring:
            self._ledger.record(took_ms, self._on_route)

    def outgoing_headers(
        self, envelope: Envelope, emission: Emission
    ) -> list[tuple[str, bytes | None]]:
        if emission.planned_delay_ms:
            self._added_delay.record(emission.planned_delay_ms, {"chaosbus.route": self._route})
        if not self.enabled:
            return list(envelope.headers)
        decision = self._decisions.get(envelope.source)
        if decision is None and self._sample_below < 2**32:
            return list(envelope.headers)  # not sampled: the upstream context goes on as is
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

    def emitted_all(self, emissions: Sequence[Emission]) -> None:
        """`emitted` for a producer batch: one counter add, spans only when tracing."""
        if self.measuring:
            self._forwarded.add(len(emissions), self._on_route)
        if self.enabled and self._decisions:
            for emission in emissions:
                self._span_emitted(emission)

    def emitted(self, emission: Emission) -> None:
        """A copy the destination acknowledged."""
        if self.measuring:
            self._forwarded.add(1, self._on_route)
        if self.enabled:
            self._span_emitted(emission)

    def _span_emitted(self, emission: Emission) -> None:
        source = emission.envelope.source
        entry = self._decisions.get(source)
        if entry is None:
            return
        span, remaining = entry
        if remaining <= 1:
            del self._decisions[source]
        else:
            self._decisions[source] = (span, remaining - 1)
