"""Errors of chaosbus's Kafka and Redis clients.

    ClientError                 base of every error raised by `chaosbus.clients`
    ├── BrokerUnreachable       no broker answered at the bootstrap address
    │   └── BrokerRefused       a broker answered but refused the credentials or the TLS
    └── RedisUrlError           a Redis URL that cannot work: scheme, option or file

aiokafka's and redis-py's errors are translated here, at the boundary, with
`raise ... from exc`; a message never carries a password (`clients.redaction`).
"""

from __future__ import annotations


class ClientError(Exception):
    """Base class for every error raised by the clients."""


class BrokerUnreachable(ClientError):
    pass


class BrokerRefused(BrokerUnreachable):
    pass


class RedisUrlError(ClientError):
    """A Redis URL that cannot work: scheme, option or file. The message is redacted."""
