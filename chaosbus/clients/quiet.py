"""Silencing aiokafka's connection errors where a refused connection is an expected answer.

aiokafka logs every refused connection at ERROR. During a readiness probe or the preflight
of a command, the caller turns that outcome into one line of its own; the library's lines
would bury it.

Quiet sections overlap: concurrent tasks each enter one around an await and leave in any
order. The logger's level is therefore saved by the first to enter and restored by the last
to leave; restoring on each exit would let an inner section put back the silenced level
after the outer one ended, and leave aiokafka muted for the rest of the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_sections = 0
_level_before = logging.NOTSET


@contextmanager
def quiet_aiokafka() -> Iterator[None]:
    global _sections, _level_before
    logger = logging.getLogger("aiokafka")
    with _lock:
        if _sections == 0:
            _level_before = logger.level
            logger.setLevel(logging.CRITICAL)
        _sections += 1
    try:
        yield
    finally:
        with _lock:
            _sections -= 1
            if _sections == 0:
                logger.setLevel(_level_before)
