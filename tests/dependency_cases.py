"""The table of chaosbus's own dependency failures: one row per case the integration tests
play (tests/integration/test_dependency_failures.py, test_dependency_cluster.py).

Each test asserts that its run ended with the row's status and a reason matching the row's
(`…` stands for what varies: ports, counts, timings). docs/dependency-failures.md holds the
table `render()` makes, and tests/unit/test_dependency_table.py keeps the two in lockstep:
the page says what the tests observed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chaosbus.report.status import Status


@dataclass(frozen=True)
class DependencyCase:
    key: str
    dependency: str  # what fails
    done: str  # what the test does to it, during a live run
    behaviour: str  # what chaosbus does meanwhile
    status: Status
    reason: str  # the report's reason, `…` for what varies; "" for none

    def pattern(self) -> str:
        """The reason as a regular expression (`…` matches anything on the line)."""
        return ".*".join(re.escape(part) for part in self.reason.split("…"))


CASES: dict[str, DependencyCase] = {
    case.key: case
    for case in (
        DependencyCase(
            key="redis-stopped",
            dependency="Redis (control plane, and the store the probes read)",
            done="stopped 10 s during injection, then restarted",
            behaviour=(
                "the kill-switch watcher reads `unreachable`: injection stops and what is held "
                "is released within a second; forwarding goes on; the run aborts, catches up "
                "with the source, drains and commits; the probes' reads fail meanwhile"
            ),
            status="aborted",
            reason="control plane unreachable: …",
        ),
        DependencyCase(
            key="broker-stopped-mid-run",
            dependency="Kafka (a single broker)",
            done="stopped 10 s while copies are held, then restarted",
            behaviour=(
                "the interposer keeps what it holds and re-sends what was not acknowledged; "
                "the source and ledger readers, the probes of effects topics and the service "
                "wait for the broker; once it is back everything is read"
            ),
            status="held",
            reason="",
        ),
        DependencyCase(
            key="broker-stopped-at-wind-down",
            dependency="Kafka (a single broker)",
            done="stopped 10 s as the recovery begins, back after the catch-up's deadline",
            behaviour=(
                "the catch-up cannot read the source's end offsets and gives up at its "
                "deadline; the lag sample fails too when the broker is still away as it is "
                "taken (the reason then begins `service group lag: its final read failed`); "
                "the final look is taken; the interposer drains once the broker is back"
            ),
            status="inconclusive",
            reason="…the ledger could not be read to the source's end: the source's end offsets "
            "could not be read (no Kafka broker answered at …) after 5 s",
        ),
        DependencyCase(
            key="controller-lost",
            dependency="Kafka (a three-broker cluster)",
            done="its active controller SIGKILLed during injection",
            behaviour=(
                "the quorum elects another controller; the interposer, the readers and the "
                "service find the partitions' new leaders (three replicas, two in sync) and "
                "go on; everything is read"
            ),
            status="held",
            reason="",
        ),
        DependencyCase(
            key="postgres-stopped",
            dependency="PostgreSQL (read by `sql` probes)",
            done="stopped once the service applied everything, down to the run's end",
            behaviour=(
                "each read fails (retriable) and is counted; the final look fails too, so "
                "the state after settling is unknown"
            ),
            status="inconclusive",
            reason="probe order-state: its final read failed: PostgreSQL…; probe "
            "customer-paid: its final read failed: PostgreSQL…",
        ),
        DependencyCase(
            key="postgres-restarted",
            dependency="PostgreSQL (read by `sql` probes)",
            done="stopped 10 s during the recovery, then restarted",
            behaviour=(
                "reads fail while it is away; the probe connects again on the next read "
                "once it is back; the final look reads"
            ),
            status="held",
            reason="",
        ),
        DependencyCase(
            key="probe-too-slow",
            dependency="the service's HTTP endpoint (an `http` probe)",
            done="answers only after the probe's timeout, from the recovery on",
            behaviour=(
                "each read times out and is counted; observations taken before are stale, "
                "and the final look fails"
            ),
            status="inconclusive",
            reason="probe order-state: its final read failed: GET …: timed out (…)",
        ),
        DependencyCase(
            key="interposer-killed",
            dependency="the run's interposer (`--interposer supervised`: a child process)",
            done="SIGKILLed during injection",
            behaviour=(
                "the runner starts it again from the group's committed offsets, at the "
                "intensity and kill-switch state of the moment, `max_faults` lowered by what "
                "was injected; messages read again are decided again the same way "
                "(`redelivered`); the restart is in the report"
            ),
            status="held",
            reason="",
        ),
    )
}

HEADER = "| dependency | what the test does | what chaosbus does | verdict | reason (one line) |"


def render() -> str:
    """The table of docs/dependency-failures.md."""
    lines = [HEADER, "| --- | --- | --- | --- | --- |"]
    for case in CASES.values():
        reason = f"`{case.reason}`" if case.reason else "—"
        lines.append(
            f"| {case.dependency} | {case.done} | {case.behaviour} | `{case.status}` | {reason} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())  # python -m tests.dependency_cases: the table for the page
