"""The automation's own losses (`monitors.handoff`), the dedup horizon's search
(`platforms.horizon_search`) and the advice per anomaly (`monitors.remedies`): pure logic."""

from __future__ import annotations

from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.monitors.anomalies import (
    ANOMALY_NAMES,
    AUTOMATION_ANOMALIES,
    AUTOMATION_REORDERED,
    UNPUBLISHED_EVENT,
)
from chaosbus.monitors.handoff import judge_handoff
from chaosbus.monitors.history import SourceEvent
from chaosbus.monitors.remedies import REMEDIES
from chaosbus.monitors.retries import RETRY_ANOMALIES
from chaosbus.platforms.horizon_search import (
    Bracket,
    Tried,
    bracket,
    first_ladder,
    next_ladder,
    outcomes_of,
)
from chaosbus.platforms.profile import profiles


def call(
    event_id: str, at_ms: int, *, took_ms: int = 5, upstream: int | None = 200
) -> LoggedRequest:
    return LoggedRequest(
        route="webhook",
        sequence=at_ms,
        request_id=event_id,
        method="POST",
        path="/orders",
        arrived_at_ms=at_ms,
        fault="pass",
        fault_name=None,
        status=upstream,
        delivered=1,
        upstream_status=upstream,
        took_ms=took_ms,
    )


def published(
    event_id: str, entity: str, version: int, offset: int, partition: int = 0
) -> SourceEvent:
    return SourceEvent(("src", partition, offset), event_id, entity, version, False, None, 0)


class TestHandoff:
    def test_accepted_and_never_published(self) -> None:
        """e2 answered 200 and is not on the topic: one unpublished_event, with its cause."""
        verdict = judge_handoff(
            [call("e1", 1_000), call("e2", 2_000), call("e3", 3_000)],
            [published("e1", "o-1", 1, 0), published("e3", "o-2", 1, 1)],
            topic="src",
            cause="acks=0",
        )
        assert verdict.counts() == {UNPUBLISHED_EVENT: 1, AUTOMATION_REORDERED: 0}
        (finding,) = verdict.findings
        assert (finding.unit, finding.detail, finding.cause) == (
            "e2",
            "accepted (200) at +1.000 s, never on src",
            "acks=0",
        )
        assert (verdict.accepted, verdict.published, verdict.window) == (3, 2, (2_000, 2_000))

    def test_a_refused_call_is_not_a_loss(self) -> None:
        """A 500 from the automation told the caller: the caller, not the bus, owns it."""
        verdict = judge_handoff([call("e1", 1_000, upstream=500)], [], topic="src")
        assert verdict.findings == ()
        assert verdict.accepted == 0

    def test_a_retried_call_counts_once_from_its_first_acceptance(self) -> None:
        """Two 200s for one event id are one acceptance, at the first."""
        verdict = judge_handoff([call("e1", 1_000), call("e1", 1_500)], [], topic="src")
        assert verdict.accepted == 1
        assert verdict.findings[0].detail.startswith("accepted (200) at +0.000 s")

    def test_a_clear_order_published_the_other_way_round(self) -> None:
        """v1 answered (at 1.005 s) before v2 arrived (2 s), yet v2 got the lower offset."""
        verdict = judge_handoff(
            [call("v1", 1_000), call("v2", 2_000)],
            [published("v2", "o-7", 2, 10), published("v1", "o-7", 1, 11)],
            topic="src",
        )
        (finding,) = verdict.findings
        assert (finding.anomaly, finding.unit, finding.event_ids) == (
            AUTOMATION_REORDERED,
            "o-7",
            ("v1", "v2"),
        )
        assert (
            finding.detail == "v1 answered before v2 arrived, published after it (offsets 11 > 10)"
        )

    def test_calls_in_flight_together_had_no_order(self) -> None:
        """v2 arrived before v1 was answered: either order is correct."""
        verdict = judge_handoff(
            [call("v1", 1_000, took_ms=50), call("v2", 1_020)],
            [published("v2", "o-7", 2, 10), published("v1", "o-7", 1, 11)],
            topic="src",
        )
        assert verdict.findings == ()

    def test_body_hashes_cannot_be_joined(self) -> None:
        """Without an id header the proxy's ids are hashes: counted apart, never a loss."""
        verdict = judge_handoff([call("sha256:0123456789abcdef", 1_000)], [], topic="src")
        assert (verdict.accepted, verdict.unjoinable, verdict.findings) == (0, 1, ())


