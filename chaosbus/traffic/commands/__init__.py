"""The traffic commands, one module each: typer functions that `chaosbus/cli.py` registers.

    options.py   what several of them take: addresses, durations, sizes, field lists
    record.py    chaosbus record --from TOPIC --out FILE
    replay.py    chaosbus replay FILE --to TOPIC
    generate.py  chaosbus generate SPEC --out FILE
    fidelity.py  chaosbus fidelity REFERENCE [CANDIDATE]
    init_from_recording.py   what `chaosbus init --from-recording FILE` writes

Each raises `ChaosbusError` for bad input; the registration wraps it in the CLI's one-line
error handling, so a module here imports nothing from `chaosbus.cli`.
"""
