"""The HTTP side of a run: a reverse proxy per `http_routes` entry, its log and its ledger.

`HttpSide` is an async context manager: on entry every route listens (passing everything:
intensity 0, as the topic plans in warm-up); on exit every proxy is closed and the request
log flushed. The runner drives it with the topic side: `set_intensity` through the injection
phase, `stop_injecting` on recovery, the kill switch, a guardrail or a signal.

Every request goes to one request log (JSON lines at `log_path`, beside the report, when
given); with a Kafka side, every decision also goes to `chaosbus.ledger` (streams.http.ledger).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

from opentelemetry import metrics

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.redaction import redact_url
from chaosbus.contracts.clock import Clock
from chaosbus.control.scopes import Paused, Scope
from chaosbus.errors import InvalidInput
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.http.plan import HTTP_FAULT_TYPES, HttpPlan
from chaosbus.runner.retry_observation import RetryObservation, observe_retries
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog
from chaosbus.streams.http.ledger import HttpLedgerWriter

HTTP_COUNT_KEYS = tuple(f"http.{kind}" for kind in ("pass", *HTTP_FAULT_TYPES))


class HttpSide:
    def __init__(
        self,
        spec: ExperimentSpec,
        *,
        run_id: str,
        clock: Clock,
        log_path: Path | None = None,
        ledger: KafkaSettings | None = None,  # None: no ledger records (HTTP-only run)
        meter_provider: metrics.MeterProvider | None = None,
        salt: bytes | None = None,  # privacy: hashed: the request log's pseudonyms
    ) -> None:
        self.routes = spec.http_routes
        self.plans = {
            r.name: HttpPlan(r.faults, spec.blast_radius, spec.seed) for r in spec.http_routes
        }
        for plan in self.plans.values():
            plan.intensity = 0.0
        self.log = RequestLog(log_path, salt=salt)
        self.interposers: list[HttpInterposer] = []
        self._run_id = run_id
        self._clock = clock
        self._ledger = ledger
        self._meter_provider = meter_provider
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        if not self.routes:
            return
        if self.log.path is not None:
            # One run, one log: the report beside it is overwritten too, never appended to.
            self.log.path.unlink(missing_ok=True)
        self._stack.enter_context(self.log)
        # Entered before the proxies, so it is left after them: it sends the last entries.
        if self._ledger is not None:
            await self._stack.enter_async_context(
                HttpLedgerWriter(self._ledger, self._run_id, self.log)
            )
        for index, spec in enumerate(self.routes):
            route = HttpRoute(
                name=spec.name,
                listen_host=spec.host,
                listen_port=spec.port,
                upstream=spec.upstream,
                id_header=spec.id_header.lower(),
            )
            proxy = HttpInterposer(
                route, self.plans[spec.name], self.log, self._clock, self._meter_provider
            )
            try:
                await self._stack.enter_async_context(proxy)
            except OSError as exc:
                raise InvalidInput(
                    f"http_routes[{index}].listen: cannot listen on {spec.listen}: "
                    f"{exc.strerror or exc}"
                ) from exc
            self.interposers.append(proxy)

    def set_intensity(self, intensity: float) -> None:
        for plan in self.plans.values():
            plan.intensity = intensity

    def stop_injecting(self) -> None:
        """Nothing is held on the HTTP side: from the next request on, every one passes."""
        for plan in self.plans.values():
            plan.enabled = False

    def apply_pauses(self, paused: Paused) -> None:
        """The scoped switches: nothing is held here, the plans only pass what is paused."""
        faults = paused.names("fault")
        for spec in self.routes:
            plan = self.plans[spec.name]
            plan.pause(plan.fault_names if paused.covers(Scope("http", spec.name)) else faults)

    @property
    def injecting(self) -> bool:
        return any(p.enabled and p.intensity > 0 for p in self.plans.values())

    @property
    def requests(self) -> int:
        return len(self.log.entries)

    def fault_counts(self) -> dict[str, int]:
        """Decisions by `http.<type>`, `http.pass` included, summed; {} without routes."""
        if not self.routes:
            return {}
        counts = dict.fromkeys(HTTP_COUNT_KEYS, 0)
        for plan in self.plans.values():
            for kind, count in plan.counts.items():
                counts[f"http.{kind}"] += count
        return counts

    @property
    def faults(self) -> int:
        return sum(n for kind, n in self.fault_counts().items() if kind != "http.pass")

    def observation(self) -> RetryObservation:
        return observe_retries(self.log.entries, self.routes)

    def describe(self) -> list[str]:
        """`name: listen -> upstream` per route, as the report lists them."""
        return [f"{r.name}: {r.listen} -> {redact_url(r.upstream)}" for r in self.routes]
