"""`chaosbus init --from-recording FILE`: a starter experiment and a traffic spec proposed by
what a recording holds (chaosbus.traffic.inference), both valid as written, to be edited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaosbus.commands.values import new_file
from chaosbus.experiment.loader import load_experiment
from chaosbus.scenarios.starter import starter_experiment
from chaosbus.traffic.file_format import RecordingReader
from chaosbus.traffic.generator_spec import load_traffic_spec
from chaosbus.traffic.inference import propose


def traffic_spec_beside(path: Path) -> Path:
    return path.with_name(f"{path.stem}.traffic.yaml")


def write_from_recording(
    path: Path, recording: Path, source: str, destination: str, force: bool
) -> list[str]:
    """Write the experiment at `path` and its traffic spec beside it; the lines to print."""
    spec_path = traffic_spec_beside(path)
    new_file(path, force)
    new_file(spec_path, force)
    with RecordingReader(recording) as reader:
        proposal = propose(reader)
    notes = [f"# - {note}" for note in proposal.notes] or ["# - nothing stood out"]
    header = [
        f"# Proposed from {recording.name} by `chaosbus init --from-recording`: edit it.",
        "# What the recording suggested:",
        *notes,
    ]
    spec_path.write_text(_yaml(header, proposal.spec), encoding="utf-8")
    experiment: dict[str, Any] = yaml.safe_load(starter_experiment(source, destination))
    experiment["monitor"]["checks"][0]["extract"] = proposal.extract
    experiment["workload"] = {"generate": str(spec_path)}
    guide = [
        "# A starter experiment whose extractors and workload were proposed from",
        f"# {recording.name}; edit the probe to read where your service keeps each entity.",
        "# Check it with `chaosbus validate FILE`; the traffic spec: docs/traffic.md.",
    ]
    path.write_text(_yaml(guide, experiment), encoding="utf-8")
    load_traffic_spec(spec_path)  # both must be valid as written
    load_experiment(path)
    return [
        f"wrote {path} and {spec_path}; check them with: chaosbus validate {path}",
        *(f"  {note}" for note in proposal.notes),
    ]


def _yaml(header: list[str], document: dict[str, Any]) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body
