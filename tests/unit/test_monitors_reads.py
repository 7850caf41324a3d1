"""What the monitors could read: each reader's counts, the final read, the catch-up, and the
conclusion that never says `held` on what was not read (decision 0270)."""

from __future__ import annotations

from chaosbus.monitors.lag import ServiceProgress, Stall
from chaosbus.monitors.reads import LAG, CatchUp, ProbeReads, ReadLog, Reads
from chaosbus.monitors.report import Anomalies, Coverage, MonitorReport
from chaosbus.report.model import RunReport
from chaosbus.runner.catch_up import ReadProgress
from chaosbus.runner.console import progress_text
from chaosbus.runner.facts import RunFacts, Window
from chaosbus.runner.observe import Observed
from chaosbus.runner.progress import Progress
from chaosbus.runner.verdict import conclude, conclude_report, judge

WRONGTYPE = "redis could not read order:{entity}: WRONGTYPE Operation against a key"
REFUSED = "redis at 127.0.0.1:16379 did not answer (Connection refused)"


def checked(judged_events: int, source_events: int, pending_events: int = 0) -> MonitorReport:
    """A clean check's report with these coverage counts (one event per unit)."""
    return MonitorReport(
        model="entity",
        anomalies=Anomalies(counts={}, examples={}),
        coverage=Coverage(
            source_events=source_events,
            events=source_events,
            units=source_events,
            judged=judged_events,
            judged_events=judged_events,
            pending=pending_events,
            pending_events=pending_events,
        ),
    )


def concluded(reports: dict[str, MonitorReport], reads: Reads | None = None) -> tuple[str, str]:
    verdict = conclude(judge((), Observed(reports), "after"), reports, reads=reads)
    return verdict.status, verdict.reason or ""


class TestReadLog:
    def test_counts_failures_and_keeps_the_last_error(self) -> None:
        """Three reads, two failed with different errors: the count and the later error."""
        log = ReadLog(["order-state"])
        log.record("order-state", REFUSED)
        log.record("order-state", None)
        log.record("order-state", WRONGTYPE)
        assert log.failed == 2
        assert log.facts().probes["order-state"] == ProbeReads(
            reads=3, failed=2, last_error=WRONGTYPE, final=None
        )

    def test_the_final_read_is_marked(self) -> None:
        """A read marked final says whether it succeeded; later polls do not undo it."""
        log = ReadLog(["a", "b"])
        log.record("a", REFUSED, final=True)
        log.record("b", None, final=True)
        log.record("a", None)  # a poll after the final look
        probes = log.facts().probes
        assert (probes["a"].final, probes["b"].final) == (False, True)

    def test_a_reader_never_read_is_listed_with_nothing(self) -> None:
        """Every reader named at the start is in the facts, read or not."""
        assert ReadLog(["a", LAG]).facts().probes == {"a": ProbeReads(), LAG: ProbeReads()}

    def test_one_line_with_the_count(self) -> None:
        """A failing probe is said in one line: how many of its reads failed, the last error."""
        reads = ProbeReads(reads=42, failed=42, last_error=WRONGTYPE, final=False)
        assert reads.describe("order-state") == (
            f"probe order-state: 42 of 42 reads failed, the final one too; last: {WRONGTYPE}"
        )
        lag = ProbeReads(reads=10, failed=3, last_error="no answer", final=True)
        assert lag.describe(LAG) == (
            "service group lag: 3 of 10 reads failed, not the final one; last: no answer"
        )


