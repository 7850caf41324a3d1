"""Every status through every path: a real `chaosbus run` per outcome, then `chaosbus check`.

Each outcome is played once (a module-scoped fixture per plan, `outcomes_support`) and
many tests read what it left: the exit code, the console, the three reports of `run` and
of `check`, and the run's ledger.

What `check` says of an aborted run's window (docs/decisions/0211): it judges what the run
recorded, as after any run: the source events the ledger decided before the run stopped,
against the service's state now. It never says `aborted` (an abort is a fact of the run's
live phases, which check does not replay); for a correct service that caught up, `held`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

from chaosbus.control import operations
from chaosbus.report import STATUSES, RunReport
from chaosbus.testing import unique_topic
from tests.conftest import StackAddresses
from tests.integration.outcomes_support import (
    Plan,
    Scenario,
    database,
    play_scenario,
    said_by_html,
    said_by_json,
    said_by_markdown,
)
from tests.integration.runner_support import duplicated_payers, make_stage

pytestmark = pytest.mark.integration

SHORT = {"warmup_s": 1, "inject_s": 3, "recover_s": 2}
LONG_INJECTION = {"warmup_s": 1, "inject_s": 30, "recover_s": 1}
HOLD_EVERYTHING = [
    {
        "name": "hold-everything",
        "type": "delay",
        "probability": 1.0,
        "distribution": {"kind": "fixed", "ms": 60_000},
    }
]
# Both probes read a key of the wrong type: the service keeps orders in hashes and totals
# in strings, these read the first as a string and the second as a hash (WRONGTYPE).
UNREADABLE_PROBES = {
    "order-state": {"kind": "redis", "key": "order:{entity}"},
    "customer-paid": {"kind": "redis", "key": "customer:{entity}:paid", "field": "paid"},
}

PLANS = [
    Plan("held", "held", "held", overrides={"schedule": SHORT}),
    Plan("violated", "violated", "violated", kind="naive", overrides={"schedule": SHORT}),
    Plan(
        "aborted-guardrail",
        "aborted",
        "held",
        overrides={
            "schedule": LONG_INJECTION,
            "faults": HOLD_EVERYTHING,
            "guardrails": [{"name": "held", "metric": "held", "max": 10, "for_s": 0.5}],
        },
    ),
    Plan("aborted-kill", "aborted", "held", stop="kill", overrides={"schedule": LONG_INJECTION}),
    Plan(
        "aborted-sigint", "aborted", "held", stop="sigint", overrides={"schedule": LONG_INJECTION}
    ),
    Plan(
        "inconclusive",
        "inconclusive",
        "inconclusive",
        drifted_share=0.6,
        overrides={"schedule": SHORT},
    ),
    Plan("error", "error", None, overrides={"schedule": SHORT}, probes=UNREADABLE_PROBES),
]
WRONG_TYPE = re.escape(
    "of pipeline caused error: WRONGTYPE Operation against a key holding the wrong kind of value"
)


@pytest.fixture(scope="module")
async def control_plane_db(local_stack: StackAddresses) -> str:
    """The module's Redis database, its control plane initialised (released)."""
    url = database(local_stack.redis_url)
    await operations.init(url, "test")
    return url


