"""The service's consumer-group progress in words, for the Markdown and HTML reports.

The JSON has it under `service` (`monitors.lag.ServiceProgress`); these lines say the same
to a reader: how far the service fell behind, when it caught up, and where it stalled.
"""

from __future__ import annotations

from chaosbus.monitors.lag import ServiceProgress


def service_lines(service: ServiceProgress) -> list[str]:
    """One line for the group's lag and recovery, one per stalled partition."""
    if service.recovered_s is not None:
        recovered = f"caught up {service.recovered_s:g} s after the injection ended"
    elif service.caught_up:
        recovered = "caught up at the end"
    else:
        recovered = "still behind at the end"
    lag = "no sample" if service.lag_max is None else f"at most {service.lag_max} messages"
    lines = [
        f"consumer group `{service.group}` on `{service.topic}`: lag {lag} "
        f"({service.samples} samples); {recovered}"
    ]
    for stall in service.stalls:
        still = ", still stalled at the end" if stall.ongoing else ""
        lines.append(
            f"stalled: partition {stall.partition} at offset {stall.offset} for "
            f"{stall.duration_ms / 1000:g} s with {stall.lag} messages waiting{still}"
        )
    return lines
