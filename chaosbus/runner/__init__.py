"""The experiment runner: phases, guardrails, abort, verdict.

run.py          ExperimentRun: preflight, audit, the phases, abort; opens the parts
live.py         LiveParts (the parts driven as one), LiveRecord (timeline, guardrails…)
observation.py  LiveObservation: ledger and source readers, probes, lag, polling, waits
catch_up.py     wait_caught_up: the source and the ledger read to the source's end?
topic_side.py   TopicSide: the interposer of the topic routes, its plans and counts
supervised_side SupervisedTopicSide: the same in a child process, restarted when killed
                (interposer_child.py the child, interposer_protocol.py their lines)
http_side.py    HttpSide: the reverse proxies of the HTTP routes, their plans and log
check_readers   open_check_reader: each check's probe, for a run and for `check`
check_window    `chaosbus check`: a recorded window collected after the fact
facts.py        RunFacts: what a run (or a check) observed, frozen and storable
assembly.py     assemble(spec, facts) → RunReport: the one path to a report
"""

from chaosbus.runner.preflight import PreflightResult, count_targeting, preflight
from chaosbus.runner.progress import Progress
from chaosbus.runner.run import ExperimentRun, RunOptions, run_experiment

__all__ = [
    "ExperimentRun",
    "PreflightResult",
    "Progress",
    "RunOptions",
    "count_targeting",
    "preflight",
    "run_experiment",
]
