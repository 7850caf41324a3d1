"""The HTTP proxy's request log: one JSON line per request, what the retry verdict reads.

Each line is the decision and its outcome: arrival time, logical request id, method, path,
the fault, what the client got and what the service answered. Written as it happens (and
flushed per line), so a proxy that is killed leaves a log that ends at its last request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from chaosbus.injectors.http.log_record import LoggedRequest


class RequestLog:
    """Keeps every entry in memory and, given a path, appends it as a JSON line."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.entries: list[LoggedRequest] = []
        self._file: IO[str] | None = None
        self._written = asyncio.Event()

    def __enter__(self) -> Self:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, entry: LoggedRequest) -> None:
        self.entries.append(entry)
        if self._file is not None:
            self._file.write(entry.to_json() + "\n")
            self._file.flush()
        self._written.set()

    async def wait_for(
        self, condition: Callable[[list[LoggedRequest]], bool], timeout_s: float
    ) -> None:
        """Wait until `condition(entries)` holds, checked after every write."""
        async with asyncio.timeout(timeout_s):
            while not condition(self.entries):
                self._written.clear()
                await self._written.wait()


def read_request_log(path: Path) -> list[LoggedRequest]:
    """Entries of a request log file; a torn last line (a killed proxy) is skipped."""
    entries: list[LoggedRequest] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(LoggedRequest.from_json(line))
        except (ValueError, TypeError):
            continue
    return entries
