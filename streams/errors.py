"""Errors of the stream runtime.

    StreamError
    ├── RouteError           a route spec that does not parse, or a route into itself
    ├── TopicMissing         a source or destination topic that does not exist
    └── BrokerUnreachable    no broker answered at the bootstrap address
        └── BrokerRefused    a broker answered but refused the credentials or the TLS

aiokafka's errors are translated here, at the boundary, with `raise ... from exc`.
"""

from __future__ import annotations


class StreamError(Exception):
    pass


class RouteError(StreamError):
    pass


class TopicMissing(StreamError):
    pass


class BrokerUnreachable(StreamError):
    pass


class BrokerRefused(BrokerUnreachable):
    pass
