"""The HTTP proxy's request log: one JSON line per request, what the retry verdict reads.

Each line is the decision and its outcome: arrival time, logical request id, method, path,
the fault, what the client got and what the service answered. Written as it happens (and
flushed per line), so a proxy that is killed leaves a log that ends at its last request.

Under `privacy: {identifiers: hashed}` the log is given the run's salt and keeps the
request id and the path only as pseudonyms (`streams.ledger.pseudonym`), in the file and in
memory alike: the retry verdict groups by request id, which a keyed hash keeps, and the
HTTP ledger records (read from here) carry no raw id either. An idempotency key or a path
such as `/customers/c-42/orders` names a person or an order (issue 21, reproduction 9).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.streams.ledger import pseudonym


class RequestLog:
    """Keeps every entry in memory and, given a path, appends it as a JSON line."""

    def __init__(self, path: Path | None = None, *, salt: bytes | None = None) -> None:
        self.path = path
        self._salt = salt  # held in memory only, never written
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

    def write(self, entry: LoggedRequest) -> LoggedRequest:
        """Keep and append `entry`, pseudonymised under a salt; returns what was kept."""
        if self._salt is not None:
            entry = pseudonymised(entry, self._salt)
        self.entries.append(entry)
        if self._file is not None:
            self._file.write(entry.to_json() + "\n")
            self._file.flush()
        self._written.set()
        return entry

    async def wait_for(
        self, condition: Callable[[list[LoggedRequest]], bool], timeout_s: float
    ) -> None:
        """Wait until `condition(entries)` holds, checked after every write."""
        async with asyncio.timeout(timeout_s):
            while not condition(self.entries):
                self._written.clear()
                await self._written.wait()


def pseudonymised(entry: LoggedRequest, salt: bytes) -> LoggedRequest:
    """`entry` with its request id and path as keyed hashes (the route, method, fault,
    statuses and timings are what the verdict reads and name no one)."""
    return replace(
        entry,
        request_id=pseudonym(salt, entry.request_id.encode("utf-8")),
        path=pseudonym(salt, entry.path.encode("utf-8")),
    )


def read_request_log(path: Path) -> list[LoggedRequest]:
    """Entries of a request log file; a torn last line (a killed proxy) is skipped."""
    entries: list[LoggedRequest] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(LoggedRequest.from_json(line))
        except (ValueError, TypeError):
            continue
    return entries
