"""`chaosbus retries LOG`: how the automation retried, judged from a `chaosbus http --log`."""

from __future__ import annotations

from pathlib import Path

import typer

from chaosbus.commands.options import RetryPlatform
from chaosbus.commands.shell import one_line_errors
from chaosbus.errors import InvalidInput
from chaosbus.monitors.retries import RETRY_ANOMALIES, RetryPolicy, RetryVerdict, judge_retries


@one_line_errors
def retries(
    log_path: Path = typer.Argument(..., help="A request log written by `chaosbus http --log`."),
    max_attempts: int = typer.Option(8, "--max-attempts", min=1, help="Bound on attempts."),
    min_backoff: float = typer.Option(
        1.5, "--min-backoff-ratio", min=1.0, help="Least growth of successive gaps."
    ),
    max_storm_rps: float = typer.Option(
        20.0, "--max-storm-rps", min=0.0, help="Most retries per second while failing."
    ),
    platform: RetryPlatform = None,
) -> None:
    """Judge how the automation retried: exit 0 no retry anomaly, 1 any, 2 invalid input."""
    policy = RetryPolicy(
        max_attempts=max_attempts, min_backoff_ratio=min_backoff, max_storm_rps=max_storm_rps
    )
    if platform is not None:  # the platform's profile sets the bounds (chaosbus.platforms)
        from chaosbus.platforms.profile import profile

        policy = profile(platform).retry_policy()
    verdict = retries_verdict(log_path, policy)
    for line in verdict_lines(verdict):
        typer.echo(line)
    raise typer.Exit(1 if verdict.findings else 0)


def retries_verdict(log_path: Path, policy: RetryPolicy) -> RetryVerdict:
    # Imported here: the HTTP side (aiohttp) is not needed by any other command at start-up.
    from chaosbus.streams.http import read_request_log

    try:
        entries = read_request_log(log_path)
    except OSError as exc:
        raise InvalidInput(f"{log_path}: cannot read the request log ({exc.strerror})") from exc
    return judge_retries(entries, policy)


def verdict_lines(verdict: RetryVerdict) -> list[str]:
    lines = [f"{name} = {value:g}" for name, value in sorted(verdict.metrics.items())]
    counts = verdict.counts()
    lines.append(
        "anomalies: "
        + (", ".join(f"{k} {counts[k]}" for k in RETRY_ANOMALIES if counts[k]) or "none")
    )
    lines.extend(f"- {f.anomaly}: {f.request_id}: {f.detail}" for f in verdict.findings[:20])
    return lines