def tried(delay_ms: int, replayed: int, twice: int) -> Tried:
    ids = tuple(f"e{delay_ms}-{i}" for i in range(replayed))
    return Tried(delay_ms, ids, ids[:twice])


class TestHorizonSearch:
    def test_the_first_ladder_doubles(self) -> None:
        """0.25 s doubling up to 8 s, the longest included."""
        assert first_ladder(250, 8_000) == [250, 500, 1_000, 2_000, 4_000, 8_000]
        assert first_ladder(250, 6_000) == [250, 500, 1_000, 2_000, 4_000, 6_000]

    def test_the_bracket_and_the_next_ladder(self) -> None:
        """Held to 1 s, failed from 2 s: four points split (1 s, 2 s) evenly."""
        found = bracket(
            [tried(500, 3, 0), tried(1_000, 3, 0), tried(2_000, 3, 1), tried(4_000, 3, 3)]
        )
        assert (found.held_ms, found.failed_ms) == (1_000, 2_000)
        assert found.sentence() == ("duplicates are recognised up to ≥ 1 s, applied twice from 2 s")
        assert next_ladder(found, 4, 250, 250) == [1_200, 1_400, 1_600, 1_800]
        narrow = bracket([tried(1_800, 1, 0), tried(2_000, 1, 1)])
        assert next_ladder(narrow, 4, 250, 250) == []

    def test_an_untested_delay_decides_nothing(self) -> None:
        """No event was replayed at 2 s: the bracket stays (1 s, 4 s)."""
        found = bracket([tried(1_000, 2, 0), tried(2_000, 0, 0), tried(4_000, 2, 1)])
        assert (found.held_ms, found.failed_ms) == (1_000, 4_000)

    def test_open_brackets_stop_the_search(self) -> None:
        """Nothing failed, or the shortest delay failed already: no further round helps."""
        nothing_failed = bracket([tried(250, 1, 0), tried(8_000, 1, 0)])
        assert nothing_failed.sentence().startswith("duplicates are recognised up to ≥ 8 s")
        assert next_ladder(nothing_failed, 4, 250, 250) == []
        all_failed = bracket([tried(250, 1, 1)])
        assert next_ladder(all_failed, 4, 250, 250) == []
        assert Bracket(None, 250).sentence().startswith("duplicates are applied twice from 0.25 s")

    def test_a_hold_above_a_failure_is_named(self) -> None:
        """Held at 4 s after failing at 2 s: not a clean window, kept apart."""
        found = bracket([tried(1_000, 1, 0), tried(2_000, 1, 1), tried(4_000, 1, 0)])
        assert (found.held_ms, found.failed_ms, found.inconsistent) == (1_000, 2_000, (4_000,))

    def test_outcomes_from_replays_and_effects(self) -> None:
        """A replayed event with two effects was applied twice; one effect, recognised."""
        outcomes = outcomes_of({500: ["a", "b"], 2_000: ["c"]}, {"a": 1, "b": 1, "c": 2})
        assert [(t.delay_ms, t.outcome, t.applied_twice) for t in outcomes] == [
            (500, "held", ()),
            (2_000, "failed", ("c",)),
        ]


class TestRemedies:
    def test_every_anomaly_has_advice(self) -> None:
        """Service, retry and automation anomalies alike: an explanation and a change."""
        for name in (*ANOMALY_NAMES, *RETRY_ANOMALIES, *AUTOMATION_ANOMALIES):
            advice = REMEDIES[name]
            assert advice.explanation.endswith("."), name
            assert advice.service, name
            assert "any" in advice.automation, name

    def test_platform_advice_names_known_platforms(self) -> None:
        """Per-platform advice is keyed by the profiles' names (plus `any`)."""
        known = {*profiles(), "any"}
        for name, advice in REMEDIES.items():
            assert set(advice.automation) <= known, name

    def test_the_platform_advice_wins(self) -> None:
        """n8n gets its own advice for unpublished events; an unknown platform the general."""
        advice = REMEDIES[UNPUBLISHED_EVENT]
        assert "Respond to Webhook" in (advice.for_platform("n8n") or "")
        assert advice.for_platform("ifttt") == advice.automation["any"]
