"""`chaosbus map [EXPERIMENT…]`: the handoffs drawn from the cluster and the experiment
files (chaosbus.map)."""

from __future__ import annotations

import asyncio

import typer

from chaosbus.commands.options import Bootstrap, KafkaConfig, MapPage
from chaosbus.commands.shell import one_line_errors
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.settings import resolve_kafka


@one_line_errors
def map_command(
    files: list[str] = typer.Argument(
        None,
        help="Experiment files (or scenario names) whose routes, HTTP routes and probes to add.",
    ),
    out: MapPage = None,
    sample_s: float = typer.Option(
        2.0, "--sample-s", min=0.0, help="Seconds between two lag samples (0: one sample)."
    ),
    bootstrap: Bootstrap = None,
    kafka_config: KafkaConfig = None,
) -> None:
    """Draw the handoffs: automations → topics → interposers → topics → services → stores.

    Prints the text form; --out writes the HTML page (SVG inline, offline). Exit 0 drawn
    (also when parts could not be read: they are named), 2 invalid input or no broker.
    """
    # Imported here: the map reads the cluster's admin API and runs Graphviz, which no other
    # command needs at start-up.
    from chaosbus.map.cluster import read_cluster
    from chaosbus.map.graph import build_graph
    from chaosbus.map.render import to_html, to_text

    specs = [load_experiment_or_scenario(f) for f in files or []]  # bad files refused first
    kafka = resolve_kafka(bootstrap, kafka_config)
    view = asyncio.run(read_cluster(kafka, sample_s=sample_s))
    graph = build_graph(view, specs)
    title = f"chaosbus map of {view.bootstrap}"
    page = to_html(graph, title) if out is not None else None  # `dot` missing: exit 2 first
    typer.echo(to_text(graph, title), nl=False)
    if out is not None and page is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
        typer.echo(f"map: {out}", err=True)
