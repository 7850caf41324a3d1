"""`chaosbus horizon EXPERIMENT`: the service's deduplication horizon, measured round by
round (chaosbus.platforms.horizon)."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import (
    Bootstrap,
    ComparedPlatforms,
    Experiment,
    KafkaConfig,
    KeyPrefix,
    RunRedis,
)
from chaosbus.commands.shell import one_line_errors
from chaosbus.errors import InvalidInput


@one_line_errors
def horizon(
    file: Experiment,
    check: str | None = typer.Option(
        None, "--check", help="The `once` check reading the service's effects."
    ),
    min_delay: float = typer.Option(0.25, "--min-delay", help="Shortest delay tried, seconds."),
    max_delay: float = typer.Option(60.0, "--max-delay", help="Longest delay tried, seconds."),
    precision: float = typer.Option(0.25, "--precision", help="Stop below this width, seconds."),
    samples: int = typer.Option(1, "--samples", help="Events replayed per delay and partition."),
    points: int = typer.Option(4, "--points", help="Delays per refining round."),
    rounds: int = typer.Option(6, "--rounds", help="At most this many runs."),
    inject_s: float = typer.Option(5.0, "--inject-s", help="Injection per round, seconds."),
    platform: ComparedPlatforms = [],  # noqa: B006  # typer reads the default, never mutates it
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
    redis: RunRedis = None,
    key_prefix: KeyPrefix = "",
) -> None:
    """Measure how late a copy may arrive and still be recognised (the dedup horizon).

    Exit 0 measured; 1 the service applies twice a copy one of the named platforms sends;
    2 invalid input (bounds, no once check, unreachable broker); 3 a round was aborted.
    """
    # Imported here: a horizon is a series of runs, which no other command needs at start-up.
    from chaosbus.control.audit import default_actor
    from chaosbus.platforms.horizon import HorizonPlan, measure
    from chaosbus.platforms.profile import profile
    from chaosbus.runner import RunOptions
    from chaosbus.scenarios import load_experiment_or_scenario
    from chaosbus.settings import resolve_kafka, resolve_redis

    profiles = [profile(name) for name in platform]  # unknown names refused first
    plan = HorizonPlan(
        check=check,
        min_delay_ms=round(min_delay * 1000),
        max_delay_ms=round(max_delay * 1000),
        precision_ms=round(precision * 1000),
        samples=samples,
        points=points,
        max_rounds=rounds,
        inject_s=inject_s,
    )
    problems = plan.problems()
    if problems:
        raise InvalidInput("; ".join(problems))
    spec = load_experiment_or_scenario(file)
    options = RunOptions(
        kafka=resolve_kafka(bootstrap, kafka_config),
        redis_url=resolve_redis(redis),
        actor=default_actor(),
        key_prefix=key_prefix,
        label=file,
    )
    result = asyncio.run(measure(spec, options, plan, say=lambda line: typer.echo(line, err=True)))
    for line in result.lines(profiles):
        typer.echo(line)
    failed = result.bracket.failed_ms
    late = [p for p in profiles if failed is not None and p.horizon_s * 1000 >= failed]
    raise typer.Exit(1 if late else 0)
