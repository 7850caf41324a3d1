"""A check's `where`: the events it judges, when every event of the stream carries the field.

The case of issue 20: orders are created, updated and paid, every event carries `amount`,
and only `status: paid` adds to the paid total. Without `where` the counter expects the sum
of all three and calls a correct service `lost_event`; with it, a correct service is clean
and a service that counts a duplicated payment twice is `duplicate_effect`, its cause
speaking of amounts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chaosbus.experiment.monitor import CheckSpec
from chaosbus.injectors.envelope import Envelope, SourceCoordinates
from chaosbus.monitors import (
    ExtractorConfig,
    History,
    JsonField,
    MonitorConfig,
    MonitorReport,
    Observation,
    check,
    compile_extractors,
)
from chaosbus.monitors.extractors import Where
from chaosbus.monitors.testing import ledger_record

EXTRACT = ExtractorConfig.model_validate(
    {
        "event_id": {"json": "$.event_id"},
        "entity": {"json": "$.order_id"},
        "version": {"json": "$.version"},
        "amount": {"json": "$.amount"},
    }
)
PAID = {"path": "$.status", "equals": "paid"}
# Every order's amount in cents; each is created, updated, then paid.
AMOUNTS = {"o1": 1200, "o2": 3673, "o3": 990, "o4": 15000}
CUSTOMERS = {"o1": "c1", "o2": "c1", "o3": "c2", "o4": "c3"}
BY_CUSTOMER = EXTRACT.model_copy(
    update={"entity": JsonField.model_validate({"json": "$.customer"})}
)
STATUSES = ("created", "updated", "paid")
SETTLE_MS = 1_000


def envelopes() -> list[Envelope]:
    """The source: three events per order, every one with the order's amount."""
    out = []
    for offset, (order, status) in enumerate(
        (order, status) for order in AMOUNTS for status in STATUSES
    ):
        value = {
            "event_id": f"{order}-{status}",
            "order_id": order,
            "customer": CUSTOMERS[order],
            "version": STATUSES.index(status) + 1,
            "status": status,
            "amount": AMOUNTS[order],
        }
        out.append(
            Envelope(
                key=order.encode(),
                value=json.dumps(value).encode(),
                headers=(),
                timestamp_ms=1_000 + 10 * offset,
                source=SourceCoordinates("orders", 0, offset),
            )
        )
    return out


def judge(
    where: Where | None, totals: dict[str, int], extract: ExtractorConfig = EXTRACT
) -> MonitorReport:
    """Judge the service's `totals` (read after settling) with the check's `where`.

    The interposer duplicated every payment; the ledger records every message, selected or
    not, as it does in a run."""
    everything = compile_extractors(EXTRACT)
    ledger = []
    for envelope in envelopes():
        event = everything(envelope)
        assert event is not None
        paid = event.event_id.endswith("-paid")
        ledger.append(ledger_record(event, fault="duplicate" if paid else "pass"))
    extractor = compile_extractors(extract, where)
    sources = [e for e in map(extractor, envelopes()) if e is not None]
    observations = tuple(Observation(order, 60_000, total) for order, total in totals.items())
    return check(
        History(tuple(sources), tuple(ledger), (), observations),
        MonitorConfig(source_topic="orders", model="counter", settle_ms=SETTLE_MS),
        unparsable=dict(extractor.unparsable),
        outside_where=extractor.outside_where,
        without_amount=extractor.without_amount,
    )


def where(data: Any) -> Where | None:
    return CheckSpec.model_validate(
        {"name": "paid", "model": "counter", "where": data, "probe": {"key": "t:{entity}"}}
    ).where


CORRECT = dict(AMOUNTS)
NAIVE = {order: 2 * amount for order, amount in AMOUNTS.items()}


