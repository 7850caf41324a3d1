"""Exactly-once delivery (`--delivery exactly-once`): Kafka transactions, held copies parked.

See docs/decisions/0003-exactly-once.md. The at-least-once runtime (`streams.interposer`)
is untouched; `streams.proxy` picks one class or the other.
"""
