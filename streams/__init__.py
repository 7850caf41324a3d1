"""chaosbus: streams - the Kafka runtime that interposes on topics.

One route loop (`streams.interposer.RouteInterposer`: read → decide → pace → rebalance →
kill switch) with two delivery modes beside it (`streams.delivery.Delivery`:
`streams.at_least_once.AtLeastOnce`, `streams.exactly_once.delivery.ExactlyOnce`); `streams.proxy`
runs one loop per route. The loop drives a `Consumer` and a `Producer`
(`streams.transport`): aiokafka's, or the in-memory transport's (`streams.memory`) in unit
tests. Beside it: the ledger writer (`streams.ledger`), tracing (`streams.telemetry`), the
topics chaosbus creates (`streams.topics`) and the HTTP transport (`streams.http`).

It reads the contracts (`chaosbus.contracts`: ledger record, clock, route, Record→Envelope)
and connects through `chaosbus.clients`; nothing here is imported by the monitors.

Errors (aiokafka's translated at this boundary with `raise ... from exc`; a broker that does
not answer is the clients' `BrokerUnreachable`, a route that does not parse the contracts'
`RouteError`)::

    StreamError              base of every error raised by `chaosbus.streams`
    ├── TopicMissing         a topic that does not exist and could not be created
    ├── RouteFailed          the destination refused a message the route cannot get past
    └── ParkedUnreadable     an exactly-once route's parked record that does not parse
"""

from chaosbus.streams.at_least_once import AtLeastOnce
from chaosbus.streams.config import (
    COMPRESSIONS,
    DEFAULT_COMMIT_INTERVAL_MS,
    Compression,
    InterposerConfig,
)
from chaosbus.streams.decider import Decider, DecisionLike, PassThrough
from chaosbus.streams.delivery import Delivery, RouteContext
from chaosbus.streams.errors import StreamError, TopicMissing
from chaosbus.streams.exactly_once.delivery import ExactlyOnce
from chaosbus.streams.exactly_once.parked import ParkedUnreadable
from chaosbus.streams.http import HttpInterposer, HttpRoute, RequestLog, read_request_log
from chaosbus.streams.http.ledger import HttpLedgerWriter
from chaosbus.streams.interposer import RouteInterposer
from chaosbus.streams.ledger import pseudonym
from chaosbus.streams.memory import MemoryCluster, MemoryConsumer, MemoryProducer
from chaosbus.streams.proxy import Proxy, ProxyReport
from chaosbus.streams.telemetry import Telemetry
from chaosbus.streams.topics import (
    DEFAULT_LEDGER_RETENTION_MS,
    TopicAdmin,
    TopicPolicy,
    TopicShape,
    check_routes,
)
from chaosbus.streams.transport import Consumer, Producer, TransactionalProducer
from chaosbus.streams.undeliverable import RouteFailed

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMMIT_INTERVAL_MS",
    "DEFAULT_LEDGER_RETENTION_MS",
    "AtLeastOnce",
    "Compression",
    "Consumer",
    "Decider",
    "DecisionLike",
    "Delivery",
    "ExactlyOnce",
    "HttpInterposer",
    "HttpLedgerWriter",
    "HttpRoute",
    "InterposerConfig",
    "MemoryCluster",
    "MemoryConsumer",
    "MemoryProducer",
    "ParkedUnreadable",
    "PassThrough",
    "Producer",
    "Proxy",
    "ProxyReport",
    "RequestLog",
    "RouteContext",
    "RouteFailed",
    "RouteInterposer",
    "StreamError",
    "Telemetry",
    "TopicAdmin",
    "TopicMissing",
    "TopicPolicy",
    "TopicShape",
    "TransactionalProducer",
    "check_routes",
    "pseudonym",
    "read_request_log",
]
