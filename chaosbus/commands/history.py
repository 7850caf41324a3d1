"""`chaosbus history [ID]`: the runs recorded, one run, the trends, the page (chaosbus.history)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chaosbus.commands.options import History, LabelFilter
from chaosbus.commands.shell import one_line_errors
from chaosbus.commands.values import date_ms
from chaosbus.contracts.clock import wall_clock_ms
from chaosbus.errors import InvalidInput
from chaosbus.history.connect import open_history
from chaosbus.history.labels import parse_labels
from chaosbus.history.page import to_page
from chaosbus.history.store import Query
from chaosbus.history.tables import detail_lines, indicator_lines, runs_table, trends_table
from chaosbus.history.trends import trends
from chaosbus.report.markdown import to_markdown
from chaosbus.report.status import STATUSES
from chaosbus.runner.console import wide
from chaosbus.settings import resolve_history

RunId = Annotated[str | None, typer.Argument(help="A run's history id: show that run.")]


@one_line_errors
def history(
    run_id: RunId = None,
    scenario: str | None = typer.Option(None, "--scenario", help="Only runs of this experiment."),
    label: LabelFilter = None,
    status: str | None = typer.Option(None, "--status", help="Only runs with this status."),
    since: str | None = typer.Option(None, "--since", help="From this date (UTC), 2026-11-20."),
    until: str | None = typer.Option(None, "--until", help="Before this date (UTC)."),
    last: int = typer.Option(20, "--last", min=1, max=100_000, help="At most N runs."),
    trend: bool = typer.Option(False, "--trend", help="Trends per scenario x service."),
    html: Path | None = typer.Option(None, "--html", help="Write the history page to PATH."),
    store: History = None,
) -> None:
    """The runs recorded (newest first), one run's detail, trends and a page: exit 0, or 2
    for an unknown run id or a history that cannot be read."""
    location = resolve_history(store)
    assert location is not None  # never off here
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status {status!r}: one of {', '.join(STATUSES)}")
    query = Query(
        experiment=scenario,
        labels=parse_labels(label or ()),
        status=status,
        since_ms=None if since is None else date_ms("--since", since),
        until_ms=None if until is None else date_ms("--until", until),
        limit=last,
    )
    console = wide(Console())
    with open_history(location) as opened:
        if run_id is not None:
            run = opened.get(run_id)
            for line in detail_lines(run):
                typer.echo(line)
            typer.echo(to_markdown(run.report))
            return
        summaries = opened.summaries(query)
    if trend:
        found = trends(summaries)
        console.print(trends_table(found))
        for line in indicator_lines(found):
            console.print(line, highlight=False)
    else:
        where = location.describe()
        console.print(runs_table(summaries, f"{len(summaries)} runs in {where}"))
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        page = to_page(summaries, where=location.describe(), now_ms=wall_clock_ms())
        html.write_text(page, encoding="utf-8")
        typer.echo(f"page: {html}", err=True)
