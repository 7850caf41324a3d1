"""The run history: every run remembered, compared, trended (ARCHITECTURE §7, "The program").

    location.py   where: an SQLite file (the default, under CHAOSBUS_HOME) or PostgreSQL
    labels.py     NAME=VALUE labels a run is recorded with (`service` groups the trends)
    entry.py      RunSummary / Measures / StoredRun: what is kept of one run        (pure)
    schema.py     the tables and their migrations, in order, with a schema version  (data)
    store.py      SqlHistory: migrate, append (one transaction), get, summaries   (I/O)
    sqlite.py     the embedded engine;  postgres.py  a team's shared database      (I/O)
    connect.py    open_history(location): opened and migrated, or one line
    recorder.py   record(): beside the verdict, never in its way (one line on failure)
    gate.py       baselines: what is comparable, what is a regression, exit 5      (pure)
    program.py    one run as a step of the program: compare, write, record, exit code
    trends.py     per scenario x service: series and plain-language indicators     (pure)
    tables.py     the `chaosbus history` tables (rich)
    page.py       the self-contained HTML page: verdict matrix, trends, indicators
    rerun.py      a stored experiment made runnable again, on topics the user names (pure)

The history is a store beside the control plane: no verdict waits for it or depends on it.
Errors (`history.errors`) are one line and exit 2 where the history is required (`history`,
`rerun`, `--baseline`); where it is not (recording), one line on stderr and no other effect.
"""
