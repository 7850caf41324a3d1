"""The HTTP decisions in `chaosbus.ledger`: one ledger record per request the proxy decided.

A request maps onto the ledger record (contracts.ledger_record) as a topic message does:
`route` is the HTTP route's name, `topic` is `http:<name>`, partition 0, the request's
arrival sequence as `offset`, the logical request id as `event_id` and as the Kafka key (so
the attempts of one request stay in one ledger partition, in order), `fault` is
`http.<type>` (`http.pass` included, the names of the report's `faults`), and one emission
per delivery to the service. Readers that judge a topic filter on their source topic, so
these records never enter a topic verdict. The request log stays the retry verdict's input.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.contracts.ledger_record import LEDGER_TOPIC, EmissionTuple, encode_record
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.streams.http.request_log import RequestLog

log = logging.getLogger(__name__)

TOPIC_PREFIX = "http:"


def ledger_topic_of(route: str) -> str:
    return TOPIC_PREFIX + route


def ledger_payload(entry: LoggedRequest, run_id: str) -> bytes:
    done = entry.arrived_at_ms + entry.took_ms
    emissions: list[EmissionTuple] = [
        (n, 0, None, None, done, None) for n in range(entry.delivered)
    ]
    return encode_record(
        run_id=run_id,
        route=entry.route,
        topic=ledger_topic_of(entry.route),
        partition=0,
        offset=entry.sequence,
        event_id=entry.request_id,
        key=entry.request_id.encode(),
        fault=f"http.{entry.fault}",
        reason=None,
        emissions=emissions,
        decided_at_ms=entry.arrived_at_ms,
        completed_at_ms=done,
        fault_name=entry.fault_name,
        source_timestamp_ms=entry.arrived_at_ms,
    )


class HttpLedgerWriter:
    """Follows a request log and writes each new entry to the ledger topic.

    An async context manager: on exit every entry logged so far has been sent (or the
    failure logged); a broker that goes away never stops the proxy, it costs ledger records.
    """

    def __init__(self, kafka: KafkaSettings, run_id: str, request_log: RequestLog) -> None:
        self._kafka = kafka
        self._run_id = run_id
        self._log = request_log
        self._sent = 0
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def sent(self) -> int:
        return self._sent

    async def __aenter__(self) -> Self:
        producer = AIOKafkaProducer(
            **self._kafka.client_options(), enable_idempotence=True, linger_ms=5
        )
        try:
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise await why_unreachable(self._kafka) from exc
        self._producer = producer
        self._task = asyncio.create_task(self._follow(), name="chaosbus-http-ledger")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self._send_new()
        finally:
            if self._producer is not None:
                await self._producer.stop()

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await self._log.wait_for(lambda entries: len(entries) > self._sent, 60)
            await self._send_new()

    async def _send_new(self) -> None:
        """Send every entry not sent yet, as one batch, and wait for the acknowledgements."""
        assert self._producer is not None
        batch = self._log.entries[self._sent :]
        self._sent += len(batch)
        pending = []
        for entry in batch:
            value = ledger_payload(entry, self._run_id)
            try:
                key = entry.request_id.encode()
                pending.append(await self._producer.send(LEDGER_TOPIC, value=value, key=key))
            except KafkaError as exc:
                log.warning("an HTTP ledger record was not written: %s", exc)
        for future in pending:
            try:
                await future
            except KafkaError as exc:
                log.warning("an HTTP ledger record was not written: %s", exc)
