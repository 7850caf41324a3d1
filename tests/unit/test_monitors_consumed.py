"""A unit settles from when the service consumed its copies, not from when they were sent.

A correct service that falls behind on a loaded machine shows an older state after the
copies were sent; the checker must not call that a `stale_overwrite` (or `lost_event`,
`resurrected`) while the service group's commits say the copy had not been consumed yet.
"""

from __future__ import annotations

import dataclasses

from chaosbus.monitors import LiveChecker, MonitorConfig, MonitorReport, check
from chaosbus.monitors.consumed import Consumed
from chaosbus.monitors.history import History
from chaosbus.monitors.lag import LagSample, LagSeries
from chaosbus.monitors.testing import HistoryBuilder

SETTLE_MS = 1_500
CONFIG = MonitorConfig(source_topic="orders", model="entity", settle_ms=SETTLE_MS)
ROUTE = "orders->orders.out"


def sample(at_ms: int, committed: int, *, end: int = 10) -> LagSample:
    return LagSample(at_ms, {0: committed}, {0: end})


def landed(history: History) -> History:
    """The builder's history with each copy at its own destination offset, in send order
    (one partition): what the group's committed offsets are compared with."""
    copies = sorted(
        (
            (e.sent_at_ms or 0, i, n)
            for i, r in enumerate(history.ledger)
            for n, e in enumerate(r.emissions)
        ),
    )
    offsets = {(i, n): offset for offset, (_, i, n) in enumerate(copies)}
    ledger = [
        r.model_copy(
            update={
                "emissions": tuple(
                    e.model_copy(update={"offset": offsets[i, n]})
                    for n, e in enumerate(r.emissions)
                )
            }
        )
        for i, r in enumerate(history.ledger)
    ]
    return dataclasses.replace(history, ledger=tuple(ledger))


def bad(report: MonitorReport) -> dict[str, int]:
    return {name: n for name, n in report.anomalies.counts.items() if n}


def two_versions() -> tuple[HistoryBuilder, int]:
    """v1 then v2 of one order, sent at once, and when they were sent."""
    h = HistoryBuilder()
    h.event("a", 1)
    h.event("a", 2)
    return h, h.now_ms


class TestConsumed:
    def test_an_offset_is_dated_by_the_first_sample_past_it(self) -> None:
        consumed = Consumed.from_samples(
            ROUTE, [sample(300, 2), sample(100, 0), sample(200, 1), sample(400, 2)]
        )
        assert consumed.consumed_at(0, 0) == 200  # committed 1: offset 0 was read
        assert consumed.consumed_at(0, 1) == 300
        assert consumed.consumed_at(0, 2) is None  # never seen committed
        assert consumed.consumed_at(1, 0) is None  # a partition never sampled

    def test_a_commit_moved_back_does_not_unconsume(self) -> None:
        consumed = Consumed.from_samples(ROUTE, [sample(100, 3), sample(200, 1), sample(300, 4)])
        assert consumed.consumed_at(0, 2) == 100
        assert consumed.consumed_at(0, 3) == 300

    def test_the_series_keeps_samples_in_time_order(self) -> None:
        """The wind-down samples while the poller samples too: `add` in any order."""
        series = LagSeries(stall_ms=5_000)
        for at in (100, 300, 200):
            series.add(sample(at, 0))
        assert [s.at_ms for s in series.samples] == [100, 200, 300]


class TestSlowService:
    def test_state_read_before_the_service_consumed_the_copy_is_not_judged(self) -> None:
        """The reported false alarm: a correct service, behind by more than `settle_ms`,
        shows v1 after v2 was sent; it had not read v2 yet, so nothing is wrong."""
        h, sent = two_versions()
        h.observe("a", 1, at_ms=sent + SETTLE_MS + 500)  # still behind
        h.observe("a", 2, at_ms=sent + 3_000 + SETTLE_MS + 250)  # the final read
        history = landed(h.build())
        # Committed past v1 (offset 0) at once, past v2 (offset 1) only at +3 s.
        samples = [sample(sent + 100, 1), sample(sent + 3_000, 2)]

        consumed = Consumed.from_samples(ROUTE, samples)
        report = check(dataclasses.replace(history, consumed=consumed), CONFIG)

        assert bad(report) == {}
        assert report.coverage.judged == 1
        assert bad(check(history, CONFIG)) == {"stale_overwrite": 1}  # sent-time base

    def test_an_older_state_after_the_service_consumed_the_newer_copy_is_stale(self) -> None:
        """The rule does not excuse a real race: v2 was consumed, v1 is still shown."""
        h, sent = two_versions()
        h.observe("a", 1, at_ms=sent + 3_000 + SETTLE_MS + 250)
        history = landed(h.build())
        consumed = Consumed.from_samples(ROUTE, [sample(sent + 3_000, 2)])

        report = check(dataclasses.replace(history, consumed=consumed), CONFIG)

        assert bad(report) == {"stale_overwrite": 1, "unrecovered": 1}

    def test_a_copy_never_seen_consumed_leaves_its_unit_pending(self) -> None:
        """v2 still in the service's queue when the window closed: the unit's state is not
        judged (pending, out of the judged share), as the live checker had it. Whether the
        service was stuck or behind, the lag says (`stalled_consumer`, caught up or not)."""
        h, sent = two_versions()
        h.observe("a", 1, at_ms=sent + SETTLE_MS + 500)
        h.observe("a", 1, at_ms=sent + 10_000)  # the last look, still behind
        history = landed(h.build())
        consumed = Consumed.from_samples(ROUTE, [sample(sent + 100, 1), sample(sent + 9_000, 1)])

        report = check(dataclasses.replace(history, consumed=consumed), CONFIG)

        assert bad(report) == {}
        assert (report.coverage.judged, report.coverage.pending) == (0, 1)
        assert bad(check(history, CONFIG)) == {"stale_overwrite": 1, "unrecovered": 1}

    def test_a_version_going_down_is_stale_even_while_a_copy_waits(self) -> None:
        """History evidence needs no settling: a correct service never shows a version go
        down, consumed or not."""
        h, sent = two_versions()
        h.observe("a", 2, at_ms=sent + 200)
        h.observe("a", 1, at_ms=sent + 400)
        history = landed(h.build())
        consumed = Consumed.from_samples(ROUTE, [sample(sent + 100, 1)])

        report = check(dataclasses.replace(history, consumed=consumed), CONFIG)

        assert bad(report) == {"stale_overwrite": 1}

    def test_another_routes_copies_do_not_wait_for_this_group(self) -> None:
        h, sent = two_versions()
        h.observe("a", 1, at_ms=sent + SETTLE_MS + 500)
        history = landed(h.build())
        consumed = Consumed.from_samples("orders->elsewhere", [sample(sent + 3_000, 2)])

        report = check(dataclasses.replace(history, consumed=consumed), CONFIG)

        assert bad(report) == {"stale_overwrite": 1, "unrecovered": 1}


