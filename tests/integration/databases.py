"""Databases of the session's Redis that one test module keeps to itself.

`make test` runs test modules in parallel processes against one Redis, so a module that
empties a database (or engages a kill switch in a namespace the CLI reads by default) must
be the only module using that database: each number below belongs to one module. Database 0
is shared, and only ever with namespaces of a test's own.
"""

from __future__ import annotations

import redis.asyncio as aioredis

BOUNDS = 1  # test_bounds
PAUSE = 2  # test_pause
PLAN = 3  # test_plan
SECRETS = 4  # test_secrets_never_printed
SECRETS_CONTROL = 5  # test_secrets_never_printed, its runs' control plane
CONTROL_PLANE = 7  # test_control_plane
CONTROL_PLANE_APPROVALS = 8  # test_control_plane, its approvals
CONTROL_ROUTES = 9  # test_control_routes
FIRST_RUN = 10  # test_first_run
OPERATIONS_METRICS = 11  # test_operations_metrics
OUTCOMES = 12  # test_outcomes
CONSOLE_NOISE = 13  # test_console_noise

OWNED = (
    BOUNDS,
    PAUSE,
    PLAN,
    SECRETS,
    SECRETS_CONTROL,
    CONTROL_PLANE,
    CONTROL_PLANE_APPROVALS,
    CONTROL_ROUTES,
    FIRST_RUN,
    OPERATIONS_METRICS,
    OUTCOMES,
    CONSOLE_NOISE,
)


def database(redis_url: str, db: int) -> str:
    """The same Redis, another database: `redis://host:port/0` → `…/<db>`."""
    return f"{redis_url.rsplit('/', 1)[0]}/{db}"


async def flushed(redis_url: str, db: int) -> str:
    """Database `db` of the session's Redis, emptied; its URL."""
    url = database(redis_url, db)
    client = aioredis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url
