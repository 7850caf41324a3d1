"""Kafka readers for a finished window: a topic from its beginning up to the end offsets
taken when the read starts, so a read always ends even while producers go on writing.

- `read_source`: the source topic as `Envelope`s, for the extractors;
- `read_ledger`: the ledger's records of one run (other runs share the topic);
- `read_effects`: an effects topic whose messages name the event that caused them.

And the `kafka` probe kind (`KIND`): an `EffectsTopicReader` whose every read returns the
effects written since the last one, from the topic's end at opening in a live run (effects
from before the run are not the run's), from its beginning for `chaosbus check`.

Group-less consumers on explicit positions: reading never disturbs a consumer group.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Literal, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict

from chaosbus.clients.connection import KafkaSettings
from chaosbus.clients.consumers import KafkaConsumer, standalone_consumer, topic_end_offsets
from chaosbus.contracts.ledger_record import LEDGER_TOPIC, LedgerRecord, decode_ledger
from chaosbus.contracts.records import envelope_of
from chaosbus.injectors.envelope import Envelope
from chaosbus.monitors.errors import ProbeError, ReaderError
from chaosbus.monitors.extractors import MISSING, HeaderField, JsonField, json_getter
from chaosbus.monitors.history import Effect
from chaosbus.monitors.probes.kind import OpenedReader, ProbeContext, ProbeKind, Reading


class EffectsConfig(BaseModel):
    """An effects topic the service writes: where a message names its event (and entity).

    In an experiment file this is `probe: {kind: kafka, topic: …, event_id: …}`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["kafka"] = "kafka"
    topic: str

    @property
    def reads_effects(self) -> bool:
        return True

    event_id: JsonField | HeaderField
    entity: Literal["record_key"] | JsonField | HeaderField | None = None


async def read_topic(
    kafka: KafkaSettings,
    topic: str,
    *,
    timeout_s: float = 60,
    poison: Counter[str] | None = None,
) -> list[Envelope]:
    """Every record of `topic`, in offset order per partition, up to the ends taken now;
    `poison` (if given) counts the tombstones, keyless records, null headers and large
    values among them."""
    try:
        async with standalone_consumer(kafka, isolation_level="read_committed") as consumer:
            return await read_window(consumer, topic, timeout_s=timeout_s, poison=poison)
    except KafkaError as exc:
        raise ReaderError(f"reading {topic}: {exc}", retriable=exc.retriable) from exc


async def read_window(
    consumer: Any, topic: str, *, timeout_s: float, poison: Counter[str] | None = None
) -> list[Envelope]:
    """`read_topic` on a started group-less consumer (aiokafka's, or the in-memory
    transport's in unit tests)."""
    ends = {
        TopicPartition(topic, p): end
        for p, end in (await topic_end_offsets(consumer, topic)).items()
    }
    if not ends:
        raise ReaderError(f"topic {topic} does not exist or has no partitions")
    consumer.assign(list(ends))
    await consumer.seek_to_beginning(*ends)
    read: dict[int, list[Envelope]] = {tp.partition: [] for tp in ends}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
        if loop.time() > deadline:
            raise ReaderError(f"reading {topic} did not reach its end offsets", retriable=True)
        batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
        for tp, records in batches.items():
            read[tp.partition].extend(
                envelope_of(record, poison) for record in records if record.offset < ends[tp]
            )
    return [envelope for partition in sorted(read) for envelope in read[partition]]


async def read_source(kafka: KafkaSettings, topic: str, *, timeout_s: float = 60) -> list[Envelope]:
    """The source topic, for `monitors.compile_extractors`."""
    return await read_topic(kafka, topic, timeout_s=timeout_s)


async def read_ledger(
    kafka: KafkaSettings,
    run_id: str,
    *,
    topic: str = LEDGER_TOPIC,
    source_topic: str | None = None,
    timeout_s: float = 60,
) -> tuple[list[LedgerRecord], int]:
    """This run's ledger records (of one source topic, if given), a run of passes read as
    its individual records, and the count of unreadable ledger messages."""
    records: list[LedgerRecord] = []
    unreadable = 0
    for envelope in await read_topic(kafka, topic, timeout_s=timeout_s):
        try:
            decoded = decode_ledger(envelope.value or b"")
        except ValueError:
            unreadable += 1
            continue
        records.extend(
            record
            for record in decoded
            if record.run_id == run_id and source_topic in (None, record.topic)
        )
    return records, unreadable


async def read_effects(
    kafka: KafkaSettings, config: EffectsConfig, *, timeout_s: float = 60
) -> tuple[list[Effect], Counter[str]]:
    """The effects, timed by their Kafka timestamps, and unparsable counts by field."""
    parse = effect_parser(config)
    effects: list[Effect] = []
    unparsable: Counter[str] = Counter()
    for envelope in await read_topic(kafka, config.topic, timeout_s=timeout_s):
        effect = parse(envelope)
        if effect is None:
            unparsable["event_id"] += 1
        else:
            effects.append(effect)
    return effects, unparsable


