"""The settings every route of one interposer process shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chaosbus.clients.connection import KafkaSettings
from chaosbus.contracts.ledger_record import LEDGER_TOPIC
from chaosbus.injectors.limits import MAX_HELD_DEFAULT
from chaosbus.streams.topics import TopicPolicy

Compression = Literal["gzip", "snappy", "lz4", "zstd"]
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "snappy", "lz4", "zstd")
# At-least-once: how long source offsets wait between commits. A crash re-delivers what was
# read since the last commit (README, "After a crash"); see docs/decisions/0120.
DEFAULT_COMMIT_INTERVAL_MS = 100


@dataclass(frozen=True)
class InterposerConfig:
    kafka: KafkaSettings
    run_id: str
    group_id: str = "chaosbus.proxy"
    ledger_enabled: bool = True
    ledger_topic: str = LEDGER_TOPIC
    event_id_header: str | None = None
    # Set: the ledger holds keyed hashes of keys and event ids (experiment `privacy:`).
    identifier_salt: bytes | None = None
    start_from: Literal["earliest", "latest"] = "earliest"
    max_held_messages: int = MAX_HELD_DEFAULT  # a file sets it: blast_radius.max_held_messages
    max_held_bytes: int = 256 * 1024 * 1024
    commit_interval_ms: int = DEFAULT_COMMIT_INTERVAL_MS
    max_batch: int = 5_000
    drain_timeout_s: float = 60.0
    status_interval_ms: int = 5_000
    # The producer's largest request: above aiokafka's 1 MiB default, so a value over 1 MiB
    # that the destination accepts is forwarded; the destination's max.message.bytes is
    # checked per route before sending.
    max_request_size: int = 8 * 1024 * 1024
    # How the ledger, parked and created destination topics are made (streams.topics).
    topics: TopicPolicy = field(default_factory=TopicPolicy)
    # What the proxy's producers compress with (destination and ledger); None: nothing.
    compression: Compression | None = None
