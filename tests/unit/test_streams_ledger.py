"""The ledger book and the fast ledger encoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaosbus.contracts.ledger_record import (
    LedgerEmission,
    LedgerRecord,
    decode_ledger,
    encode_key,
    encode_pass_run,
    encode_record,
)
from chaosbus.injectors.envelope import SourceCoordinates
from chaosbus.streams.ledger import RUN_MAX_BYTES, LedgerBook, pseudonym
from chaosbus.streams.telemetry import trace_id_of

SOURCE = SourceCoordinates("orders.nocode", 2, 41)

emission_tuples = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, 10**6),
        st.integers(0, 9),
        st.integers(0, 10**9),
        st.integers(0, 2**45),
        st.one_of(st.none(), st.sampled_from(["replay", "corrupt:flip", 'schema_drift:é:"x'])),
    ),
    max_size=4,
    unique_by=lambda e: e[0],
)


class TestEncoding:
    @given(
        key=st.one_of(st.none(), st.binary(max_size=20)),
        fault=st.sampled_from(["pass", "duplicate", "delay", "reorder", "drop"]),
        reason=st.one_of(st.none(), st.sampled_from(["non_json", "max_faults", "disabled"])),
        event_id=st.text(max_size=20),
        emissions=emission_tuples,
        fault_name=st.one_of(st.none(), st.text(max_size=12)),
        trace_id=st.one_of(st.none(), st.sampled_from(["0af7651916cd43dd8448eb211c80319c"])),
    )
    def test_fast_encoding_is_byte_identical_to_the_model(
        self,
        key: bytes | None,
        fault: str,
        reason: str | None,
        event_id: str,
        emissions: list[tuple[int, int, int, int, int, str | None]],
        fault_name: str | None,
        trace_id: str | None,
    ) -> None:
        """encode_record writes exactly what LedgerRecord.to_bytes() writes, and it reads back."""
        fields = {
            "run_id": "r1",
            "route": "a->b",
            "topic": "a",
            "partition": 1,
            "offset": 7,
            "event_id": event_id,
            "fault": fault,
            "reason": reason,
            "decided_at_ms": 10,
            "completed_at_ms": 20,
            "fault_name": fault_name,
            "source_timestamp_ms": 3,
            "trace_id": trace_id,
        }
        fast = encode_record(key=key, emissions=list(emissions), **fields)  # type: ignore[arg-type]
        model = LedgerRecord(
            key_b64=encode_key(key),
            emissions=tuple(
                LedgerEmission(
                    copy_number=c,
                    planned_delay_ms=d,
                    partition=p,
                    offset=o,
                    sent_at_ms=t,
                    variant=v,
                )
                for c, d, p, o, t, v in sorted(emissions, key=lambda e: e[0])
            ),
            **fields,  # type: ignore[arg-type]
        )
        assert fast == model.to_bytes()
        assert LedgerRecord.from_bytes(fast) == model

    def test_a_record_written_before_the_optional_fields_still_reads(self) -> None:
        """Schema-1 records without fault_name, source_timestamp_ms and trace_id parse as None."""
        old = (
            b'{"v":1,"run_id":"r","route":"a->b","topic":"a","partition":0,"offset":1,'
            b'"event_id":"e","key_b64":null,"fault":"delay","reason":null,'
            b'"emissions":[{"copy_number":0,"planned_delay_ms":900,"partition":0,'
            b'"offset":4,"sent_at_ms":1950}],"decided_at_ms":1000,"completed_at_ms":1960}'
        )
        record = LedgerRecord.from_bytes(old)
        assert (record.fault_name, record.source_timestamp_ms, record.trace_id) == (None,) * 3
        assert record.actual_delay_ms(record.emissions[0]) is None

    def test_actual_delay_is_produce_time_minus_source_timestamp(self) -> None:
        """An emission sent at 1950 ms of a message stamped 900 ms was delayed 1050 ms."""
        emission = LedgerEmission(copy_number=0, planned_delay_ms=900, sent_at_ms=1950)
        record = LedgerRecord(
            run_id="r",
            route="a->b",
            topic="a",
            partition=0,
            offset=1,
            event_id="e",
            key_b64=None,
            fault="delay",
            emissions=(emission,),
            decided_at_ms=1000,
            completed_at_ms=1960,
            source_timestamp_ms=900,
        )
        assert record.actual_delay_ms(emission) == 1050


class TestTraceId:
    def test_reads_the_trace_id_of_a_traceparent(self) -> None:
        """The second field of a W3C traceparent is the trace id; an all-zero one is none."""
        good = (("traceparent", b"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"),)
        zero = (("traceparent", b"00-" + b"0" * 32 + b"-b7ad6b7169203331-01"),)
        assert trace_id_of(good) == "0af7651916cd43dd8448eb211c80319c"
        assert (trace_id_of(zero), trace_id_of((("x", b"y"),))) == (None, None)

    def test_a_record_written_before_variants_still_reads(self) -> None:
        """An emission without `variant` (an older record) reads as a byte-identical copy."""
        old = (
            b'{"v":1,"run_id":"r","route":"a->b","topic":"a","partition":0,"offset":3,'
            b'"event_id":"e","key_b64":null,"fault":"pass","reason":null,"emissions":'
            b'[{"copy_number":0,"planned_delay_ms":0,"partition":0,"offset":9,"sent_at_ms":5}],'
            b'"decided_at_ms":4,"completed_at_ms":5}'
        )
        assert LedgerRecord.from_bytes(old).emissions[0].variant is None


class TestLedgerBook:
    def test_drop_completes_at_once(self) -> None:
        """A decision with no emission is a complete record with no emissions, taken once."""
        book = LedgerBook(run_id="r", route="a->b")
        book.open(SOURCE, key=b"k", event_id="e", fault="drop", reason=None, expected=0, now_ms=5)
        [done] = book.take_completed()
        [record] = decode_ledger(done.payload)
        assert (record.fault, record.emissions, record.dropped) == ("drop", (), True)
        assert (done.sources, done.key) == ((SOURCE,), b"a->b/2")
        assert (len(book), book.take_completed()) == (0, [])

    def test_completes_after_the_last_copy_in_copy_order(self) -> None:
        """A duplicate's record is written only when every copy is acknowledged."""
        book = LedgerBook(run_id="r", route="a->b")
        book.open(
            SOURCE, key=None, event_id="e", fault="duplicate", reason=None, expected=2, now_ms=1
        )
        book.sent(SOURCE, copy_number=1, planned_delay_ms=30, partition=0, offset=9, now_ms=40)
        assert book.take_completed() == []
        book.sent(SOURCE, copy_number=0, planned_delay_ms=0, partition=0, offset=8, now_ms=41)
        [done] = book.take_completed()
        [record] = decode_ledger(done.payload)
        assert [(e.copy_number, e.offset) for e in record.emissions] == [(0, 8), (1, 9)]
        assert (record.decided_at_ms, record.completed_at_ms, record.key) == (1, 41, None)

    def test_consecutive_passes_are_one_record_naming_every_source(self) -> None:
        """500 passes of offsets 100-599 sent at 7000-7499 make one record covering all 500."""
        book = LedgerBook(run_id="r", route="a->b")
        sources = [SourceCoordinates("a", 2, 100 + i) for i in range(500)]
        for i, source in enumerate(sources):
            book.open(
                source, key=b"k", event_id=f"e{i}", fault="pass", reason=None, expected=1, now_ms=10
            )
        for i, source in enumerate(sources):
            book.sent(
                source, copy_number=0, planned_delay_ms=0, partition=2, offset=7000 + i, now_ms=12
            )
        [done] = book.take_completed()
        assert (done.sources, done.key) == (tuple(sources), b"a->b/2")
        records = decode_ledger(done.payload)
        assert [(r.offset, r.event_id, r.emissions[0].offset) for r in records] == [
            (100 + i, f"e{i}", 7000 + i) for i in range(500)
        ]

    def test_a_run_breaks_where_the_sequence_does(self) -> None:
        """A source gap, another destination partition, a destination gap or a fault ends a
        run; a lone pass is an ordinary record."""
        book = LedgerBook(run_id="r", route="a->b")
        # (source offset, fault, destination partition, destination offset)
        plan = [
            (0, "pass", 0, 10),
            (1, "pass", 0, 11),  # a run
            (3, "pass", 0, 12),
            (4, "pass", 0, 13),  # source gap: a new run
            (5, "pass", 1, 14),  # another destination partition: alone
            (6, "pass", 0, 16),
            (7, "pass", 0, 18),  # destination gap: alone, alone
            (8, "duplicate", 0, 19),
            (9, "pass", 0, 20),
            (10, "pass", 0, 21),
        ]
        for offset, fault, partition, out in plan:
            source = SourceCoordinates("a", 0, offset)
            book.open(
                source,
                key=None,
                event_id=str(offset),
                fault=fault,
                reason=None,
                expected=1,
                now_ms=1,
            )
            book.sent(
                source, copy_number=0, planned_delay_ms=0, partition=partition, offset=out, now_ms=2
            )
        covered = [[s.offset for s in done.sources] for done in book.take_completed()]
        assert covered == [[0, 1], [3, 4], [5], [6], [7], [8], [9, 10]]

    def test_a_run_is_cut_before_it_gets_too_large(self) -> None:
        """Passes with 10 KiB keys fill a compact record to about RUN_MAX_BYTES, then start
        another one: no ledger message nears the broker's limit."""
        book = LedgerBook(run_id="r", route="a->b")
        for i in range(20):
            source = SourceCoordinates("a", 0, i)
            book.open(
                source,
                key=b"k" * 10_240,
                event_id="e",
                fault="pass",
                reason=None,
                expected=1,
                now_ms=1,
            )
            book.sent(source, copy_number=0, planned_delay_ms=0, partition=0, offset=i, now_ms=2)
        records = book.take_completed()
        assert [len(r.sources) for r in records] == [6, 6, 6, 2]
        assert max(len(r.payload) for r in records) < RUN_MAX_BYTES
        assert [r.offset for done in records for r in decode_ledger(done.payload)] == list(
            range(20)
        )

    @given(
        decisions=st.lists(
            st.tuples(
                st.integers(0, 1),  # source partition
                st.sampled_from(["pass", "pass", "pass", "duplicate", "drop"]),
                st.one_of(st.none(), st.binary(max_size=6)),  # key
                st.booleans(),  # event id from a header, else the coordinates
                st.one_of(st.none(), st.sampled_from(["non_json", "disabled"])),  # reason
                st.one_of(st.none(), st.just("0af7651916cd43dd8448eb211c80319c")),  # trace
                st.integers(0, 2),  # destination offsets skipped before this one
                st.integers(0, 3),  # milliseconds the ack takes
            ),
            max_size=60,
        ),
        salt=st.one_of(st.none(), st.just(b"salt")),
    )
    def test_compact_records_read_back_as_the_individual_records(
        self,
        decisions: list[tuple[int, str, bytes | None, bool, str | None, str | None, int, int]],
        salt: bytes | None,
    ) -> None:
        """Whatever the mix, the records taken decode, field for field and in each source
        partition's order, to what encode_record writes for each decision alone."""
        book = LedgerBook(run_id="r", route="a->b", salt=salt)
        offsets = [0, 0]
        out = [100, 100]
        expected: dict[int, list[LedgerRecord]] = {0: [], 1: []}
        for partition, fault, key, by_header, reason, trace, skip, took in decisions:
            source = SourceCoordinates("a", partition, offsets[partition])
            offsets[partition] += 1
            raw_id = f"id-{source.offset}" if by_header else f"a:{partition}:{source.offset}"
            copies = {"pass": 1, "duplicate": 2, "drop": 0}[fault]
            book.open(
                source,
                key=key,
                event_id=raw_id,
                fault=fault,
                reason=reason,
                expected=copies,
                now_ms=1_000,
                source_timestamp_ms=900 + source.offset,
                trace_id=trace,
            )
            sent = []
            for copy in range(copies):
                out[partition] += skip
                at = out[partition]
                out[partition] += 1
                book.sent(
                    source,
                    copy_number=copy,
                    planned_delay_ms=copy * 5,
                    partition=partition,
                    offset=at,
                    now_ms=1_000 + took,
                )
                sent.append((copy, copy * 5, partition, at, 1_000 + took, None))
            # The book pseudonymises with a salt; the expected record says so by hand.
            in_ledger = raw_id if salt is None else pseudonym(salt, raw_id.encode())
            ledger_key = key if salt is None or key is None else pseudonym(salt, key).encode()
            alone = encode_record(
                run_id="r",
                route="a->b",
                topic="a",
                partition=partition,
                offset=source.offset,
                event_id=in_ledger,
                key=ledger_key,
                fault=fault,
                reason=reason,
                emissions=sent,
                decided_at_ms=1_000,
                completed_at_ms=1_000 + took if copies else 1_000,
                source_timestamp_ms=900 + source.offset,
                trace_id=trace,
            )
            expected[partition].append(LedgerRecord.from_bytes(alone))
        taken = book.take_completed()
        got: dict[int, list[LedgerRecord]] = {0: [], 1: []}
        for done in taken:
            records = decode_ledger(done.payload)
            assert tuple(SourceCoordinates(r.topic, r.partition, r.offset) for r in records) == (
                done.sources
            )
            assert {done.key} == {f"a->b/{r.partition}".encode() for r in records}
            got[records[0].partition].extend(records)
        assert got == expected


