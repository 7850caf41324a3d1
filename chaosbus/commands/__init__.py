"""The `chaosbus` commands: one module per command or command group.

    options.py      every option more than one command takes, declared once per meaning
    shell.py        one-line errors and their exit codes, shared by every command
    values.py       parsers of flag text: durations, sizes, fields, JSON paths, files to write
    proxy.py http.py                       the interposers alone (chaosbus.standalone)
    retries.py                             an HTTP request log judged
    validate.py init.py schema.py          experiment files, checked, started, described
    run.py check.py                        an experiment run live, a recorded run judged
    recording.py                           the history and gate flags, as one Program
    history.py rerun.py suite.py           the program: runs remembered, re-run, by tier
    kill.py unkill.py audit.py             the kill switch and the audit log
    pause.py (pause, resume)               switches scoped to a route or a fault
    plan.py                                the dry run: what a run would do, predicted
    approve.py approvals.py                sign-offs bound to content
    demo.py                                the demo (chaosbus_demo)
    record.py replay.py generate.py fidelity.py   traffic (chaosbus.traffic)
    handoff.py horizon.py map.py           the no-code platforms' side: the automation's own
                                           losses, the dedup horizon (chaosbus.platforms),
                                           the map of the handoffs (chaosbus.map)
    local.py scenarios.py control.py       command groups: the local stack, the shipped
                                           scenarios, the control plane's set-up

A command module holds the typer function (or, for a group, its `group`): flags in, the
module that does the work called, lines and an exit code out. It registers nothing itself;
`chaosbus/cli.py` assembles the app, one line per command. Addresses resolve through
`chaosbus.settings`.

Adding a command, `chaosbus history` say:

1. `chaosbus/commands/history.py` with `def history(...)` under `@one_line_errors`, its
   docstring the help. A flag another command already takes comes from `options.py`; a flag
   that a second command comes to take moves there. The work lives in the module named for
   it (`chaosbus/history/…`), not here.
2. In `chaosbus/cli.py`, `history` in the import and `app.command("history")(history.history)`
   (a group: `app.add_typer(history.group, name="history")`).

`tests/unit/test_cli_options.py` then checks its options against every other command's.
"""
