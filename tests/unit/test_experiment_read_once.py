"""The experiment file is read once (issue 21, reproduction 2): the sha256 approvals bind is
of the very bytes that are parsed, even from a FIFO that serves each open something else."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from chaosbus.control.approvals import content_sha256
from chaosbus.scenarios import read_experiment, scenario


def serve(fifo: Path, contents: list[bytes], closed: threading.Event) -> threading.Thread:
    """A writer that answers each open of `fifo` with the next content (the next only once
    the reader closed: a FIFO joins writers that overlap one reader)."""

    def write_all() -> None:
        for content in contents:
            with open(fifo, "wb") as out:
                out.write(content)
            closed.wait(timeout=5)

    thread = threading.Thread(target=write_all, daemon=True)
    thread.start()
    return thread


class TestReadOnce:
    def test_a_fifo_cannot_serve_the_hash_one_file_and_the_parser_another(
        self, tmp_path: Path
    ) -> None:
        """Approved bytes first, other bytes second: the spec is the approved one, and its
        hash is theirs (before: hashed the first, ran the second)."""
        approved = scenario("duplicate-storm").text.encode()
        other = approved.replace(b"name: duplicate-storm", b"name: something-else")
        fifo = tmp_path / "exp.yaml"
        os.mkfifo(fifo)
        closed = threading.Event()
        writer = serve(fifo, [approved, other], closed)
        content, spec = read_experiment(str(fifo))
        closed.set()
        assert (content_sha256(content), spec.name) == (
            content_sha256(approved),
            "duplicate-storm",
        )
        with open(fifo, "rb") as drain:  # let the writer's second open finish
            assert drain.read() == other
        writer.join(timeout=5)
