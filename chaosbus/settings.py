"""Where the broker and Redis are: flag, then environment, then the running local stack."""

from __future__ import annotations

import os

from chaosbus.local.stack import DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, recorded_addresses


def resolve_bootstrap(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_BOOTSTRAP")
        or recorded_addresses().get("bootstrap")
        or f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    )


def resolve_redis(flag: str | None = None) -> str:
    return (
        flag
        or os.environ.get("CHAOSBUS_REDIS")
        or recorded_addresses().get("redis")
        or f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"
    )