def effect_parser(config: EffectsConfig) -> Callable[[Envelope], Effect | None]:
    """One effects message as an `Effect` timed by its Kafka timestamp; None: no event id."""
    read_id = _field_reader(config.event_id)
    read_entity = None if config.entity is None else _field_reader(config.entity)

    def parse(envelope: Envelope) -> Effect | None:
        try:
            doc = json.loads(envelope.value) if envelope.value is not None else MISSING
        except ValueError:
            doc = MISSING
        event_id = read_id(envelope, doc)
        if event_id is None:
            return None
        entity = None if read_entity is None else read_entity(envelope, doc)
        return Effect(event_id, envelope.timestamp_ms, entity)

    return parse


FieldReader = Callable[[Envelope, Any], str | None]


def _field_reader(spec: Literal["record_key"] | JsonField | HeaderField) -> FieldReader:
    if spec == "record_key":
        return lambda env, _doc: None if env.key is None else env.key.decode("utf-8", "replace")
    if isinstance(spec, HeaderField):
        name = spec.header
        return lambda env, _doc: next(
            (v.decode("utf-8", "replace") for k, v in env.headers if k == name and v is not None),
            None,
        )
    assert isinstance(spec, JsonField)
    get = json_getter(spec.json_path)

    def from_json(_env: Envelope, doc: Any) -> str | None:
        raw = MISSING if doc is MISSING else get(doc)
        return None if raw is MISSING or raw is None or isinstance(raw, dict | list) else str(raw)

    return from_json


class EffectsTopicReader:
    """`async with EffectsTopicReader(kafka, config, from_now=True) as r: await r.read(…)`.

    Each read goes up to the end offsets taken when it starts (so it always ends) and
    returns the effects per partition in offset order, with the count of messages that
    named no event. A read that cannot reach the ends in `timeout_s` fails, retriable.
    """

    def __init__(
        self, kafka: KafkaSettings, config: EffectsConfig, *, from_now: bool, timeout_s: float = 60
    ) -> None:
        self.config = config
        self._kafka = kafka
        self._from_now = from_now
        self._timeout_s = timeout_s
        self._parse = effect_parser(config)
        self._consumer: KafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        # A poll and the run's last look may read at once; one consumer reads one at a time.
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        topic = self.config.topic
        consumer = KafkaConsumer(
            **self._kafka.client_options(),
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        try:
            await consumer.start()
            ends = await topic_end_offsets(consumer, topic)
        except KafkaError as exc:
            await consumer.stop()
            raise ProbeError(f"effects topic {topic!r}: {exc}", retriable=True) from exc
        if not ends:
            await consumer.stop()
            raise ProbeError(f"effects topic {topic!r} does not exist")
        self._partitions = [TopicPartition(topic, p) for p in sorted(ends)]
        consumer.assign(self._partitions)
        if self._from_now:
            for tp in self._partitions:
                consumer.seek(tp, ends[tp.partition])
        else:
            await consumer.seek_to_beginning(*self._partitions)
        self._consumer = consumer
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def read(self, entities: Sequence[str], now_ms: int) -> Reading:
        """The effects written since the last read; `entities` and `now_ms` are unused
        (an effect is timed by its Kafka timestamp)."""
        if self._consumer is None:
            raise ProbeError("EffectsTopicReader used outside its 'async with' block")
        async with self._lock:
            try:
                return await self._read_to_end(self._consumer)
            except KafkaError as exc:
                message = f"reading {self.config.topic}: {exc}"
                raise ProbeError(message, retriable=exc.retriable) from exc

    async def _read_to_end(self, consumer: AIOKafkaConsumer) -> Reading:
        found = await topic_end_offsets(consumer, self.config.topic)
        ends = {tp: found[tp.partition] for tp in self._partitions if tp.partition in found}
        read: dict[int, list[Effect]] = {tp.partition: [] for tp in ends}
        unreadable = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if loop.time() > deadline:
                message = f"reading {self.config.topic} did not reach its end offsets"
                raise ProbeError(message, retriable=True)
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for tp, records in batches.items():
                for record in records:
                    effect = self._parse(envelope_of(record))
                    if effect is None:
                        unreadable += 1
                    else:
                        read[tp.partition].append(effect)
        effects = [effect for partition in sorted(read) for effect in read[partition]]
        return Reading(effects=effects, unreadable=unreadable)


def _open(config: EffectsConfig, context: ProbeContext) -> OpenedReader:
    return EffectsTopicReader(context.kafka, config, from_now=context.from_now)


KIND = ProbeKind(name="kafka", config=EffectsConfig, shape=lambda _: "topic", open=_open)