@pytest.fixture(scope="module", params=PLANS, ids=[plan.outcome for plan in PLANS])
async def scenario(
    request: pytest.FixtureRequest,
    local_stack: StackAddresses,
    control_plane_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Scenario:
    """One outcome played end to end, once for every test that reads it."""
    plan: Plan = request.param
    directory = tmp_path_factory.mktemp(plan.outcome)
    topic = unique_topic(f"outcome-{plan.outcome}")
    stage = await make_stage(local_stack.bootstrap, control_plane_db, topic)
    return await play_scenario(stage, plan, directory, local_stack.bootstrap)


# ---- what each outcome must say -------------------------------------------------------


PHASES = ("preflight", "warmup", "inject", "recover", "settle", "abort")


def _no_lines(_: Scenario) -> list[str]:
    return []


def _aborting(scenario: Scenario) -> list[str]:
    return [re.escape(f"aborting: {scenario.run_reports.report.reason}")]


def _unreadable(scenario: Scenario) -> list[str]:
    """Each probe's failure, said once with its count although it failed on every poll."""
    prefix = re.escape(scenario.stage.prefix)
    failed = r"\d+ of \d+ reads failed, the final one too; last:"
    return [
        rf"probe order-state: {failed} redis could not read {prefix}order:\{{entity\}}: "
        rf"Command # \d+ \(GET {prefix}order:{prefix}o-\d{{5}}\) {WRONG_TYPE}",
        rf"probe customer-paid: {failed} redis could not read {prefix}customer:\{{entity\}}:"
        rf"paid: Command # \d+ \(HGET {prefix}customer:c-\d\d:paid paid\) {WRONG_TYPE}",
    ]


# What a run says on stderr besides its phases and report paths, as patterns, in order.
EXPECTED_LINES: dict[str, Callable[[Scenario], list[str]]] = {
    "held": _no_lines,
    "violated": _no_lines,
    "aborted-guardrail": _aborting,
    "aborted-kill": _aborting,
    "aborted-sigint": _aborting,
    "inconclusive": _no_lines,
    "error": _unreadable,
}


def _all_judged(report: RunReport, events: int) -> None:
    for name, check in report.checks.items():
        coverage = check.coverage
        assert (coverage.source_events, coverage.judged_events) == (events, events), name


async def _held(s: Scenario) -> None:
    report = s.run_reports.report
    assert len(s.ledger) == s.plan.events  # every event decided, none lost to the window
    assert report.anomalies.total == 0
    assert report.reason is None
    _all_judged(report, s.plan.events)
    assert s.check_reports is not None
    _all_judged(s.check_reports.report, s.plan.events)


async def _violated(s: Scenario) -> None:
    report = s.run_reports.report
    assert len(s.ledger) == s.plan.events
    assert (report.reason or "").startswith(
        f"anomalies.total = {report.anomalies.total} (expected ≤ 0) — anomalies: "
    )
    # Every customer with a payment the interposer sent twice is counted twice by the
    # service that adds every delivery: the ledger fixes the number, for run and check.
    payers = await duplicated_payers(s.stage, s.ledger)
    assert payers
    assert s.check_reports is not None
    for written in (s.run_reports, s.check_reports):
        paid = written.report.checks["customer-paid"].anomalies.counts["duplicate_effect"]
        assert paid == len(payers)


async def _aborted(s: Scenario, reason: str) -> None:
    report = s.run_reports.report
    assert re.fullmatch(reason, report.reason or ""), report.reason
    assert [h.phase for h in report.hypotheses] == ["before"]  # stopped before "after"
    entries = await operations.audit_log(s.stage.redis_url, 1_000)
    assert [e.action for e in entries if e.run_id == s.run_id] == ["start", "abort"]
    # Check judges what the run decided, now that every held copy was released: all of
    # it, and a correct service holds.
    assert s.check_reports is not None
    _all_judged(s.check_reports.report, len(s.ledger))


async def _guardrail(s: Scenario) -> None:
    await _aborted(s, r"guardrail held breached: observed \d+, bound ≤ 10 for 0\.5 s")
    report = s.run_reports.report
    assert [g.breached for g in report.guardrails] == [True]
    assert report.faults["delay"] == sum(r.fault == "delay" for r in s.ledger) > 10


async def _killed(s: Scenario) -> None:
    await _aborted(s, re.escape("kill switch engaged by default: outcome test"))


async def _interrupted(s: Scenario) -> None:
    await _aborted(s, re.escape("interrupted by signal"))


async def _inconclusive(s: Scenario) -> None:
    events = s.plan.events
    drifted = round(events * s.plan.drifted_share)
    assert len(s.ledger) == events
    judged = events - drifted
    reason = "; ".join(
        f"check {name} judged {judged} of {events} source events "
        f"({judged / events:.1%}, below the 95% needed): unparsable (payload {drifted})"
        for name in ("order-state", "customer-paid")
    )
    assert s.check_reports is not None
    for written in (s.run_reports, s.check_reports):
        assert written.report.reason == reason
        for check in written.report.checks.values():
            assert check.coverage.unparsable == {"payload": drifted}
        assert written.report.anomalies.total == 0  # what was judged, the service got right


async def _error(s: Scenario) -> None:
    report = s.run_reports.report
    assert len(s.ledger) == s.plan.events
    # The reason names each probe that failed, how often, and its last error: the lines
    # the console said, joined (decision 0270).
    assert report.reason == "nothing was judged: " + "; ".join(
        line for line in s.run.stderr_lines if line.startswith("probe ")
    )
    assert re.fullmatch("nothing was judged: " + "; ".join(_unreadable(s)), report.reason)
    assert [c.coverage.judged for c in report.checks.values()] == [0, 0]
    assert report.reads is not None
    assert [p.final for p in report.reads.probes.values()] == [False, False]


WHY: dict[str, Callable[[Scenario], Awaitable[None]]] = {
    "held": _held,
    "violated": _violated,
    "aborted-guardrail": _guardrail,
    "aborted-kill": _killed,
    "aborted-sigint": _interrupted,
    "inconclusive": _inconclusive,
    "error": _error,
}


# ---- the tests ----------------------------------------------------------------------------


class TestRun:
    def test_exit_code_is_the_documented_one(self, scenario: Scenario) -> None:
        """`run` exits with its status's code, and that status is the plan's."""
        report = scenario.run_reports.report
        assert report.status == scenario.plan.status, report.reason
        assert scenario.run.code == STATUSES[scenario.plan.status].exit_code, scenario.run.stderr

    def test_console_names_the_status(self, scenario: Scenario) -> None:
        """The verdict table on stdout names the badge, the wording and the exit code."""
        row = STATUSES[scenario.plan.status]
        title = f"{row.badge} — {row.wording} (exit {row.exit_code})"
        assert title in scenario.run.flat_stdout, scenario.run.stdout

    def test_the_three_reports_agree(self, scenario: Scenario) -> None:
        """JSON, Markdown and HTML say the same status, reason, anomaly counts and
        hypotheses."""
        written = scenario.run_reports
        said = said_by_json(written.report)
        assert said_by_markdown(written.markdown) == said
        assert said_by_html(written.html) == said

    def test_stderr_holds_only_what_the_user_acts_on(self, scenario: Scenario) -> None:
        """stdout (not a terminal) holds a line per phase before the verdict table; stderr
        the warnings the run wrote for the user, the report paths and where the history
        keeps the run: each a whole line, no library's log line."""
        lines = scenario.run.stderr_lines
        assert re.fullmatch(r"history: \S+ in .+", lines.pop()), scenario.run.stderr
        assert lines[-3:] == [f"report: {path}" for path in scenario.run_reports.paths]
        said = lines[:-3]
        out = [line.split() for line in scenario.run.stdout.splitlines() if line.strip()]
        phases = [words[0] for words in out if words[0] in PHASES]
        if scenario.plan.status == "aborted":
            assert phases[:3] == ["preflight", "warmup", "inject"]
            assert phases[3:] in ([], ["abort"])
        else:
            assert phases == ["preflight", "warmup", "inject", "recover", "settle"]
        patterns = EXPECTED_LINES[scenario.plan.outcome](scenario)
        assert len(said) == len(patterns), said
        for line, pattern in zip(said, patterns, strict=True):
            assert re.fullmatch(pattern, line), line


class TestCheck:
    def test_check_exit_code_and_status(self, scenario: Scenario) -> None:
        """`check` over the run id concludes the status this outcome documents."""
        expected = scenario.plan.check_status
        if expected is None:
            assert scenario.check.code == 2
            assert scenario.check_reports is None
            return
        assert scenario.check_reports is not None
        assert scenario.check_reports.report.status == expected
        assert scenario.check.code == STATUSES[expected].exit_code, scenario.check.stderr

    def test_check_console_names_the_status(self, scenario: Scenario) -> None:
        """`check` prints the summary table `run` prints: its title names the status."""
        expected = scenario.plan.check_status
        if expected is None:
            # Check reads each probe once: one that cannot read is an input it cannot judge,
            # refused in one line naming its check, with exit 2 (the code of `error`), as an
            # unreachable one is.
            [line] = scenario.check.stderr_lines
            prefix = re.escape(scenario.stage.prefix)
            assert re.fullmatch(
                rf"chaosbus: check order-state: redis could not read {prefix}order:\{{entity\}}: "
                rf"Command # \d+ "
                rf"\(GET {prefix}order:{prefix}o-\d{{5}}\) {WRONG_TYPE}",
                line,
            ), line
            assert scenario.check.stdout == ""
            return
        row = STATUSES[expected]
        title = f"{row.badge} — {row.wording} (exit {row.exit_code})"
        assert title in scenario.check.flat_stdout, scenario.check.stdout

    def test_check_prints_the_runs_table(self, scenario: Scenario) -> None:
        """Where `check` concludes what the run did, it prints the very table the run
        printed: the recorded run's id, start and duration (from the history), its steady
        state before, the same hypotheses, anomalies and faults; its title adds only that it
        judged after the fact (issue 20). Not where the verdicts' data differ: a violated
        run saw states along the way (an older version over a newer one, for a while) that
        one read later cannot; an aborted run's window is checked as a whole; an unreadable
        probe is refused by check."""
        if scenario.plan.outcome not in ("held", "inconclusive"):
            return
        name = scenario.run_reports.report.name
        run_table = scenario.run.flat_stdout
        run_table = run_table[run_table.index(f"{name}: ") :]
        checked = scenario.check.flat_stdout.replace(", judged after the fact", "")
        assert checked == run_table, (scenario.run.stdout, scenario.check.stdout)

    def test_check_reports_agree(self, scenario: Scenario) -> None:
        """The check's JSON, Markdown and HTML agree with each other too."""
        written = scenario.check_reports
        if scenario.plan.check_status is None:
            assert written is None
            return
        assert written is not None
        said = said_by_json(written.report)
        assert said_by_markdown(written.markdown) == said
        assert said_by_html(written.html) == said

    def test_check_counts_the_ledger(self, scenario: Scenario) -> None:
        """Check counts the run's decisions from the ledger, as the run did."""
        written = scenario.check_reports
        if scenario.plan.check_status is None:
            assert written is None
            return
        assert written is not None
        decided = Counter(r.fault for r in scenario.ledger)
        assert written.report.faults == dict(decided)
        assert written.report.faults == {
            k: v for k, v in scenario.run_reports.report.faults.items() if v
        }


class TestWhy:
    async def test_the_reports_say_why(self, scenario: Scenario) -> None:
        """Each outcome's reason and numbers, as its input and the run's ledger fix them."""
        await WHY[scenario.plan.outcome](scenario)


def test_plans_cover_every_status() -> None:
    """Every status of the table has an outcome here."""
    assert {plan.status for plan in PLANS} == set(STATUSES)
