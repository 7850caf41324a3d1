"""When replayed records are due, and the fresh ids every lap gets."""

from __future__ import annotations

import json
import math

import pytest

from chaosbus.traffic.pacing import IdShifter, Pace, Schedule, parse_rate, parse_speed
from chaosbus.traffic.records import TrafficRecord
from chaosbus.traffic.selectors import parse_selectors


def at(*stamps: int) -> list[TrafficRecord]:
    return [TrafficRecord(b"k", b"{}", (), ms) for ms in stamps]


def dues(pace: Pace, records: list[TrafficRecord]) -> list[float]:
    schedule = Schedule(pace)
    return [round(schedule.due(r), 6) for r in records]


class TestSchedule:
    def test_x1_keeps_the_recorded_gaps(self) -> None:
        """Due times are the timestamps' offsets from the first, in seconds."""
        assert dues(Pace(speed=1), at(1_000, 1_010, 1_250, 3_000)) == [0, 0.01, 0.25, 2.0]

    def test_x10_divides_every_gap(self) -> None:
        """Ten times faster: every offset a tenth."""
        assert dues(Pace(speed=10), at(1_000, 1_010, 1_250, 3_000)) == [0, 0.001, 0.025, 0.2]

    def test_a_timestamp_going_back_is_sent_at_once_in_file_order(self) -> None:
        """A record stamped before the one ahead of it is due with it, never before it."""
        assert dues(Pace(speed=1), at(1_000, 2_000, 1_500, 2_500)) == [0, 1.0, 1.0, 1.5]

    def test_a_rate_ignores_the_timestamps(self) -> None:
        """--rate 4/s: a quarter of a second apart."""
        assert dues(Pace(speed=None, rate=4), at(5, 9_000, 0)) == [0, 0.25, 0.5]

    def test_max_sends_everything_at_once(self) -> None:
        """--speed max: every record due at the start."""
        assert dues(Pace(speed=math.inf), at(1, 2_000, 9_000)) == [0, 0, 0]

    def test_a_second_lap_starts_one_mean_gap_after_the_first(self) -> None:
        """Laps of 0, 1, 2 s with a mean gap of 1 s: the second lap starts at 3 s."""
        schedule = Schedule(Pace(speed=1))
        first = [schedule.due(r) for r in at(0, 1_000, 2_000)]
        schedule.next_lap()
        second = [schedule.due(r) for r in at(0, 1_000, 2_000)]
        assert (first, second) == ([0, 1, 2], [3, 4, 5])


class TestParsing:
    @pytest.mark.parametrize(
        ("text", "factor"), [("x1", 1), ("x10", 10), ("0.5", 0.5), ("X2", 2), ("max", math.inf)]
    )
    def test_speeds(self, text: str, factor: float) -> None:
        """x1, x10, 0.5, max."""
        assert parse_speed(text) == factor

    @pytest.mark.parametrize("text", ["x0", "fast", "-1", "x"])
    def test_bad_speeds_are_refused(self, text: str) -> None:
        """A speed that is not a positive factor nor max is one line."""
        with pytest.raises(ValueError, match="--speed"):
            parse_speed(text)

    def test_rates(self) -> None:
        """500/s and 500 are the same rate; 0/s is refused."""
        assert parse_rate("500/s") == parse_rate("500") == 500
        with pytest.raises(ValueError, match="--rate"):
            parse_rate("0/s")


class TestShiftIds:
    def record(self, order: str, event: str) -> TrafficRecord:
        value = json.dumps({"order_id": order, "event_id": event, "total": 5}).encode()
        return TrafficRecord(order.encode(), value, (("event-id", event.encode()),), 0)

    def test_a_lap_renames_every_id_consistently(self) -> None:
        """Within a lap the key and $.order_id stay equal; nothing else changes."""
        fields = parse_selectors(["key,$.order_id,$.event_id,header:event-id"])
        shift = IdShifter(fields, seed=b"s")
        out = shift.apply(self.record("o-1", "e-1"))
        doc = json.loads(out.value or b"")
        assert out.key is not None
        assert out.key.decode() == doc["order_id"] != "o-1"
        assert dict(out.headers)["event-id"] == doc["event_id"].encode()
        assert doc["total"] == 5

    def test_every_lap_and_every_replay_gets_new_ids(self) -> None:
        """Lap 2 differs from lap 1, and a replay with another seed from both."""
        fields = parse_selectors(["key"])
        shift = IdShifter(fields, seed=b"s")
        first = shift.apply(self.record("o-1", "e")).key
        shift.next_lap()
        second = shift.apply(self.record("o-1", "e")).key
        other = IdShifter(fields, seed=b"t").apply(self.record("o-1", "e")).key
        assert len({first, second, other, b"o-1"}) == 4

    def test_without_fields_it_is_refused(self) -> None:
        """--shift-ids needs to know which fields are ids."""
        with pytest.raises(ValueError, match="--id-fields"):
            IdShifter(())