class TestLiveSlowService:
    """The live checker (guardrails, the recovery series) tells the same truth during the
    run: a unit whose copy waits in the service's queue is pending, not stale."""

    def fed(self, history: History, route: str | None = ROUTE) -> LiveChecker:
        """A live checker fed the history's ledger and sources (`route` None: one that
        reads no service commits)."""
        live = LiveChecker(CONFIG, service_route=route)
        for record in history.ledger:
            live.feed_ledger(record)
        for event in history.sources:
            live.feed_source(event)
        return live

    def test_a_lagging_service_is_pending_until_it_consumes_then_clean(self) -> None:
        h, sent = two_versions()
        history = landed(h.build())
        live = self.fed(history)
        live.feed_lag(sample(sent + 100, 1))  # v1 consumed, v2 still waiting
        behind = sent + SETTLE_MS + 500
        live.feed_observation(h.observe("a", 1, at_ms=behind))

        report = live.snapshot(behind)
        assert bad(report) == {}
        assert report.coverage.judged == 0  # pending: neither clean nor bad

        live.feed_lag(sample(sent + 3_000, 2))  # the service reads v2 3 s after it was sent
        caught_up = sent + 3_000 + SETTLE_MS + 250
        live.feed_observation(h.observe("a", 2, at_ms=caught_up))
        report = live.snapshot(caught_up)
        assert bad(report) == {}
        assert report.coverage.judged == 1
        # Without the service's commits, the same facts read as a stale overwrite.
        blind = self.fed(history, route=None)
        blind.feed_observation(h.observations[0])
        assert bad(blind.snapshot(behind)) == {"stale_overwrite": 1, "unrecovered": 1}

    def test_once_consumed_an_older_state_is_stale_live_as_in_the_verdict(self) -> None:
        """The rule excuses the queue, not a real race: v2 consumed, v1 still shown."""
        h, sent = two_versions()
        history = landed(h.build())
        live = self.fed(history)
        live.feed_lag(sample(sent + 3_000, 2))
        late = sent + 3_000 + SETTLE_MS + 250
        live.feed_observation(h.observe("a", 1, at_ms=late))
        assert bad(live.snapshot(late)) == {"stale_overwrite": 1, "unrecovered": 1}
        # The live snapshot over the whole history equals the batch verdict.
        samples = [sample(sent + 3_000, 2)]
        full = dataclasses.replace(
            landed(h.build()), consumed=Consumed.from_samples(ROUTE, samples)
        )
        batch = check(full, CONFIG, horizon_ms=late)
        assert live.snapshot(late).anomalies.counts == batch.anomalies.counts

    def test_a_unit_settles_from_when_its_copy_was_consumed(self) -> None:
        """Consumed at +3 s: judged from +3 s + settle on, not before."""
        h = HistoryBuilder()
        h.event("a", 1)
        sent = h.now_ms
        live = self.fed(landed(h.build()))
        live.feed_lag(sample(sent + 3_000, 1))
        live.feed_observation(h.observe("a", None, at_ms=sent + 3_000 + 100))
        assert live.snapshot(sent + 3_000 + 100).coverage.judged == 0  # settling
        live.feed_observation(h.observe("a", 1, at_ms=sent + 3_000 + SETTLE_MS + 1))
        report = live.snapshot(sent + 3_000 + SETTLE_MS + 1)
        assert (bad(report), report.coverage.judged) == ({}, 1)

    def test_another_routes_copies_do_not_wait_for_this_group(self) -> None:
        h, sent = two_versions()
        live = self.fed(landed(h.build()), route="orders->elsewhere")
        live.feed_lag(sample(sent + 100, 0))
        behind = sent + SETTLE_MS + 500
        live.feed_observation(h.observe("a", 1, at_ms=behind))
        assert bad(live.snapshot(behind)) == {"stale_overwrite": 1, "unrecovered": 1}


def test_the_builder_names_the_route_these_tests_use() -> None:
    h = HistoryBuilder()
    h.event("a", 1)
    assert h.build().ledger[0].route == ROUTE
