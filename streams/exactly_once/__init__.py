"""Exactly-once delivery (`--delivery exactly-once`): Kafka transactions, held copies parked.

See docs/decisions/0003-exactly-once.md. `ExactlyOnce` (`delivery.py`) is one of the two
`streams.delivery.Delivery` modes of the one route loop (`streams.interposer`); the other is
`streams.at_least_once`. `streams.proxy` picks the mode.
"""
