"""Every upper bound an experiment or fault file is held to, in one place (docs/limits.md).

A file that can name any number can disarm a run: `copies: 3000000` spends seconds and
hundreds of megabytes on one message, `window: 1000000000` holds a partition forever,
`inject_s: .inf` injects forever. Each limit here is far above what a real experiment
needs, so reaching one means a typo or a hostile file; the message names the path and the
limit. NaN and infinities are refused in every number (`SpecModel`), not bounded here.

The annotated types carry the limits into the pydantic models of `injectors.spec` and
`chaosbus.experiment`, so a model and the table in docs/limits.md cannot drift apart: a
unit test renders the table from this module.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# ---- the document ---------------------------------------------------------------------------
MAX_FILE_BYTES = 1024 * 1024  # 1 MiB; the shipped scenarios are about 2 KB
MAX_DEPTH = 32  # nested mappings and lists; a real file nests about 6 deep
MAX_ALIASES = 100  # `*alias` uses in one document (see docs/decisions/0040)
MAX_NODES = 100_000  # values in the document with every alias expanded

# ---- counts and sizes -----------------------------------------------------------------------
MAX_LIST = 1_000  # faults, routes, checks, steady_state, guardrails, protected_topics, …
MAX_COPIES = 100  # duplicate copies of one message
MAX_WINDOW = 10_000  # reorder window, messages
MAX_BURST = 100_000  # drop burst, messages
MAX_NAME = 200  # names of experiments, faults, checks and bounds, characters
MAX_TEXT = 10_000  # hypothesis and description, characters
MAX_PATTERN = 1_000  # globs, header names and values, JSON paths, probe keys, characters
MAX_TOPIC = 249  # Kafka's own limit on a topic name
MAX_HELD_DEFAULT = 100_000  # messages one interposer holds before it pauses reading
MAX_HELD = 10_000_000  # the most `blast_radius.max_held_messages` may allow
MAX_FAULTS_PER_S = 1_000_000.0  # `blast_radius.max_faults_per_s`
MAX_COUNT = 10**12  # any other count (max_faults, max_examples)
MAX_SEED = 2**63 - 1  # seeds are within ±MAX_SEED

# ---- durations ------------------------------------------------------------------------------
MAX_DURATION_S = 24 * 60 * 60  # any duration: schedule phases, for_s
MAX_DURATION_MS = MAX_DURATION_S * 1000  # delays, spread, within_ms, settle_ms, poll_ms
MAX_PROBE_TIMEOUT_S = 300  # one probe read: a check that waits longer is not a live verdict

Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
Seed = Annotated[int, Field(ge=-MAX_SEED, le=MAX_SEED, strict=True)]
Millis = Annotated[int, Field(ge=0, le=MAX_DURATION_MS, strict=True)]
Seconds = Annotated[float, Field(ge=0.0, le=MAX_DURATION_S)]
# Finite even in a model that does not refuse infinities itself (`.inf` became an
# OverflowError when the SQL probe turned it into milliseconds).
ProbeTimeout = Annotated[float, Field(gt=0.0, le=MAX_PROBE_TIMEOUT_S, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Pattern = Annotated[str, Field(max_length=MAX_PATTERN)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class SpecModel(BaseModel):
    """The base of every model read from a file: frozen, no unknown keys, finite numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def limit_table() -> list[tuple[str, int | float]]:
    """(name, value) of every limit above, in declaration order, for docs and tests."""
    return [(name, value) for name, value in globals().items() if name.startswith("MAX_")]
