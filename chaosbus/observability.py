"""OpenTelemetry providers: OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and a
Prometheus endpoint when a command is given `--metrics HOST:PORT`; else none.

    --metrics HOST:PORT ─► MetricsEndpoint (prometheus_client's HTTP server, a registry of
                           its own) ◄─ PrometheusMetricReader ◄─ MeterProvider ◄─ instruments
    OTEL_EXPORTER_OTLP_ENDPOINT ─► OTLP span exporter, and a periodic OTLP metric reader on
                                   the same MeterProvider

With neither, the interposer runs with tracing and metrics off, which keeps the hot path free
of span work and leaves forwarded headers byte-identical. Metrics never turn tracing on:
`Telemetry.enabled` follows the tracer alone. The metric names: docs/operations.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from chaosbus.errors import InvalidInput

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer


def parse_listen(option: str, text: str) -> tuple[str, int]:
    """`HOST:PORT` (port 0: any free port), or `InvalidInput` naming the flag."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInput(f"{option} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host.strip("[]"), int(port)


@dataclass
class MetricsEndpoint:
    """`/metrics` for Prometheus on HOST:PORT, served from a thread until `stop`.

    Each endpoint has a registry of its own, so two in one process (tests) never mix."""

    listen: str
    _server: WSGIServer | None = field(default=None, repr=False)
    reader: MetricReader | None = field(default=None, repr=False)

    def start(self) -> MetricReader:
        """Bind the port (a port in use is one line, exit 2) and return the reader to add to
        a MeterProvider."""
        # Imported only when used, like the OTLP exporters.
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server

        host, port = parse_listen("--metrics", self.listen)
        registry = CollectorRegistry(auto_describe=True)
        try:
            self._server, _ = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InvalidInput(f"--metrics {self.listen}: cannot listen there: {reason}") from exc
        self.reader = PrometheusMetricReader(registry=registry)
        return self.reader

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one chosen for port 0)."""
        assert self._server is not None, "start() first"
        return int(self._server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass
class Providers:
    tracer: TracerProvider | None
    meter: MeterProvider | None
    endpoint: MetricsEndpoint | None = None
    # Head sampling of the interposer's spans (`streams.telemetry`): 1.0 traces every message.
    trace_sample_ratio: float = 1.0

    def shutdown(self) -> None:
        if self.tracer is not None:
            self.tracer.shutdown()
        if self.meter is not None:
            self.meter.shutdown()
        if self.endpoint is not None:
            self.endpoint.stop()


def providers_from_environment(
    service_name: str = "chaosbus-proxy", *, metrics: str | None = None
) -> Providers:
    """OTLP from the environment, plus a Prometheus endpoint on `metrics` (HOST:PORT)."""
    readers: list[MetricReader] = []
    endpoint = None
    if metrics is not None:
        endpoint = MetricsEndpoint(metrics)
        readers.append(endpoint.start())
    tracer = None
    resource = Resource.create({"service.name": service_name})
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        # Imported only when used: the exporter pulls in protobuf and requests.
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer = TracerProvider(resource=resource)
        tracer.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter = MeterProvider(resource=resource, metric_readers=readers) if readers else None
    return Providers(tracer, meter, endpoint, trace_sample_ratio())


def trace_sample_ratio() -> float:
    """`CHAOSBUS_TRACE_SAMPLE_RATIO`: the share of messages traced (upstream-sampled ones
    always are); 1.0 when unset."""
    text = os.environ.get("CHAOSBUS_TRACE_SAMPLE_RATIO", "").strip()
    if not text:
        return 1.0
    try:
        ratio = float(text)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise InvalidInput(f"CHAOSBUS_TRACE_SAMPLE_RATIO: a number within [0, 1], got {text!r}")
    return ratio