class TestEveryEventCarriesAmount:
    def test_without_where_a_correct_service_reads_as_lost(self) -> None:
        """The false alarm of issue 20: every event's amount is summed, 3x the paid one."""
        report = judge(None, CORRECT)
        assert report.anomalies.counts["lost_event"] == 4
        assert report.anomalies.total == 4

    def test_with_where_a_correct_service_is_clean(self) -> None:
        """Only payments add: the correct service's totals are exactly the expected ones."""
        report = judge(where(PAID), CORRECT)
        assert report.anomalies.total == 0
        assert report.coverage.events == 4
        assert report.coverage.judged_events == 4
        assert report.coverage.judged_share == 1.0
        assert report.coverage.outside_where == 8
        assert report.coverage.unparsable == {}
        assert report.coverage.notes() == [
            "8 source messages outside `where`: not this check's events, neither judged nor "
            "in its share"
        ]

    def test_with_where_a_naive_service_double_counts(self) -> None:
        """A service that applies the duplicated payment twice is `duplicate_effect` on
        every order, no longer hidden behind a false `lost_event`."""
        report = judge(where(PAID), NAIVE)
        assert report.anomalies.counts["duplicate_effect"] == 4
        assert report.anomalies.counts["lost_event"] == 0
        assert report.anomalies.total == 4

    def test_the_cause_speaks_of_amounts(self) -> None:
        """3673 cents counted twice reads as an amount, never "applied it 7346 times"."""
        report = judge(where(PAID), NAIVE)
        examples = {e.unit: e for e in report.anomalies.examples["duplicate_effect"]}
        cause = examples["o2"].cause
        assert cause is not None
        assert cause.mechanism == (
            "event o2-paid delivered 2 times (fault `faults[0]`, copy 1); "
            "the counter shows 7346 where 3673 was expected: amount 3673 counted 2 times"
        )

    def test_several_copied_payments_are_named_with_their_sum(self) -> None:
        """A customer's two duplicated payments: no one amount explains the surplus, so
        the cause names both and says their extra copies add up to it."""
        naive = {"c1": 2 * (1200 + 3673), "c2": 2 * 990, "c3": 2 * 15000}
        report = judge(where(PAID), naive, BY_CUSTOMER)
        assert report.anomalies.counts["duplicate_effect"] == 3
        examples = {e.unit: e for e in report.anomalies.examples["duplicate_effect"]}
        assert examples["c1"].event_ids == ("o1-paid", "o2-paid")
        cause = examples["c1"].cause
        assert cause is not None
        assert cause.faulted
        assert cause.mechanism == (
            "event o1-paid and event o2-paid delivered more than once (fault `faults[0]`); "
            "the counter shows 9746 where 4873 was expected: "
            "the amounts of their extra copies (4873) counted"
        )

    def test_a_list_is_every_condition(self) -> None:
        """`where` as a list: each condition must hold (paid, and order o2)."""
        o2 = where([PAID, {"path": "$.order_id", "equals": "o2"}])
        report = judge(o2, {"o2": AMOUNTS["o2"]})
        assert report.coverage.events == 1
        assert report.coverage.outside_where == 11
        assert report.anomalies.total == 0

    def test_exists_false_holds_where_the_field_is_absent(self) -> None:
        """No event lacks `status`, so `exists: false` leaves every event out."""
        report = judge(where({"path": "$.status", "exists": False}), {})
        assert report.coverage.events == 0
        assert report.coverage.outside_where == 12


