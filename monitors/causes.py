"""Each anomaly traced to its cause: the ledger decisions of its events, and a mechanism.

A checker says *what* is wrong with a unit (`stale_overwrite: expected v5, observed v1`);
the ledger knows what the interposer did to every message. `explain` joins the two: it
names the decisions (fault name and type, copy, planned and actual delay, where the copy
landed, trace id) of the events involved, and says in one line how they produced the
anomaly, e.g.

    v2-v5 delivered before v1 (v1 delayed 9.1 s by fault `slow-creates`); v1 applied last
    event e-17 delivered 3 times (fault `retries`, copies 1-2); the service applied each

(ranges are written with an en dash, `RANGE`). What a fault did to one event is the fault's
own sentence (`explain` in its module, read through `injectors.registry`).

When no fault touched those events, the line ends with `NO_FAULT`: the service has the
bug without any chaos; unless the ledger decided one of their messages again (an
at-least-once interposer restarted and read it again, `monitors.redelivery`): then it ends
with `REDELIVERED`, and no fault is blamed for the copies that restart sent. Pure: no
I/O, no clock; the batch checker calls it per example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaosbus.contracts.ledger_record import LedgerEmission, LedgerRecord
from chaosbus.injectors.injector import Told
from chaosbus.injectors.registry import INJECTORS
from chaosbus.monitors.anomalies import (
    DIVERGENT_ENTITY,
    DUPLICATE_EFFECT,
    LOST_EVENT,
    RESURRECTED,
    STALE_OVERWRITE,
    Shown,
)
from chaosbus.monitors.history import SourceEvent, coordinates_id
from chaosbus.monitors.report import Cause, LedgerDecision

RANGE = "\u2013"  # an en dash, between the ends of a range of versions or copies
NO_FAULT = "no fault touched these events: a bug without chaos"
REDELIVERED = "re-delivered after an interposer restart (at-least-once)"
# Decisions listed per example: enough to read the story, few enough for a table.
MAX_DECISIONS = 20
# Versions named one by one in a mechanism before the rest are counted.
MAX_NAMED = 4


@dataclass(frozen=True, slots=True)
class Delivered:
    """One event of the unit and the ledger records of its source deliveries.

    `records` holds one decision per delivery (the latest); `redecided` the earlier records
    of the same deliveries, decided again after an interposer restart: their copies reached
    the service too, but no fault asked for them.
    """

    event: SourceEvent
    records: tuple[LedgerRecord, ...] = ()
    redecided: tuple[LedgerRecord, ...] = ()

    @property
    def event_id(self) -> str:
        return self.event.event_id

    def sends(self) -> list[tuple[LedgerRecord, LedgerEmission, int]]:
        """Every copy produced for the event, with the time it left (or was due to)."""
        return [
            (
                r,
                e,
                e.sent_at_ms if e.sent_at_ms is not None else r.decided_at_ms + e.planned_delay_ms,
            )
            for r in (*self.redecided, *self.records)
            for e in r.emissions
        ]

    def arrivals(self) -> list[int]:
        return sorted(at for _, _, at in self.sends())

    def faults(self) -> list[LedgerRecord]:
        return [r for r in self.records if r.fault != "pass"]


def reached_before(a: Delivered, b: Delivered) -> bool:
    """Whether `a`'s first copy reached the service before `b`'s last one.

    Within one destination partition the offsets are the order a consumer reads (copies
    acknowledged in one batch share a send time); across partitions, the send times.
    """
    first, last = a.sends(), b.sends()
    if not first or not last:
        return False
    places = {e.partition for _, e, _ in first} | {e.partition for _, e, _ in last}
    offsets = [e.offset for _, e, _ in first + last]
    if len(places) == 1 and None not in places and None not in offsets:
        return min(e.offset or 0 for _, e, _ in first) < max(e.offset or 0 for _, e, _ in last)
    return min(at for _, _, at in first) < max(at for _, _, at in last)


def explain(
    kind: str,
    event_ids: Sequence[str],
    expected: Shown,
    observed: Shown,
    unit: Sequence[Delivered],
    *,
    versions: bool,
    amounts: bool = False,
) -> Cause:
    """The cause of one example of `kind` over the unit's events (source order).

    `versions`: name events by version (the entity model) rather than by id. `amounts`:
    `expected` and `observed` are a counter's sums, so the line speaks of amounts.
    """
    by_id = {d.event_id: d for d in unit}
    named = [by_id[i] for i in dict.fromkeys(event_ids) if i in by_id]
    story = _Story(versions)
    if kind == STALE_OVERWRITE and named:
        line, involved = story.stale(named[0], unit)
    elif kind == RESURRECTED and named:
        line, involved = story.resurrected(named[0], unit)
    elif kind == DUPLICATE_EFFECT and named:
        sums = _sums(named[0].event, expected, observed) if amounts else None
        line, involved = story.duplicate(named, observed, sums)
    elif kind == DUPLICATE_EFFECT and amounts:
        line, involved = story.copied_amounts(unit, expected, observed)
    elif kind == LOST_EVENT and named:
        sums = _sums(named[0].event, expected, observed) if amounts else None
        line, involved = story.lost(named[0], sums)
    else:
        line, involved = story.divergent(kind, named, expected, observed)
    faulted = any(d.faults() for d in involved)
    if not faulted:
        redelivered = any(d.redecided for d in involved)
        line = f"{line}; {REDELIVERED if redelivered else NO_FAULT}"
    sends = [at for d in involved for at in d.arrivals()]
    return Cause(
        mechanism=line,
        faulted=faulted,
        at_ms=max(sends) if sends else None,
        decisions=tuple(_decisions(involved))[:MAX_DECISIONS],
    )


class _Story:
    """The one-line mechanisms, per anomaly kind."""

    def __init__(self, versions: bool) -> None:
        self.versions = versions

    def label(self, d: Delivered) -> str:
        event = d.event
        if not self.versions:
            return f"event {event.event_id}"
        if event.version is None:
            return "a delete"
        return f"deleted@v{_num(event.version)}" if event.is_delete else f"v{_num(event.version)}"

    def labels(self, found: Sequence[Delivered]) -> str:
        """`v2` RANGE `v5` for a run of consecutive versions, else the labels one by one."""
        if self.versions and len(found) >= 3:
            numbers = [d.event.version for d in found]
            ints = [int(v) for v in numbers if isinstance(v, int)]
            plain = not any(d.event.is_delete for d in found)
            if plain and len(ints) == len(found) and ints == list(range(ints[0], ints[-1] + 1)):
                return f"v{ints[0]}{RANGE}v{ints[-1]}"
        names = [self.label(d) for d in found]
        if len(names) > MAX_NAMED:
            return f"{', '.join(names[:MAX_NAMED])} and {len(names) - MAX_NAMED} more"
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"

    def how(self, d: Delivered) -> str | None:
        """What the faults did to one event, in each fault's own sentence; None when none did."""
        parts = []
        for record in d.faults():
            late = max((_delay(record, e) for e in record.emissions), default=None)
            told = Told(
                event=self.label(d),
                by=f"fault `{record.fault_name or record.fault}`",
                late=_secs(late),
                copies=_copies(record),
            )
            injector = INJECTORS.get(record.fault)
            # A ledger written by a chaosbus that knows a fault this one does not.
            parts.append(
                injector.explain(told)
                if injector is not None
                else f"{told.event} hit by {told.by} ({record.fault})"
            )
        return "; ".join(parts) or None

    def stale(self, old: Delivered, unit: Sequence[Delivered]) -> tuple[str, list[Delivered]]:
        """An older state won: the newer ones arrived before the older one's last copy."""
        rank = _rank(old, unit)
        newer = [d for d in unit if _rank(d, unit) > rank]
        before = [d for d in newer if reached_before(d, old)]
        newer.sort(key=lambda d: _rank(d, unit))
        before.sort(key=lambda d: _rank(d, unit))
        how = self.how(old)
        suffix = f" ({how})" if how else ""
        if before:
            line = (
                f"{self.labels(before)} delivered before {self.label(old)}{suffix}; "
                f"{self.label(old)} applied last"
            )
            return line, [old, *before]
        if newer:
            line = (
                f"{self.label(old)} delivered before {self.labels(newer)}{suffix}, yet applied last"
            )
            return line, [old, *newer]
        return f"{self.label(old)} won over a newer state{suffix}", [old]

    def resurrected(
        self, delete: Delivered, unit: Sequence[Delivered]
    ) -> tuple[str, list[Delivered]]:
        """A delete lost: an older version's copy arrived after it."""
        rank = _rank(delete, unit)
        late = [
            d
            for d in unit
            if d is not delete and _rank(d, unit) < rank and reached_before(delete, d)
        ]
        if late:
            hows = [h for h in map(self.how, late) if h]
            suffix = f" ({'; '.join(hows)})" if hows else ""
            line = (
                f"{self.labels(late)} delivered after {self.label(delete)}{suffix}; "
                f"the entity came back"
            )
            return line, [delete, *late]
        how = self.how(delete)
        suffix = f" ({how})" if how else ""
        return f"{self.label(delete)} delivered last{suffix}, yet the entity is present", [delete]

    def duplicate(
        self, named: Sequence[Delivered], observed: Shown, sums: str | None = None
    ) -> tuple[str, list[Delivered]]:
        """One event produced more than one effect: how many copies reached the service.
        `sums`: what a counter shows instead of a count of effects (see `_sums`)."""
        many = [d for d in named if len(d.sends()) > 1]
        d = many[0] if many else named[0]
        copies = len(d.sends())
        deliveries = len(d.records)
        faults = d.faults()
        why = []
        for record in faults:
            extra = sorted(e.copy_number for e in record.emissions if e.copy_number > 0)
            why.append(f"fault `{record.fault_name or record.fault}`{_copy_range(extra)}")
        if deliveries > 1:
            why.append(f"the source sent it {deliveries} times")
        if d.redecided and faults:
            # Without a fault the line's ending names the restart (see `explain`).
            why.append(REDELIVERED)
        reason = f" ({', '.join(why)})" if why else ""
        times = "once" if copies == 1 else f"{copies} times"
        applied = "the service applied each"
        if isinstance(observed, int) and not isinstance(observed, bool) and observed != copies:
            applied = f"the service applied it {observed} times"
        if sums is not None:
            applied = sums
        return f"{self.label(d)} delivered {times}{reason}; {applied}", [d]

    def copied_amounts(
        self, unit: Sequence[Delivered], expected: Shown, observed: Shown
    ) -> tuple[str, list[Delivered]]:
        """A counter above its sum that no one event's amount explains: the events that
        reached the service more than once, and whether their extra copies add up to it."""
        sums = f"the counter shows {_shown(observed)} where {_shown(expected)} was expected"
        copied = [d for d in unit if d.event.amount and len(d.sends()) > 1]
        if not copied:
            return sums, list(unit)
        faults = dict.fromkeys(
            f"fault `{r.fault_name or r.fault}`" for d in copied for r in d.faults()
        )
        reason = f" ({', '.join(faults)})" if faults else ""
        line = f"{self.labels(copied)} delivered more than once{reason}; {sums}"
        extra = sum((d.event.amount or 0) * (len(d.sends()) - 1) for d in copied)
        numbers = isinstance(expected, int | float) and isinstance(observed, int | float)
        if numbers and abs(float(observed or 0) - float(expected or 0) - extra) < 1e-9:
            line += f": the amounts of their extra copies ({_num(extra)}) counted"
        return line, copied

    def lost(self, d: Delivered, sums: str | None = None) -> tuple[str, list[Delivered]]:
        copies = len(d.sends())
        how = self.how(d)
        shown = "never delivered" if copies == 0 else f"delivered {_times(copies)}"
        suffix = f" ({how})" if how else ""
        applied = sums if sums is not None else "the service never applied it"
        return f"{self.label(d)} {shown}{suffix}; {applied}", [d]

    def divergent(
        self, kind: str, named: Sequence[Delivered], expected: Shown, observed: Shown
    ) -> tuple[str, list[Delivered]]:
        hows = [h for h in map(self.how, named) if h]
        what = "" if kind == DIVERGENT_ENTITY else f"{kind}: "
        line = f"{what}expected {_shown(expected)}, observed {_shown(observed)}"
        if hows:
            line += f" ({'; '.join(hows)})"
        return line, list(named)


