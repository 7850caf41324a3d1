"""The shipped scenario library: experiment files installed as package data.

`chaosbus scenarios` lists them, `chaosbus run NAME` runs one, and the demo reads its
experiments from here, so a wheel installed anywhere carries the same files as the source tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from chaosbus.documents import DocumentError, decode_text, read_file_bytes
from chaosbus.errors import InvalidInput
from chaosbus.experiment import ExperimentSpec, load_experiment, parse_experiment_text
from chaosbus.experiment.loader import ExperimentInvalid
from chaosbus.injectors.validation import ROOT
from chaosbus.platforms.scenarios import platform_scenarios, scenario_text

SUFFIX = ".yaml"


@dataclass(frozen=True)
class Scenario:
    name: str
    text: str


def _library() -> Traversable:
    return files(__name__)


def scenario_names() -> list[str]:
    """Names of every shipped scenario, sorted (the platforms' are generated from profiles)."""
    files_ = [
        entry.name.removesuffix(SUFFIX)
        for entry in _library().iterdir()
        if entry.is_file() and entry.name.endswith(SUFFIX)
    ]
    return sorted([*files_, *platform_scenarios()])


def scenario(name: str) -> Scenario:
    """One shipped scenario by name; an unknown name lists the known ones."""
    if name not in scenario_names():
        known = ", ".join(scenario_names())
        raise InvalidInput(f"no scenario named {name!r} (shipped: {known})")
    platform = platform_scenarios().get(name)
    if platform is not None:
        return Scenario(name, scenario_text(platform))
    return Scenario(name, _library().joinpath(name + SUFFIX).read_text(encoding="utf-8"))


def load_experiment_or_scenario(argument: str) -> ExperimentSpec:
    """An experiment named on the command line: a file that exists, else a shipped scenario.

    An argument that looks like a path (a slash or a YAML suffix) is always read as a file, so
    a typo in a path is reported as a missing file, not as an unknown scenario.
    """
    path = Path(argument)
    if path.exists() or "/" in argument or path.suffix in {".yaml", ".yml"}:
        return load_experiment(path)
    found = scenario(argument)
    return parse_experiment_text(found.text, origin=f"scenario {found.name}")


def read_experiment(argument: str) -> tuple[bytes, ExperimentSpec]:
    """The bytes an experiment argument names and the spec parsed from exactly those bytes:
    the file is read once, so what approvals hash is what runs (a FIFO or a file swapped
    between two reads cannot serve one content to the hash and another to the parser)."""
    path = Path(argument)
    if path.exists() or "/" in argument or path.suffix in {".yaml", ".yml"}:
        origin = str(path)
        try:
            content = read_file_bytes(path, root=ROOT)
            text = decode_text(content, root=ROOT)
        except DocumentError as exc:
            raise ExperimentInvalid([str(exc)], origin) from exc
        return content, parse_experiment_text(text, origin=origin)
    found = scenario(argument)
    return found.text.encode("utf-8"), parse_experiment_text(
        found.text, origin=f"scenario {found.name}"
    )


def experiment_content(argument: str) -> bytes:
    """The bytes an experiment argument names (what approvals are bound to)."""
    path = Path(argument)
    if path.exists() or "/" in argument or path.suffix in {".yaml", ".yml"}:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{argument}: cannot read ({exc.strerror})") from exc
    return scenario(argument).text.encode("utf-8")
