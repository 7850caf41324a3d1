"""Errors of the traffic package, each an `InvalidInput` (exit 2) with one line to show.

    InvalidInput (chaosbus.errors)
    └── TrafficError             any refusal of record, replay, generate, fidelity
        ├── RecordingInvalid     a file that is not a recording, truncated (the byte named),
        │                        corrupt, or of a newer format version (the version named)
        ├── PrivacyRefused       hashing asked for without a key, or an identifier that would
        │                        still be written in clear
        ├── SpecInvalid          a generator spec that does not validate (its path named)
        └── NotJson              a value JSON selectors cannot reach (selectors; caught by
                                 its callers, which say what it means for the record)

Errors of aiokafka are translated where they are caught, with `raise … from exc`.
"""

from __future__ import annotations

from chaosbus.errors import InvalidInput


class TrafficError(InvalidInput):
    pass


class RecordingInvalid(TrafficError):
    pass


class PrivacyRefused(TrafficError):
    pass


class SpecInvalid(TrafficError):
    pass
