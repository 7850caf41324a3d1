"""Every command's options: a flag several commands take is declared once per meaning, in
`chaosbus/commands/options.py`, with one help text per meaning; addresses resolve through
`chaosbus.settings`, never through typer's `envvar=`."""

from __future__ import annotations

import inspect
import typing
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.models import OptionInfo
from typer.testing import CliRunner

import chaosbus_demo.command
from chaosbus.cli import app
from chaosbus.commands import options
from chaosbus_demo.run import DemoOptions

# Flag names that carry more than one meaning, each declared once in options.py with a help
# text that says how it differs. Adding a meaning is a deliberate change of this table.
MEANINGS = {
    "--redis": 3,  # the control plane; the control plane the probes read too; the probes only
    # a fault file (proxy); an HTTP fault file (http); a fault by name (pause, resume)
    "--fault": 3,
    # a route to interpose on (proxy); a route to pause or resume, by name; the route of a
    # request log (handoff)
    "--route": 3,
    # where a new consumer group starts (proxy); the starter's source (init); the topic to
    # record (record)
    "--from": 3,
    "--run-id": 2,  # the run id to write (proxy); the run to judge (check)
    "--to": 2,  # the starter's destination (init); the topic a replay writes (replay)
    # the demo's reports directory; the recording a command writes; the map's HTML page
    "--out": 3,
    "--seed": 2,  # of every fault decision; of a generator, instead of its spec's
    "--label": 2,  # recorded with a run; a filter of `history`
    # whose retry bounds (retries); whose scenarios (scenarios); the sender, for the cause
    # (handoff); whose re-deliveries to compare with (horizon)
    "--platform": 4,
    "--topic": 2,  # a topic renamed for a rerun (rerun); the automation's source (handoff)
}


@dataclass(frozen=True)
class Use:
    """One option of one command, as typer builds it, and the declaration it came from."""

    command: str
    flags: tuple[str, ...]
    help: str
    envvar: object
    declaration: OptionInfo


def commands(typer_app: typer.Typer, prefix: str = "") -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every command's path and function, groups included (a group's own options are its
    callback's: `scenarios --platform`)."""
    for info in typer_app.registered_commands:
        assert info.callback is not None
        yield f"{prefix}{info.name}", info.callback
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        own = group.typer_instance.registered_callback
        if own is not None and own.callback is not None:
            yield f"{prefix}{group.name}", own.callback
        yield from commands(group.typer_instance, f"{prefix}{group.name} ")


def declarations(function: Callable[..., Any]) -> dict[str, OptionInfo]:
    """The OptionInfo behind each option parameter: its default, or its `Annotated` type."""
    function = inspect.unwrap(function)
    hints = typing.get_type_hints(function, include_extras=True)
    found = {}
    for name, parameter in inspect.signature(function).parameters.items():
        for candidate in [parameter.default, *typing.get_args(hints.get(name))[1:]]:
            if isinstance(candidate, OptionInfo):
                found[name] = candidate
    return found


