"""SIGTERM and SIGINT as an event a long-running command awaits, for a clean drain."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stop_on_signals(stopping: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT)
    for sig in handled:
        loop.add_signal_handler(sig, stopping.set)
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
