"""Every option that more than one command takes, declared once per meaning.

A command names the type in its signature and gives the default there, e.g.
`bootstrap: Bootstrap = None`. An option that reaches a broker or Redis is resolved by
`chaosbus.settings` (flag, then environment, then file or local stack), never by typer's
`envvar=`, so every command finds the same address the same way; its help says which
variable stands in for it.

One flag name may carry more than one meaning; then each meaning is declared here with a
help text that says how it differs, side by side (`--redis`: the control plane, the control
plane read by the probes too, the probes only; `--fault`, `--from`, `--run-id`, `--route`,
`--topic`, `--platform`).
`tests/unit/test_cli_options.py` fails when a flag that several commands take is declared
anywhere else, or when one meaning is declared twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# ---- where Kafka and Redis are (resolved by chaosbus.settings) ----------------------------

Bootstrap = Annotated[
    str | None, typer.Option("--bootstrap", help="Kafka HOST:PORT; or CHAOSBUS_BOOTSTRAP.")
]
HttpUpstream = Annotated[
    str | None,
    typer.Option(
        "--http-upstream",
        help="Service behind the experiment's one HTTP route (default: the file's upstream); "
        "or CHAOSBUS_HTTP_UPSTREAM.",
    ),
]
KafkaConfig = Annotated[
    Path | None,
    typer.Option(
        "--kafka-config",
        help="Kafka client properties file (SASL, TLS); or CHAOSBUS_KAFKA_CONFIG.",
    ),
]
ControlRedis = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="Redis URL of the control plane (kill switch, audit log); or CHAOSBUS_REDIS.",
    ),
]
RunRedis = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="Redis URL of the control plane, which the redis probes read too; or CHAOSBUS_REDIS.",
    ),
]
ProbeRedis = Annotated[
    str | None,
    typer.Option("--redis", help="Redis URL the redis probes read; or CHAOSBUS_REDIS."),
]

# ---- who acts, and on what ---------------------------------------------------------------

Actor = Annotated[
    str | None,
    typer.Option(
        "--actor", help="A note beside the actor (default: OS user); the actor is the Redis user."
    ),
]
Experiment = Annotated[
    str, typer.Argument(help="Experiment file (YAML), or the name of a shipped scenario.")
]
TopicFaultFile = Annotated[
    Path | None, typer.Option("--fault", help="Fault file (YAML) for every route.")
]
HttpFaultFile = Annotated[Path | None, typer.Option("--fault", help="HTTP fault file (YAML).")]
Seed = Annotated[int | None, typer.Option("--seed", help="Seed of every fault decision.")]
ShareRoute = Annotated[
    bool,
    typer.Option("--share-route", help="Run even if another live interposer reads a source."),
]
Traffic = Annotated[
    str | None,
    typer.Option(
        "--traffic",
        metavar="CMD",
        help="Shell command started when injection begins (stopped at the end if still "
        "running); its exit code and output (PATH.traffic.log beside --report) are reported.",
    ),
]
CreateTopics = Annotated[
    bool,
    typer.Option(
        "--create-topics", help="Create missing destinations with their source's partitions."
    ),
]

Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]

# ---- routes and topics: a proxy's, the scopes `pause`/`resume` name, a log's, renames -----

ProxyRoutes = Annotated[
    list[str],
    typer.Option(
        "--route", help="SOURCE:DESTINATION[@ID], repeatable; ID pins the decisions' key."
    ),
]
ScopeRoute = Annotated[
    str | None,
    typer.Option("--route", help="A topic route FILE declares: SOURCE, SOURCE:DESTINATION or id."),
]
ScopeHttpRoute = Annotated[
    str | None, typer.Option("--http-route", help="An HTTP route FILE declares, by its name.")
]
ScopeFault = Annotated[
    str | None, typer.Option("--fault", help="A fault FILE declares, by its name (topic or HTTP).")
]
LoggedRoute = Annotated[str | None, typer.Option("--route", help="Only this route of the log.")]
TopicRenames = Annotated[
    list[str] | None,
    typer.Option(
        "--topic", help="OLD=NEW: run on another topic (repeat); decisions keep their key."
    ),
]
PublishedTopic = Annotated[
    str, typer.Option("--topic", help="The source topic the automation publishes.")
]


# ---- the no-code platform a command reads the profile of (chaosbus.platforms) ------------

RetryPlatform = Annotated[
    str | None,
    typer.Option("--platform", help="Bounds of that platform's own retries (e.g. n8n); wins."),
]
ListedPlatform = Annotated[
    str | None,
    typer.Option("--platform", help="Only that platform's scenarios, with their sources."),
]
SenderPlatform = Annotated[
    str | None,
    typer.Option("--platform", help="The automation's platform, for the cause (e.g. n8n)."),
]
ComparedPlatforms = Annotated[
    list[str],
    typer.Option("--platform", help="Compare with this platform's re-deliveries; repeatable."),
]

# ---- a run and its report ----------------------------------------------------------------

ProxyWorkers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        help="Interposer processes in one consumer group, supervised: a dead one is "
        "started again, SIGTERM drains them all.",
    ),
]
ProxyRunId = Annotated[str | None, typer.Option("--run-id", help="Run id in ledger records.")]
JudgedRunId = Annotated[str, typer.Option("--run-id", help="The run whose window is judged.")]
Report = Annotated[Path | None, typer.Option("--report", help="Write PATH (JSON), .md, .html.")]
KeyPrefix = Annotated[str, typer.Option("--key-prefix", help="Put before every probe key.")]
StartFrom = Annotated[str, typer.Option("--from", help="earliest or latest, for a new group.")]
StarterSource = Annotated[str, typer.Option("--from", help="Topic the automation writes.")]
RecordedTopic = Annotated[str, typer.Option("--from", help="The topic to record.")]
StarterDestination = Annotated[str, typer.Option("--to", help="Topic the service reads.")]
StarterProbe = Annotated[
    str,
    typer.Option(
        "--probe", help="How the starter's check reads the service: redis, http, sql, kafka."
    ),
]
ReplayDestination = Annotated[str, typer.Option("--to", help="The topic to write.")]

# ---- how a long-running command shows itself (docs/operations.md) ----------------------

Metrics = Annotated[
    str | None,
    typer.Option(
        "--metrics",
        help="HOST:PORT to serve Prometheus metrics on (/metrics); off by default.",
    ),
]
LogFormatOption = Annotated[
    str,
    typer.Option("--log-format", help="Log lines: text (default) or json (one object per line)."),
]

# ---- a window read from a topic, read-only (record, plan) ------------------------------

Window = Annotated[
    str | None,
    typer.Option("--window", help="How far back from now: 30s, 10m, 2h."),
]
Count = Annotated[int, typer.Option("--count", min=1, help="At most N messages.")]
ReadTimeout = Annotated[str, typer.Option("--timeout", help="Stop reading after this long.")]

# ---- files a command writes --------------------------------------------------------------

RecordingOut = Annotated[Path, typer.Option("--out", help="The recording file to write.")]
ReportsDir = Annotated[Path, typer.Option("--out", help="Directory of the reports.")]
MapPage = Annotated[Path | None, typer.Option("--out", help="Write the map as one HTML page here.")]
GeneratorSeed = Annotated[int | None, typer.Option("--seed", help="Instead of the spec's seed.")]

# ---- the run history and CI (chaosbus.history) -------------------------------------------

Labels = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help="NAME=VALUE recorded with the run (repeat; e.g. service=orders-api); "
        "or CHAOSBUS_LABELS=name=value,….",
    ),
]
LabelFilter = Annotated[
    list[str] | None,
    typer.Option("--label", help="Only runs with this NAME=VALUE label (repeat: all of them)."),
]
History = Annotated[
    str | None,
    typer.Option(
        "--history",
        help="Where runs are recorded: a file (SQLite) or postgresql://…; or CHAOSBUS_HISTORY "
        "(default: history.sqlite under CHAOSBUS_HOME).",
    ),
]
NoHistory = Annotated[
    bool, typer.Option("--no-history", help="Record nothing (the history is never required).")
]
Junit = Annotated[
    Path | None,
    typer.Option("--junit", help="Write JUnit XML to PATH (a test suite per experiment)."),
]
BaselineChoice = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        help="Compare with a stored run: last, best, or a history id (same experiment).",
    ),
]
BaselineMatch = Annotated[
    list[str] | None,
    typer.Option(
        "--baseline-match",
        help="Label a last/best baseline must share with this run (repeat; default: service).",
    ),
]
FailOnRegression = Annotated[
    bool,
    typer.Option(
        "--fail-on-regression",
        help="Exit 5 when the hypothesis held but the run is worse than its baseline.",
    ),
]
Tolerance = Annotated[
    str,
    typer.Option(
        "--tolerance",
        help="How much worse than the baseline still passes: counts and time to recovery, "
        "e.g. 10%.",
    ),
]