def built(typer_app: typer.Typer) -> dict[str, Any]:
    """The commands typer builds, by path."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(typer_app), "")
    return found


def uses(typer_app: typer.Typer) -> list[Use]:
    built_commands = built(typer_app)
    found = []
    for path, function in commands(typer_app):
        declared = declarations(function)
        for param in built_commands[path].params:
            if param.param_type_name != "option" or param.name not in declared:
                continue
            flags = (*param.opts, *param.secondary_opts)
            found.append(Use(path, flags, param.help or "", param.envvar, declared[param.name]))
    return found


def shared_declarations() -> set[int]:
    """The OptionInfo objects options.py declares."""
    return {
        id(meta)
        for value in vars(options).values()
        if typing.get_origin(value) is Annotated
        for meta in typing.get_args(value)[1:]
    }


def by_flag(found: list[Use]) -> dict[str, list[Use]]:
    grouped: dict[str, list[Use]] = defaultdict(list)
    for use in found:
        grouped[use.flags[0]].append(use)
    return grouped


def declared_outside_options(found: list[Use]) -> list[str]:
    """A flag more than one command takes, declared in a command instead of options.py."""
    shared = shared_declarations()
    problems = []
    for flag, group in by_flag(found).items():
        if len({use.command for use in group}) < 2:
            continue
        problems += [
            f"{use.command} {flag}: declared in the command, not in options.py"
            for use in group
            if id(use.declaration) not in shared
        ]
    return sorted(problems)


def meaning_problems(found: list[Use], meanings: dict[str, int]) -> list[str]:
    """A meaning declared twice (two declarations, one help text), or a flag whose help
    texts outnumber the meanings it is known to carry."""
    problems = []
    for flag, group in sorted(by_flag(found).items()):
        texts = {use.help for use in group}
        declared = {id(use.declaration) for use in group}
        if len(declared) > len(texts):
            problems.append(f"{flag}: {len(declared)} declarations of {len(texts)} meanings")
        known = meanings.get(flag, 1)
        if len(texts) != known:
            listed = " | ".join(sorted(texts))
            problems.append(f"{flag}: {len(texts)} help texts, {known} known: {listed}")
    return problems


class TestTheRealCommandLine:
    def test_every_option_is_seen(self) -> None:
        """The inventory holds every option typer builds (so the checks below see them all)."""
        found = uses(app)
        every = sum(
            1
            for path, command in built(app).items()
            for param in command.params
            if param.param_type_name == "option" and param.name != "help"
        )
        assert len(found) == every
        assert len(found) > 60
        assert {use.command for use in found if "--redis" in use.flags} == {
            "proxy", "http", "run", "kill", "unkill", "audit", "approve", "approvals", "check",
            "demo", "control init", "control acl", "control require-approvals", "pause",
            "resume", "rerun", "suite", "horizon",
        }  # fmt: skip

    def test_a_shared_flag_is_declared_once_in_options(self) -> None:
        """Every flag that more than one command takes comes from options.py."""
        assert declared_outside_options(uses(app)) == []

    def test_one_help_text_per_meaning(self) -> None:
        """Each flag has one help text per meaning and one declaration per help text."""
        assert meaning_problems(uses(app), MEANINGS) == []

    def test_redis_says_what_each_command_uses_it_for(self) -> None:
        """`run --redis` and `check --redis` differ, and their help texts say how."""
        helps = {use.command: use.help for use in uses(app) if "--redis" in use.flags}
        assert helps["run"] == helps["demo"]
        assert "control plane" in helps["run"]
        assert "probes" in helps["run"]
        assert "control plane" not in helps["check"]
        assert "probes" in helps["check"]
        assert "probes" not in helps["kill"]
        assert len({helps["kill"], helps["proxy"], helps["control acl"], helps["audit"]}) == 1

    def test_no_option_reads_the_environment_through_typer(self) -> None:
        """No `envvar=`: every variable is read by chaosbus.settings, the same way for all."""
        assert [f"{u.command} {u.flags[0]}" for u in uses(app) if u.envvar] == []


class TestTheChecksCatchDuplicates:
    def test_an_inline_redeclaration_is_caught(self) -> None:
        """Two commands each declaring --seed in place, same help: both named, two
        declarations of one meaning."""
        bad = typer.Typer()

        @bad.command("one")
        def one(seed: int = typer.Option(1, "--seed", help="Seed.")) -> None:
            """One."""

        @bad.command("two")
        def two(seed: int = typer.Option(1, "--seed", help="Seed.")) -> None:
            """Two."""

        found = uses(bad)
        assert declared_outside_options(found) == [
            "one --seed: declared in the command, not in options.py",
            "two --seed: declared in the command, not in options.py",
        ]
        assert meaning_problems(found, {}) == ["--seed: 2 declarations of 1 meanings"]

    def test_two_help_texts_for_one_flag_are_caught(self) -> None:
        """The shared --redis plus an inline one with its own text: two texts, one known."""
        bad = typer.Typer()

        @bad.command("one")
        def one(redis: options.ControlRedis = None) -> None:
            """One."""

        @bad.command("two")
        def two(redis: str = typer.Option("", "--redis", help="Redis URL.")) -> None:
            """Two."""

        found = uses(bad)
        assert declared_outside_options(found) == [
            "two --redis: declared in the command, not in options.py"
        ]
        assert meaning_problems(found, {}) == [
            "--redis: 2 help texts, 1 known: Redis URL of the control plane (kill switch, audit "
            "log); or CHAOSBUS_REDIS. | Redis URL."
        ]


class TestDemoResolvesLikeEveryCommand:
    @pytest.fixture
    def captured(self, monkeypatch: pytest.MonkeyPatch) -> list[DemoOptions]:
        seen: list[DemoOptions] = []

        def fake(options: DemoOptions, program: object = None) -> int:
            seen.append(options)
            return 0

        monkeypatch.setattr(chaosbus_demo.command, "demo_command", fake)
        return seen

    def test_the_environment_names_the_addresses(self, captured: list[DemoOptions]) -> None:
        """CHAOSBUS_BOOTSTRAP and CHAOSBUS_REDIS reach the demo through chaosbus.settings."""
        env = {"CHAOSBUS_BOOTSTRAP": "kafka.test:9092", "CHAOSBUS_REDIS": "redis://r.test:6379/0"}
        result = CliRunner().invoke(app, ["demo", "--out", "o"], env=env)
        assert result.exit_code == 0, result.output
        assert captured == [
            DemoOptions(
                bootstrap="kafka.test:9092", redis_url="redis://r.test:6379/0", out=Path("o")
            )
        ]

    def test_flags_win_over_the_environment(self, captured: list[DemoOptions]) -> None:
        """A flag is taken before its variable, as for every other command."""
        env = {"CHAOSBUS_BOOTSTRAP": "kafka.test:9092", "CHAOSBUS_REDIS": "redis://r.test:6379/0"}
        result = CliRunner().invoke(
            app, ["demo", "--bootstrap", "k:1", "--redis", "redis://flag:2/0"], env=env
        )
        assert result.exit_code == 0, result.output
        assert (captured[0].bootstrap, captured[0].redis_url) == ("k:1", "redis://flag:2/0")

    def test_nothing_given_means_the_local_stack(self, captured: list[DemoOptions]) -> None:
        """No flag and no (or an empty) variable: no address, so the demo uses the local stack."""
        env = {"CHAOSBUS_BOOTSTRAP": "", "CHAOSBUS_REDIS": ""}
        result = CliRunner().invoke(app, ["demo"], env=env)
        assert result.exit_code == 0, result.output
        assert (captured[0].bootstrap, captured[0].redis_url) == (None, None)