class TestUnread:
    def test_only_a_failed_final_read_or_catch_up_is_unread(self) -> None:
        """Failures along the way are samples missed; a failed final read is a state unknown."""
        reads = Reads(
            probes={
                "a": ProbeReads(reads=10, failed=4, last_error=REFUSED, final=True),
                "b": ProbeReads(reads=10, failed=10, last_error=WRONGTYPE, final=False),
                "c": ProbeReads(reads=0),
            },
            catch_up=CatchUp(reached=False, detail="12 of the 200 source messages read have"),
        )
        assert reads.unread() == [
            f"probe b: its final read failed: {WRONGTYPE} (10 of 10 reads failed)",
            "the ledger could not be read to the source's end: 12 of the 200 source messages "
            "read have",
        ]
        assert len(reads.failures()) == 3  # a, b and the catch-up

    def test_facts_keep_reads_both_ways(self) -> None:
        """The reads are plain data: stored facts give the same reads back."""
        reads = Reads(
            probes={"a": ProbeReads(reads=3, failed=1, last_error=REFUSED, final=True)},
            catch_up=CatchUp(reached=True),
        )
        facts = RunFacts(
            run_id="r",
            actor="ci",
            window=Window.at(0),
            checks={},
            faults={},
            faults_suppressed={},
            reads=reads,
        )
        assert RunFacts.model_validate_json(facts.model_dump_json()).reads == reads


