"""One line of the HTTP proxy's request log: the contract between the proxy, which writes
it, and the retry verdict, which reads it (so it lives below both)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    route: str
    sequence: int
    request_id: str  # the logical request: idempotency key, else a hash of the request
    method: str
    path: str
    arrived_at_ms: int
    fault: str  # "pass" or the HTTP fault type
    fault_name: str | None
    status: int | None  # what the client got; None: no answer (hang, reset)
    delivered: int  # times the service received it: 0, 1, or 1 + duplicate copies
    upstream_status: int | None  # what the service answered, when it was called
    took_ms: int

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 400

    @property
    def accepted_by_service(self) -> int:
        """Deliveries the service answered with success (a duplicate counts each copy)."""
        if self.upstream_status is None or not 200 <= self.upstream_status < 300:
            return 0
        return self.delivered

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> LoggedRequest:
        return cls(**json.loads(line))
