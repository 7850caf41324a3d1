"""The pure parts of exactly-once mode: parked records, their rebuild, a transaction's plan."""

from __future__ import annotations

from dataclasses import dataclass

from chaosbus.contracts.ledger_record import LedgerRecord, decode_ledger, encode_record
from chaosbus.injectors.envelope import Emission, Envelope, SourceCoordinates
from chaosbus.streams.exactly_once.parked import ParkedSource, parked_key, rebuild, source_of_key
from chaosbus.streams.exactly_once.work import PartitionWork
from chaosbus.streams.ledger import LedgerBook


def envelope(offset: int, partition: int = 0) -> Envelope:
    return Envelope(
        key=b"k\x00\xff",
        value=b'{"seq": 1}',
        headers=(("h", b"\x01\x02"),),
        timestamp_ms=1_000,
        source=SourceCoordinates("orders.src", partition, offset),
    )


@dataclass(frozen=True)
class FakeDecision:
    source: SourceCoordinates
    fault: str
    emissions: tuple[Emission, ...]
    held: int = 0
    reason: str | None = None
    fault_name: str | None = None


def parked(offset: int, partition: int = 0) -> ParkedSource:
    work = PartitionWork({}, now_ms=100)
    env = envelope(offset, partition)
    work.decide(env, FakeDecision(env.source, "delay", (Emission(env, 0, 5_000, 4_900),)), "e")
    return work.drafts[env.source]


class TestParkedRecord:
    def test_round_trips_bytes_for_bytes(self) -> None:
        record = parked(7)
        again = ParkedSource.from_bytes(record.to_bytes())
        assert again == record
        assert again.envelope() == envelope(7)
        assert again.emission(again.parked[0]) == Emission(envelope(7), 0, 5_000, 4_900)

    def test_key_names_the_source(self) -> None:
        source = SourceCoordinates("a.b-c", 3, 42)
        assert source_of_key(parked_key(source)) == source

    def test_copies_left_inside_a_dead_plan_are_released_at_once(self) -> None:
        record = parked(1).model_copy(update={"expected": 3, "in_plan": 2})
        orphaned = record.orphaned_plan_copies(now_ms=9)
        assert orphaned.in_plan == 0
        assert [(c.copy_number, c.release_at_ms) for c in orphaned.parked] == [
            (0, 5_000),
            (1, 9),
            (2, 9),
        ]


class TestRebuild:
    def test_latest_value_per_key_and_no_tombstones(self) -> None:
        first, second, third = parked(1), parked(2), parked(3)
        later = second.model_copy(update={"in_plan": 1})
        log = [
            (parked_key(first.source), first.to_bytes()),
            (parked_key(second.source), second.to_bytes()),
            (parked_key(third.source), third.to_bytes()),
            (parked_key(first.source), None),
            (parked_key(second.source), later.to_bytes()),
        ]
        assert rebuild(log) == {second.source: later, third.source: third}

    def test_only_the_owned_partitions(self) -> None:
        mine, other = parked(1, partition=0), parked(1, partition=1)
        log = [(parked_key(r.source), r.to_bytes()) for r in (mine, other)]
        assert rebuild(log, {("orders.src", 0)}) == {mine.source: mine}


