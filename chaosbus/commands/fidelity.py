"""`chaosbus fidelity`: one recording's traffic, or two side by side with tolerances."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chaosbus.commands.options import AsJson
from chaosbus.commands.shell import one_line_errors
from chaosbus.traffic.fidelity import TrafficStats, compare, traffic_stats
from chaosbus.traffic.file_format import RecordingReader


@one_line_errors
def fidelity(
    reference: Path = typer.Argument(..., help="A recording: the original."),
    candidate: Path | None = typer.Argument(None, help="Its replay (recorded) or a generator's."),
    as_json: AsJson = False,
) -> None:
    """Compare two recordings' traffic: exit 0 within every tolerance, 1 outside one.

    Rate over time, keys, events per key, inter-arrival and value sizes, and per-key order;
    with one file, its figures alone. Exit 2 for a file that is not a complete recording.
    """
    ref = _stats(reference)
    if candidate is None:
        metrics = ref.metrics() | {"rate per second": ref.per_second}
        if as_json:
            typer.echo(json.dumps(metrics))
        else:
            for name, value in metrics.items():
                typer.echo(f"{name:<24} {value}")
        return
    comparison = compare(ref, _stats(candidate))
    if as_json:
        rows = [row.__dict__ for row in comparison.rows]
        typer.echo(json.dumps({"within": comparison.within, "rows": rows}))
    else:
        for line in comparison.lines(reference.name, candidate.name):
            typer.echo(line)
    raise typer.Exit(0 if comparison.within else 1)


def _stats(path: Path) -> TrafficStats:
    with RecordingReader(path) as reader:
        return traffic_stats(reader)
