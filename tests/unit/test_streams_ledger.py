"""The ledger book and the fast ledger encoding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from injectors.envelope import SourceCoordinates
from streams.ledger import LedgerBook
from streams.ledger_record import LedgerEmission, LedgerRecord, encode_key, encode_record
from streams.telemetry import trace_id_of

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
        """A decision with no emission is a complete record with no emissions."""
        book = LedgerBook(run_id="r", route="a->b")
        done = book.open(
            SOURCE, key=b"k", event_id="e", fault="drop", reason=None, expected=0, now_ms=5
        )
        assert done is not None
        record = LedgerRecord.from_bytes(done.payload)
        assert (record.fault, record.emissions, record.dropped) == ("drop", (), True)
        assert len(book) == 0

    def test_completes_after_the_last_copy_in_copy_order(self) -> None:
        """A duplicate's record is written only when every copy is acknowledged."""
        book = LedgerBook(run_id="r", route="a->b")
        assert (
            book.open(
                SOURCE, key=None, event_id="e", fault="duplicate", reason=None, expected=2, now_ms=1
            )
            is None
        )
        assert (
            book.sent(SOURCE, copy_number=1, planned_delay_ms=30, partition=0, offset=9, now_ms=40)
            is None
        )
        done = book.sent(
            SOURCE, copy_number=0, planned_delay_ms=0, partition=0, offset=8, now_ms=41
        )
        assert done is not None
        record = LedgerRecord.from_bytes(done.payload)
        assert [(e.copy_number, e.offset) for e in record.emissions] == [(0, 8), (1, 9)]
        assert (record.decided_at_ms, record.completed_at_ms, record.key) == (1, 41, None)