class TestConclusion:
    def test_a_failed_final_read_is_never_held(self) -> None:
        """Every unit judged clean, but the last look failed: inconclusive, the probe named."""
        reads = Reads(
            probes={"orders": ProbeReads(reads=30, failed=8, last_error=REFUSED, final=False)}
        )
        status, reason = concluded({"orders": checked(20, 20)}, reads)
        assert (status, reason) == (
            "inconclusive",
            f"probe orders: its final read failed: {REFUSED} (8 of 30 reads failed)",
        )

    def test_failures_along_the_way_still_allow_held(self) -> None:
        """A probe that failed some polls and read at the end: the verdict rests on that read."""
        reads = Reads(
            probes={"orders": ProbeReads(reads=30, failed=8, last_error=REFUSED, final=True)},
            catch_up=CatchUp(reached=True),
        )
        assert concluded({"orders": checked(20, 20)}, reads) == ("held", "")

    def test_a_ledger_short_of_the_source_end_is_never_held(self) -> None:
        """The catch-up not reached: inconclusive, whatever the checks say."""
        reads = Reads(catch_up=CatchUp(reached=False, detail="the interposer stopped"))
        assert concluded({"orders": checked(20, 20)}, reads) == (
            "inconclusive",
            "the ledger could not be read to the source's end: the interposer stopped",
        )

    def test_unread_beats_violated_and_names_the_bound(self) -> None:
        """A bound that failed on data partly unread is named, not concluded."""
        report = checked(20, 20).model_copy(
            update={"anomalies": Anomalies(counts={"lost_event": 3}, examples={})}
        )
        reads = Reads(catch_up=CatchUp(reached=False, detail="x"))
        status, reason = concluded({"orders": report}, reads)
        assert status == "inconclusive"
        assert reason.endswith("; not judged: anomalies.total = 3 (expected ≤ 0)")

    def test_nothing_judged_names_the_failing_probes(self) -> None:
        """A run that judged nothing says which probe failed and with what, not a guess."""
        reads = Reads(
            probes={
                "order-state": ProbeReads(reads=9, failed=9, last_error=WRONGTYPE, final=False),
                "customer-paid": ProbeReads(reads=9, failed=0, final=True),
            }
        )
        reports = {"order-state": checked(0, 20), "customer-paid": checked(0, 0)}
        assert concluded(reports, reads) == (
            "error",
            "nothing was judged: probe order-state: 9 of 9 reads failed, the final one too; "
            f"last: {WRONGTYPE}",
        )

    def test_nothing_judged_without_failures_says_the_coverage(self) -> None:
        """No reader failed: the reason is each check's coverage, or no source traffic."""
        assert concluded({"a": checked(0, 0)}) == ("error", "nothing was judged: no source traffic")
        status, reason = concluded({"a": checked(0, 10, pending_events=10)})
        assert (status, reason) == (
            "error",
            "nothing was judged: check a judged none of its 10 source events: all 10 units were "
            "still settling when the window closed",
        )

    def test_a_service_stuck_before_every_unit_is_violated_not_an_error(self) -> None:
        """Every unit waits behind a stalled service (pending): nothing was judged, but the
        stall was read off the lag and fails the bound: `violated`, the rest said."""
        stall = Stall(partition=0, offset=70, lag=50, since_ms=0, duration_ms=4_000, ongoing=True)
        service = ServiceProgress(
            group="svc", topic="orders", samples=9, lag_max=50, recovered_s=None,
            caught_up=False, stalls=(stall,),
        )  # fmt: skip
        reports = {"paid": checked(0, 10, 10)}
        after = judge((), Observed(reports, service=service), "after")
        verdict = conclude(after, reports, service=service)
        assert (verdict.status, verdict.reason) == (
            "violated",
            "anomalies.total = 1 (expected ≤ 0) — anomalies: stalled_consumer 1; nothing else "
            "judged: check paid judged none of its 10 source events: all 10 units were still "
            "settling or waiting in the service's queue when the window closed",
        )
        # The same facts without the stall: nothing was judged, an error.
        assert concluded(reports)[0] == "error"

    def test_a_check_with_every_unit_pending_is_not_skipped(self) -> None:
        """The demo's hole: customer-paid had its 10 units all settling, order-state judged
        everything; that is not `held`, it is a check that judged nothing."""
        reports = {"order-state": checked(200, 200), "customer-paid": checked(0, 10, 10)}
        assert concluded(reports) == (
            "inconclusive",
            "check customer-paid judged none of its 10 source events: all 10 units were still "
            "settling when the window closed",
        )

    def test_some_pending_beside_judged_units_still_holds(self) -> None:
        """Units still settling beside judged ones are left out of the share (decision 0070)."""
        assert concluded({"a": checked(20, 30, pending_events=10)}) == ("held", "")

    def test_a_written_report_concludes_the_same(self) -> None:
        """`conclude_report` reads the report's `reads`: the same status from the JSON."""
        reads = Reads(catch_up=CatchUp(reached=False, detail="x"))
        reports = {"orders": checked(20, 20)}
        verdict = conclude(judge((), Observed(reports), "after"), reports, reads=reads)
        report = RunReport(
            name="n",
            hypothesis="h",
            status=verdict.status,
            reason=verdict.reason,
            run_id="r",
            seed=1,
            actor="ci",
            started_at="2026-01-01T00:00:00+00:00",
            duration_s=1.0,
            routes=[],
            hypotheses=judge((), Observed(reports), "after"),
            anomalies=Anomalies(counts={}, examples={}),
            faults={},
            metrics=reports["orders"].metrics,
            guardrails=[],
            checks=reports,
            reads=reads,
            phases=[],
            timeline=[],
        )
        again = RunReport.model_validate_json(report.model_dump_json())
        assert conclude_report(again).status == verdict.status == "inconclusive"


class TestProgressLine:
    def test_read_failures_show_from_the_first(self) -> None:
        """The live progress says nothing of reads until one fails, then counts them."""
        calm = Progress("inject", 3.0, 4, 0, 1, 50, 1.0)
        failing = Progress("inject", 3.0, 4, 0, 1, 50, 1.0, read_failures=7)
        assert "read failures" not in progress_text(calm).plain
        assert progress_text(failing).plain.endswith("anomalies 0  read failures 7")


class TestCatchUpProgress:
    def test_how_far_the_readers_got_in_one_line(self) -> None:
        """Behind on the source, the source is named; read whole, the ledger's gap is."""
        assert (
            ReadProgress(200, 180, 0).describe() == "the source was read to 180 of its 200 messages"
        )
        assert ReadProgress(200, 200, 12).describe() == (
            "12 of the 200 source messages read have no ledger record"
        )
        assert ReadProgress(200, 200, 0).reached
        assert not ReadProgress(200, 200, 1).reached
