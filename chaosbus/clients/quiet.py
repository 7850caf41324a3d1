"""Silencing aiokafka's connection errors where a refused connection is an expected answer.

aiokafka logs every refused connection at ERROR. During a readiness probe or the preflight
of a command, the caller turns that outcome into one line of its own; the library's lines
would bury it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_aiokafka() -> Iterator[None]:
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
