"""OpenTelemetry providers: OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else none.

With no endpoint the interposer runs with tracing off, which keeps the hot path free of span
work and leaves forwarded headers byte-identical.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


@dataclass
class Providers:
    tracer: TracerProvider | None
    meter: MeterProvider | None

    def shutdown(self) -> None:
        if self.tracer is not None:
            self.tracer.shutdown()
        if self.meter is not None:
            self.meter.shutdown()


def providers_from_environment(service_name: str = "chaosbus-proxy") -> Providers:
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return Providers(None, None)
    # Imported only when used: the exporter pulls in protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    resource = Resource.create({"service.name": service_name})
    tracer = TracerProvider(resource=resource)
    tracer.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    meter = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]
    )
    return Providers(tracer, meter)
