"""An experiment's `workload:`, as the runner drives it.

    Workload.of(spec, kafka)   when the run is set up: reads the recording's header or the
                               traffic spec, so a bad file is refused before anything starts
    start()                    at the start of the injection: replays into the route's source
    stop()                     at the end of the recovery (or an abort): stops sending, waits
                               for what was sent to be acknowledged

A failure of the traffic (a refused batch, an unreachable broker) does not stop the run: it
is logged, and the verdict judges what arrived (little traffic shows as `inconclusive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import ChaosbusError, InvalidInput
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.traffic.file_format import read_meta
from chaosbus.traffic.generator import generate
from chaosbus.traffic.generator_spec import TrafficSpec, load_traffic_spec
from chaosbus.traffic.pacing import IdShifter, Pace
from chaosbus.traffic.replayer import Records, ReplayOptions, ReplayResult, file_records, replay
from chaosbus.traffic.selectors import Selector, parse_selector, parse_selectors

log = logging.getLogger(__name__)


class Workload:
    def __init__(
        self,
        kafka: KafkaSettings | None = None,
        records: Records | None = None,
        options: ReplayOptions | None = None,
        partitions: int | None = None,
    ) -> None:
        self.kafka, self.records, self.options = kafka, records, options
        self.partitions = partitions
        self.result: ReplayResult | None = None
        self.failure: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, spec: ExperimentSpec, kafka: KafkaSettings) -> Workload:
        """The experiment's workload, its files read now; an empty one when it has none."""
        work = spec.workload
        if work is None:
            return cls()
        pace = Pace(speed=None, rate=work.rate) if work.rate else Pace(speed=work.speed or 1.0)
        partitions: int | None = None
        if work.replay is not None:
            meta = read_meta(Path(work.replay))
            records = file_records(Path(work.replay))
            partitions = meta.get("source", {}).get("partitions")
            privacy = meta.get("privacy") or {}
            ids = parse_selectors(str(h) for h in privacy.get("hashed", []))
        else:
            assert work.generate is not None
            traffic = load_traffic_spec(work.generate)
            records = _generated(traffic)
            ids = generated_ids(traffic)
        if work.shift_ids and not ids:
            raise InvalidInput(
                f"workload.shift_ids: {work.replay} hashed no field, so its ids are not known"
            )
        options = ReplayOptions(
            topic=spec.workload_topic,
            pace=pace,
            loop=work.loop,
            shift=IdShifter(ids) if work.shift_ids else None,
        )
        return cls(kafka, records, options, partitions)

    def start(self) -> None:
        if self.records is None or self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name="chaosbus-workload")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        assert self.kafka is not None
        assert self.records is not None
        assert self.options is not None
        try:
            self.result = await replay(
                self.kafka,
                self.records,
                self.options,
                source_partitions=self.partitions,
                stop=self._stop,
            )
            log.info(
                "workload: %d messages to %s (%s)",
                self.result.sent,
                self.options.topic,
                self.result.ended_by,
            )
        except ChaosbusError as exc:
            self.failure = str(exc)
            log.warning("workload stopped: %s", exc)


def _generated(traffic: TrafficSpec) -> Records:
    return lambda: generate(traffic)


def generated_ids(traffic: TrafficSpec) -> tuple[Selector, ...]:
    """The ids a generated lap must renew to be new traffic: key, event id, their copies."""
    fields = [traffic.events.event_id, traffic.entities.key_field]
    ids = [parse_selector("key")] + [parse_selector(f"$.{f}") for f in fields if f]
    ids += [
        parse_selector(f"header:{header}")
        for header, source in traffic.events.headers.items()
        if source in fields
    ]
    return tuple(ids)