class TestMissingFields:
    def envelope(self, value: Any, offset: int = 0) -> Envelope:
        return Envelope(
            key=b"o1",
            value=json.dumps(value).encode(),
            headers=(),
            timestamp_ms=1_000,
            source=SourceCoordinates("orders", 0, offset),
        )

    def test_absent_where_field_is_outside_not_unparsable(self) -> None:
        """An event without the selected field is not the check's: not a parse failure,
        and its missing event id is not read at all."""
        extractor = compile_extractors(EXTRACT, where(PAID))
        assert extractor(self.envelope({"order_id": "o1"})) is None
        assert extractor.outside_where == 1
        assert extractor.unparsable == {}

    def test_absent_amount_is_judged_as_nothing(self) -> None:
        """A selected event without an amount adds nothing and is counted as such."""
        extractor = compile_extractors(EXTRACT, where(PAID))
        event = extractor(
            self.envelope({"event_id": "e", "order_id": "o1", "version": 1, "status": "paid"})
        )
        assert event is not None
        assert event.amount is None
        assert extractor.without_amount == 1

    def test_unreadable_amount_is_unparsable(self) -> None:
        """An amount that is there but not a number makes the message unparsable."""
        extractor = compile_extractors(EXTRACT, where(PAID))
        bad = {"event_id": "e", "order_id": "o1", "version": 1, "status": "paid", "amount": "x"}
        assert extractor(self.envelope(bad)) is None
        assert extractor.unparsable == {"amount": 1}

    def test_non_json_payload_is_unparsable(self) -> None:
        """`where` cannot be judged on a payload that is not JSON: unparsable, as a
        fault's `match.json` reports such messages as non-JSON."""
        extractor = compile_extractors(ExtractorConfig(), where(PAID))
        raw = Envelope(b"o1", b"\xff not json", (), 1_000, SourceCoordinates("orders", 0, 0))
        assert extractor(raw) is None
        assert extractor.unparsable == {"payload": 1}

    def test_json_equality_is_strict_about_booleans(self) -> None:
        """`equals: 1` does not select `true`: the same JSON equality as `match.json`."""
        extractor = compile_extractors(ExtractorConfig(), where({"path": "$.n", "equals": 1}))
        assert extractor(self.envelope({"n": True})) is None
        assert extractor(self.envelope({"n": 1.0}, offset=1)) is not None


class TestTombstones:
    def tombstone(self) -> Envelope:
        return Envelope(b"o1", None, (), 1_000, SourceCoordinates("orders", 0, 0))

    def test_selected_when_deletes_are_tombstones(self) -> None:
        """A tombstone has no payload: it is the check's when its deletes are tombstones."""
        extractor = compile_extractors(ExtractorConfig(delete="tombstone"), where(PAID))
        event = extractor(self.tombstone())
        assert event is not None
        assert event.is_delete

    def test_outside_otherwise(self) -> None:
        """Without tombstone deletes, a tombstone has nothing `where` could select."""
        extractor = compile_extractors(ExtractorConfig(), where(PAID))
        assert extractor(self.tombstone()) is None
        assert extractor.outside_where == 1


class TestDeclaration:
    def test_operators_are_those_of_match(self) -> None:
        """`where` takes exactly one of `equals` and `exists`, as `match.json` does."""
        with pytest.raises(ValidationError, match="needs exactly one of equals, exists"):
            where({"path": "$.status"})
        with pytest.raises(ValidationError, match="needs exactly one of equals, exists"):
            where({"path": "$.status", "equals": "paid", "exists": True})

    def test_path_is_rooted(self) -> None:
        """The path is written as the extractors' paths are: `$.` then dotted keys."""
        with pytest.raises(ValidationError, match=r"starts with '\$\.'"):
            where({"path": "status", "equals": "paid"})

    def test_an_empty_list_is_refused(self) -> None:
        """`where: []` would select nothing or everything: neither is what was meant."""
        with pytest.raises(ValidationError):
            where([])

    def test_a_dumped_check_validates_again(self) -> None:
        """Only the given operator is dumped, so a spec round-trips through its JSON."""
        spec = CheckSpec.model_validate(
            {"name": "paid", "model": "counter", "where": PAID, "probe": {"key": "t:{entity}"}}
        )
        dumped = spec.model_dump(mode="json", by_alias=True)
        assert dumped["where"] == PAID
        assert CheckSpec.model_validate(dumped) == spec

    def test_delete_takes_the_same_form(self) -> None:
        """A JSON delete marker is the same condition: `exists` works there too."""
        config = ExtractorConfig.model_validate(
            {"delete": {"path": "$.deleted_at", "exists": True}}
        )
        extractor = compile_extractors(config)
        gone = Envelope(b"o1", b'{"deleted_at": 5}', (), 1_000, SourceCoordinates("o", 0, 0))
        event = extractor(gone)
        assert event is not None
        assert event.is_delete