def _rank(d: Delivered, unit: Sequence[Delivered]) -> tuple[float, bool]:
    version = d.event.version
    if version is None:  # a bare delete outranks everything before it in source order
        before = [u.event.version for u in unit[: list(unit).index(d)]]
        version = max((v for v in before if v is not None), default=float("-inf"))
    return (float(version), d.event.is_delete)


def _delay(record: LedgerRecord, emission: LedgerEmission) -> tuple[int, bool]:
    """(delay in ms, whether measured): the actual one when the ledger has it."""
    actual = record.actual_delay_ms(emission)
    return (actual, True) if actual is not None else (emission.planned_delay_ms, False)


def _secs(delay: tuple[int, bool] | None) -> str:
    if delay is None:
        return "an unknown time"
    ms, measured = delay
    return f"{ms / 1000:.1f} s" + ("" if measured else " (planned)")


def _copies(record: LedgerRecord) -> str:
    extra = sorted(e.copy_number for e in record.emissions if e.copy_number > 0)
    if not extra:
        return "not copied"
    return f"sent {len(record.emissions)} times{_copy_range(extra)}"


def _copy_range(numbers: Sequence[int]) -> str:
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f", copy {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f", copies {numbers[0]}{RANGE}{numbers[-1]}"
    return f", copies {', '.join(map(str, numbers))}"