class TestPassRun:
    @given(
        count=st.integers(1, 40),
        keys=st.lists(st.one_of(st.none(), st.binary(max_size=8)), min_size=40, max_size=40),
        ids=st.lists(
            st.sampled_from(["x", "", "t:3:7", "t:3:8", 'é"\\']), min_size=40, max_size=40
        ),
        times=st.lists(st.integers(5, 7), min_size=40, max_size=40),
        in_order=st.booleans(),
        reasons=st.lists(st.one_of(st.none(), st.just("max_faults")), min_size=40, max_size=40),
        trace=st.one_of(st.none(), st.text(max_size=8)),
        timestamps=st.lists(st.one_of(st.none(), st.integers(0, 2**45)), min_size=40, max_size=40),
    )
    def test_decodes_to_the_records_encode_record_writes(
        self,
        count: int,
        keys: list[bytes | None],
        ids: list[str],
        times: list[int],
        in_order: bool,
        reasons: list[str | None],
        trace: str | None,
        timestamps: list[int | None],
    ) -> None:
        """Entry i of a run is, field for field, encode_record's record of offset+i."""
        # Sorted send times come in runs of equal values (written as repeats), else mixed.
        sent = sorted(times[:count]) if in_order else times[:count]
        payload = encode_pass_run(
            run_id="r",
            route="t->u",
            topic="t",
            partition=3,
            offset=7,
            out_partition=1,
            out_offset=50,
            event_ids=ids[:count],
            keys=keys[:count],
            reasons=reasons[:count],
            fault_names=[None] * count,
            planned_delays_ms=[0] * count,
            variants=[None] * count,
            decided_at_ms=[4] * count,
            sent_at_ms=sent,
            completed_at_ms=sent,
            source_timestamps_ms=timestamps[:count],
            trace_ids=[trace] * count,
        )
        alone = [
            LedgerRecord.from_bytes(
                encode_record(
                    run_id="r",
                    route="t->u",
                    topic="t",
                    partition=3,
                    offset=7 + i,
                    event_id=ids[i],
                    key=keys[i],
                    fault="pass",
                    reason=reasons[i],
                    emissions=[(0, 0, 1, 50 + i, sent[i], None)],
                    decided_at_ms=4,
                    completed_at_ms=sent[i],
                    source_timestamp_ms=timestamps[i],
                    trace_id=trace,
                )
            )
            for i in range(count)
        ]
        assert decode_ledger(payload) == alone

    def test_shared_values_are_written_once(self) -> None:
        """A column all entries share is one value; coordinates as event ids are null."""
        payload = encode_pass_run(
            run_id="r",
            route="t->u",
            topic="t",
            partition=0,
            offset=5,
            out_partition=0,
            out_offset=9,
            event_ids=["t:0:5", "t:0:6"],
            keys=[b"a", b"b"],
            reasons=[None] * 2,
            fault_names=[None] * 2,
            planned_delays_ms=[0] * 2,
            variants=[None] * 2,
            decided_at_ms=[1, 1],
            sent_at_ms=[2, 3],
            completed_at_ms=[2, 3],
            source_timestamps_ms=[None] * 2,
            trace_ids=[None] * 2,
        )
        assert payload == (
            b'{"kind":"passes","v":1,"run_id":"r","route":"t->u","topic":"t","partition":0,'
            b'"offset":5,"count":2,"out_partition":0,"out_offset":9,"event_id":null,'
            b'"key_b64":["YQ==","Yg=="],"reason":null,"fault_name":null,"planned_delay_ms":0,'
            b'"variant":null,"decided_at_ms":1,"sent_at_ms":[2,3],"completed_at_ms":[2,3],'
            b'"source_timestamp_ms":null,"trace_id":null}'
        )

    def test_runs_of_equal_values_are_written_as_repeats(self) -> None:
        """Eight send times in two runs are two (value, times) pairs, and read back as eight."""
        columns = {
            "event_ids": ["x"] * 8,
            "keys": [None] * 8,
            "reasons": [None] * 8,
            "fault_names": [None] * 8,
            "planned_delays_ms": [0] * 8,
            "variants": [None] * 8,
            "decided_at_ms": [1] * 8,
            "sent_at_ms": [2] * 5 + [3] * 3,
            "completed_at_ms": [2] * 5 + [3] * 3,
            "source_timestamps_ms": [None] * 8,
            "trace_ids": [None] * 8,
        }
        payload = encode_pass_run(
            run_id="r",
            route="t->u",
            topic="t",
            partition=0,
            offset=5,
            out_partition=0,
            out_offset=9,
            **columns,  # type: ignore[arg-type]
        )
        assert b'"sent_at_ms":{"repeats":[[2,5],[3,3]]}' in payload
        records = decode_ledger(payload)
        assert [r.emissions[0].sent_at_ms for r in records] == [2] * 5 + [3] * 3
        assert [r.completed_at_ms for r in records] == [2] * 5 + [3] * 3

    def test_a_single_record_reads_as_itself(self) -> None:
        """decode_ledger reads a record written before runs existed as one record."""
        old = (
            b'{"v":1,"run_id":"r","route":"a->b","topic":"a","partition":0,"offset":3,'
            b'"event_id":"e","key_b64":null,"fault":"pass","reason":null,"emissions":'
            b'[{"copy_number":0,"planned_delay_ms":0,"partition":0,"offset":9,"sent_at_ms":5}],'
            b'"decided_at_ms":4,"completed_at_ms":5}'
        )
        assert decode_ledger(old) == [LedgerRecord.from_bytes(old)]

    def test_a_column_of_the_wrong_length_is_unreadable(self) -> None:
        """A run whose list column does not have one value per entry raises ValueError."""
        bad = (
            b'{"kind":"passes","v":1,"run_id":"r","route":"t->u","topic":"t","partition":0,'
            b'"offset":5,"count":3,"out_partition":0,"out_offset":9,"event_id":null,'
            b'"key_b64":["YQ==","Yg=="],"reason":null,"fault_name":null,"planned_delay_ms":0,'
            b'"variant":null,"decided_at_ms":1,"sent_at_ms":2,"completed_at_ms":2,'
            b'"source_timestamp_ms":null,"trace_id":null}'
        )
        with pytest.raises(ValueError, match="key_b64: 2 values for 3 entries"):
            decode_ledger(bad)
        with pytest.raises(ValueError, match="Invalid JSON"):
            decode_ledger(b"not json")
