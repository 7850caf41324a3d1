"""The ledger book and the fast ledger encoding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from injectors.envelope import SourceCoordinates
from streams.ledger import LedgerBook
from streams.ledger_record import LedgerEmission, LedgerRecord, encode_key, encode_record

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
    )
    def test_fast_encoding_is_byte_identical_to_the_model(
        self,
        key: bytes | None,
        fault: str,
        reason: str | None,
        event_id: str,
        emissions: list[tuple[int, int, int, int, int, str | None]],
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
