"""Errors of the stream runtime.

    StreamError
    ├── TopicMissing         a source or destination topic that does not exist
    ├── RouteFailed          the destination refused a message the route cannot get past
    │                        (`streams.undeliverable`)
    └── ParkedUnreadable     an exactly-once route's parked record that does not parse
                             (`streams.exactly_once.parked`)

aiokafka's errors are translated at the boundary with `raise ... from exc`. What the runtime
raises from the layers below keeps their roots: `contracts.errors.RouteError` for a route
that does not parse, `clients.errors.BrokerUnreachable` for a broker that does not answer.
"""

from __future__ import annotations


class StreamError(Exception):
    """Base class for every error raised by the stream runtime."""


class TopicMissing(StreamError):
    pass
