"""The `chaosbus` command line: the typer app assembled from `chaosbus.commands`.

One line per command below, in the order `chaosbus --help` lists them (typer lists the
command groups after the commands). A command is a module of `chaosbus/commands/`; adding
one is that module, its name in the import and its line here (`chaosbus.commands` says how).

Exit codes (ARCHITECTURE §4): 0 hypothesis held / success, 1 hypothesis violated,
2 invalid input (file, flags, unreachable broker, missing prerequisite), 3 aborted,
4 inconclusive (`run` and `check`: less than `monitor.min_judged_share`, 95 % by default,
of the source events could be judged; §4 lists 0-3 and is to gain 4), 5 regression
(`--fail-on-regression`: held, but worse than the baseline; chaosbus.history.gate).
"""

from __future__ import annotations

import sys

import typer

from chaosbus.commands import (
    approvals,
    approve,
    audit,
    check,
    control,
    demo,
    fidelity,
    generate,
    handoff,
    history,
    horizon,
    http,
    init,
    kill,
    local,
    map,
    pause,
    plan,
    proxy,
    record,
    replay,
    rerun,
    retries,
    run,
    scenarios,
    schema,
    suite,
    unkill,
    validate,
)

app = typer.Typer(
    name="chaosbus",
    help="Event-stream chaos for async integrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("proxy")(proxy.proxy)
app.command("http")(http.http_proxy)
app.command("retries")(retries.retries)
app.command("validate")(validate.validate)
app.command("init")(init.init)
app.command("schema")(schema.schema)
app.command("run")(run.run)
app.command("rerun")(rerun.rerun)
app.command("suite")(suite.suite)
app.command("kill")(kill.kill)
app.command("unkill")(unkill.unkill)
app.command("pause")(pause.pause)
app.command("resume")(pause.resume)
app.command("audit")(audit.audit)
app.command("approve")(approve.approve)
app.command("approvals")(approvals.approvals)
app.command("check")(check.check)
app.command("plan")(plan.plan)
app.command("demo")(demo.demo)
app.command("record")(record.record)
app.command("replay")(replay.replay_command)
app.command("generate")(generate.generate_command)
app.command("fidelity")(fidelity.fidelity)
app.command("history")(history.history)
app.command("handoff")(handoff.handoff)
app.command("horizon")(horizon.horizon)
app.command("map")(map.map_command)
app.add_typer(local.group, name="local")
app.add_typer(scenarios.group, name="scenarios")
app.add_typer(control.group, name="control")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