def _sums(event: SourceEvent, expected: Shown, observed: Shown) -> str:
    """What a counter shows against its expected sum, and how often that is the event's
    amount: "the counter shows 2400 where 1200 was expected: amount 1200 counted 2 times"."""
    if not isinstance(expected, int | float) or not isinstance(observed, int | float):
        return f"the counter shows {_shown(observed)} where {_shown(expected)} was expected"
    line = f"the counter shows {_num(observed)} where {_num(expected)} was expected"
    amount = event.amount
    if not amount:
        return line
    times = (observed - expected) / amount + 1  # the surplus in amounts, beside the due one
    counted = round(times)
    if abs(times - counted) < 1e-9 and counted >= 0 and counted != 1:
        how = "never counted" if counted == 0 else f"counted {_times(counted)}"
        line += f": amount {_num(amount)} {how}"
    return line


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _shown(value: Shown) -> str:
    if value is None:
        return "absent"
    return _num(value) if isinstance(value, int | float) else str(value)


def _decisions(involved: Sequence[Delivered]) -> list[LedgerDecision]:
    rows: list[LedgerDecision] = []
    for d in involved:
        for record in (*d.redecided, *d.records):
            common = {
                "event_id": d.event_id,
                "version": d.event.version,
                "source": coordinates_id((record.topic, record.partition, record.offset)),
                "fault": record.fault,
                "fault_name": record.fault_name,
                "decided_at_ms": record.decided_at_ms,
                "trace_id": record.trace_id,
            }
            if not record.emissions:
                rows.append(LedgerDecision(**common))
            for e in record.emissions:
                rows.append(
                    LedgerDecision(
                        **common,
                        copy_number=e.copy_number,
                        planned_delay_ms=e.planned_delay_ms,
                        actual_delay_ms=record.actual_delay_ms(e),
                        partition=e.partition,
                        offset=e.offset,
                        sent_at_ms=e.sent_at_ms,
                    )
                )
    return rows