class TestPartitionWork:
    def test_due_copy_sent_later_copy_parked_ledger_waits_for_the_last(self) -> None:
        env = envelope(5)
        work = PartitionWork({}, now_ms=100)
        copies = (Emission(env, 0, 100), Emission(env, 1, 700, 600))
        work.decide(env, FakeDecision(env.source, "duplicate", copies), "e")
        assert work.to_send == [copies[0]]
        work.sent(copies[0], partition=0, offset=10)
        assert work.ledger_records(run_id="r", route="a->b") == []
        assert [key for key, _ in work.parked_writes()] == [parked_key(env.source)]
        assert work.next_offset == 6

        committed: dict[SourceCoordinates, ParkedSource] = {}
        work.apply_to(committed)
        later = PartitionWork(committed, now_ms=700)
        assert later.release(env.source, 1)
        later.sent(later.to_send[0], partition=0, offset=11)
        [completed] = later.ledger_records(run_id="r", route="a->b")
        record = LedgerRecord.from_bytes(completed.payload)
        assert [(e.copy_number, e.offset) for e in record.emissions] == [(0, 10), (1, 11)]
        assert later.parked_writes() == [(parked_key(env.source), None)]
        later.apply_to(committed)
        assert committed == {}

    def test_a_parked_replay_keeps_its_variant_into_the_ledger(self) -> None:
        """A replay parked until its time (and across a restart) is ledgered as `replay`."""
        env = envelope(6)
        work = PartitionWork({}, now_ms=100)
        copies = (Emission(env, 0, 100), Emission(env, 1, 2_100, 2_000, "replay"))
        work.decide(env, FakeDecision(env.source, "replay", copies), "e")
        work.sent(copies[0], partition=0, offset=20)
        committed: dict[SourceCoordinates, ParkedSource] = {}
        work.apply_to(committed)
        restored = {k: ParkedSource.from_bytes(v.to_bytes()) for k, v in committed.items()}
        later = PartitionWork(restored, now_ms=2_100)
        assert later.release(env.source, 1)
        later.sent(later.to_send[0], partition=0, offset=21)
        [completed] = later.ledger_records(run_id="r", route="a->b")
        record = LedgerRecord.from_bytes(completed.payload)
        assert [(e.copy_number, e.variant) for e in record.emissions] == [(0, None), (1, "replay")]

    def test_a_transaction_s_passes_are_one_compact_record(self) -> None:
        """Passes of offsets 10-13 sent at 40-43, then a duplicate: a run record covering
        four sources beside the duplicate's own, decoding to what each would say alone."""
        work = PartitionWork({}, now_ms=100)
        envelopes = [envelope(offset) for offset in range(10, 15)]
        for env in envelopes[:4]:
            work.decide(env, FakeDecision(env.source, "pass", (Emission(env, 0, 100),)), "e")
        last = envelopes[4]
        copies = (Emission(last, 0, 100), Emission(last, 1, 100))
        work.decide(last, FakeDecision(last.source, "duplicate", copies), "e")
        for at, emission in enumerate(work.to_send, 40):
            work.sent(emission, partition=0, offset=at)
        run, duplicate = work.ledger_records(run_id="r", route="a->b")
        assert run.sources == tuple(env.source for env in envelopes[:4])
        assert (duplicate.sources, run.key, duplicate.key) == ((last.source,), b"a->b/0", b"a->b/0")
        alone = [
            encode_record(
                run_id="r",
                route="a->b",
                topic="orders.src",
                partition=0,
                offset=env.source.offset,
                event_id="e",
                key=env.key,
                fault="pass",
                reason=None,
                emissions=[(0, 0, 0, 30 + env.source.offset, 100, None)],
                decided_at_ms=100,
                completed_at_ms=100,
                source_timestamp_ms=1_000,
            )
            for env in envelopes[:4]
        ]
        assert decode_ledger(run.payload) == [LedgerRecord.from_bytes(a) for a in alone]
        [record] = decode_ledger(duplicate.payload)
        assert [e.offset for e in record.emissions] == [44, 45]

    def test_a_copy_from_the_plan_nobody_waits_for_is_stale(self) -> None:
        work = PartitionWork({}, now_ms=100)
        work.plan_released(Emission(envelope(1), 0, 100))
        assert (work.to_send, work.stale) == ([], 1)

    def test_release_all_sends_future_copies_now(self) -> None:
        env = envelope(2)
        work = PartitionWork({}, now_ms=100, release_all=True)
        work.decide(env, FakeDecision(env.source, "delay", (Emission(env, 0, 9_000, 8_900),)), "e")
        assert len(work.to_send) == 1
        assert not work.newly_parked

    def test_a_dead_lettered_copy_completes_the_message_as_undeliverable(self) -> None:
        """A copy too large for the destination goes to the dead-letter topic: the message
        completes, ledgered `undeliverable` with why and what had been decided."""
        env = envelope(3)
        work = PartitionWork({}, now_ms=100)
        copy = Emission(env, 0, 100)
        work.decide(env, FakeDecision(env.source, "pass", (copy,)), "e")
        work.undelivered(copy, "MESSAGE_TOO_LARGE: 20,096 bytes over 2,000")
        [completed] = work.ledger_records(run_id="r", route="a->b")
        record = LedgerRecord.from_bytes(completed.payload)
        assert (record.fault, record.reason, record.emissions, work.undelivered_count) == (
            "undeliverable",
            "MESSAGE_TOO_LARGE: 20,096 bytes over 2,000; decided pass",
            (),
            1,
        )
        assert work.parked_writes() == []

    def test_a_salt_writes_pseudonyms_as_at_least_once_does(self) -> None:
        """privacy: hashed: the exactly-once ledger record of a pass is the at-least-once
        ledger book's, pseudonyms included, and never names the event id in clear."""
        env = envelope(4)
        work = PartitionWork({}, now_ms=100)
        copy = Emission(env, 0, 100)
        work.decide(env, FakeDecision(env.source, "pass", (copy,)), "order-7")
        work.sent(copy, partition=0, offset=1)
        [completed] = work.ledger_records(run_id="r", route="a->b", salt=b"salt")
        book = LedgerBook(run_id="r", route="a->b", salt=b"salt")
        book.open(
            env.source,
            key=env.key,
            event_id="order-7",
            fault="pass",
            reason=None,
            expected=1,
            now_ms=100,
            source_timestamp_ms=env.timestamp_ms,
        )
        book.sent(env.source, copy_number=0, planned_delay_ms=0, partition=0, offset=1, now_ms=100)
        [expected] = book.take_completed()
        assert decode_ledger(completed.payload) == decode_ledger(expected.payload)
        assert b"order-7" not in completed.payload
