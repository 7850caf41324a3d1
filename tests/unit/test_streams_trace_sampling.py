"""Head sampling of the interposer's spans: a ratio of messages, upstream-sampled ones always."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.telemetry import Telemetry, sampled_upstream

SAMPLED = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_SAMPLED = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def traced(ratio: float) -> tuple[Telemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Telemetry(provider, route="a->b", sample_ratio=ratio), exporter


def envelope(offset: int, traceparent: bytes | None = None) -> Envelope:
    headers = () if traceparent is None else (("traceparent", traceparent),)
    return Envelope(b"k", b"v", headers, 0, SourceCoordinates("a", 0, offset))


class TestHeadSampling:
    def test_ratio_zero_opens_no_span_and_keeps_the_headers(self) -> None:
        """At 0 a message not sampled upstream gets no span and is forwarded as it came."""
        telemetry, exporter = traced(0.0)
        message = envelope(1, NOT_SAMPLED)
        assert telemetry.decided(message, "pass", 1, 0) == "0af7651916cd43dd8448eb211c80319c"
        headers = telemetry.outgoing_headers(message, Emission(message, 0, 0))
        assert (headers, exporter.get_finished_spans()) == ([("traceparent", NOT_SAMPLED)], ())

    def test_upstream_sampled_is_always_traced(self) -> None:
        """A `traceparent` with the sampled flag gets its decide and emit spans at ratio 0."""
        telemetry, exporter = traced(0.0)
        message = envelope(1, SAMPLED)
        telemetry.decided(message, "pass", 1, 0)
        telemetry.outgoing_headers(message, Emission(message, 0, 0))
        names = [span.name for span in exporter.get_finished_spans()]
        assert names == ["chaosbus.decide", "chaosbus.emit"]

    def test_a_ratio_samples_the_same_messages_every_time(self) -> None:
        """The choice hangs on the source coordinates only: two processes trace the same
        messages; about the ratio of them."""
        first, _ = traced(0.25)
        second, _ = traced(0.25)
        chosen = [first._sampled(envelope(n)) for n in range(2_000)]
        assert chosen == [second._sampled(envelope(n)) for n in range(2_000)]
        assert 400 <= sum(chosen) <= 600

    def test_sampled_flag_is_read_from_the_traceparent(self) -> None:
        """Bit 0 of the flags; a missing, null or broken header is not sampled."""
        assert sampled_upstream([("traceparent", SAMPLED)])
        assert not sampled_upstream([("traceparent", NOT_SAMPLED)])
        assert not sampled_upstream([("traceparent", None)])
        assert not sampled_upstream([("traceparent", b"00-x-y-zz")])
        assert not sampled_upstream([])
