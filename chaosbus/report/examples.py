"""Each anomaly example once, with every class it belongs to.

A unit judged `stale_overwrite` that never recovered is listed by the report's JSON under
both `stale_overwrite` and `unrecovered` (the contract keys examples by name). A reader
wants it once: the renderers show each distinct example under the first class it appears
in, naming all of its classes (`stale_overwrite, unrecovered`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chaosbus.monitors.report import AnomalyExample


def examples_once(
    examples: Mapping[str, Sequence[AnomalyExample]],
) -> list[tuple[tuple[str, ...], AnomalyExample]]:
    """(classes, example) per distinct example, in the order the report lists them."""
    found: dict[AnomalyExample, list[str]] = {}
    for name, listed in examples.items():
        for example in listed:
            found.setdefault(example, []).append(name)
    return [(tuple(names), example) for example, names in found.items()]
