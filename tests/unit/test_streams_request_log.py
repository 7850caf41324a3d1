"""The HTTP request log under `privacy: hashed` (issue 21, reproduction 9)."""

from __future__ import annotations

from pathlib import Path

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.streams.http import RequestLog
from chaosbus.streams.http.request_log import read_request_log


def entry(request_id: str, path: str) -> LoggedRequest:
    return LoggedRequest(
        route="pricing",
        sequence=1,
        request_id=request_id,
        method="POST",
        path=path,
        arrived_at_ms=5,
        fault="pass",
        fault_name=None,
        status=200,
        delivered=1,
        upstream_status=200,
        took_ms=3,
    )


class TestPseudonyms:
    def test_ids_and_paths_hashed_in_the_file_and_in_memory(self, tmp_path: Path) -> None:
        """With a salt, neither the key nor the path is kept; the same key stays one id."""
        path = tmp_path / "requests.jsonl"
        with RequestLog(path, salt=b"s" * 16) as log:
            kept = log.write(entry("cust-42", "/customers/cust-42"))
            log.write(entry("cust-42", "/customers/cust-42"))
        assert "cust-42" not in path.read_text()
        assert kept.request_id.startswith("h-")
        assert kept.path.startswith("h-")
        assert {e.request_id for e in read_request_log(path)} == {kept.request_id}
        assert log.entries[0] == kept

    def test_without_a_salt_as_written(self, tmp_path: Path) -> None:
        """`privacy: clear` (the default) keeps what the proxy saw."""
        with RequestLog(tmp_path / "r.jsonl") as log:
            assert log.write(entry("cust-42", "/p")).request_id == "cust-42"
