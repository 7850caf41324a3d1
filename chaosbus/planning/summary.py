"""What a dry run predicts, as a value: shown by `plan`, `approve` and `approvals`, stored with
a sign-off (JSON both ways), compared with a run's ledger by the tests.

    PlanSummary            the experiment, its seed, the window read, one RoutePlan per route
    └── RoutePlan          per route: messages in the window, decisions by fault type and by
                           name (pass included), copies, keys and entities touched, the peak of
                           held copies and bytes, the blast-radius caps that bind and when
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CapBinding(_Frozen):
    """A blast-radius cap that turned faults into passes: how often, and first where."""

    cap: str
    refused: int
    first_at_ms: int
    first_partition: int
    first_offset: int


class Touched(_Frozen):
    touched: int
    seen: int

    @property
    def share(self) -> float:
        return self.touched / self.seen if self.seen else 0.0


class RoutePlan(_Frozen):
    route: str  # SOURCE->DESTINATION
    route_id: str  # what decisions are keyed on
    messages: int
    first_ms: int | None = None
    last_ms: int | None = None
    ended_by: str = "end"  # what ended the window: end, count, bytes, time
    faults: dict[str, int]  # decisions by type, `pass` included
    by_name: dict[str, int]  # decisions by fault name (faults only)
    reasons: dict[str, int]  # passes that could have been faults, by reason
    copies: int  # copies the destination would get
    keys: Touched
    entities: dict[str, Touched]  # by check, for the monitor's source route
    peak_held: int
    peak_held_bytes: int
    peak_at_ms: int | None = None
    caps: tuple[CapBinding, ...] = ()

    @property
    def injected(self) -> int:
        return sum(n for kind, n in self.faults.items() if kind != "pass")

    def lines(self) -> list[str]:
        return _route_lines(self)


class PlanSummary(_Frozen):
    experiment: str
    seed: int
    window_s: float | None
    max_messages: int
    routes: tuple[RoutePlan, ...]
    http_routes: tuple[str, ...] = ()  # not predicted: no window of requests to read
    intensity_note: str | None = None

    @property
    def empty(self) -> bool:
        return all(r.messages == 0 for r in self.routes)

    def lines(self) -> list[str]:
        """The summary as a person signing off reads it."""
        window = "everything retained" if self.window_s is None else f"the last {self.window_s:g} s"
        out = [
            f"dry run of {self.experiment} (seed {self.seed}) over {window} of each source "
            f"(at most {self.max_messages} messages; nothing written, no group, no commit)"
        ]
        for r in self.routes:
            out.extend(r.lines())
        for name in self.http_routes:
            out.append(f"HTTP route {name}: not predicted (no window of requests to read)")
        if self.intensity_note:
            out.append(self.intensity_note)
        return out


def _when(ms: int | None) -> str:
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _share(t: Touched) -> str:
    return f"{t.touched} of {t.seen} ({t.share:.1%})"


def _route_lines(r: RoutePlan) -> list[str]:
    if r.messages == 0:
        return [f"{r.route}: no messages in the window: nothing predicted"]
    span = f"{_when(r.first_ms)} to {_when(r.last_ms)}"
    ended = "" if r.ended_by == "end" else f", window cut by {r.ended_by}"
    out = [f"{r.route}: {r.messages} messages ({span}{ended}), route id {r.route_id}"]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r.faults.items()) if v)
    out.append(f"  decisions: {kinds}; {r.copies} copies to the destination")
    if r.by_name:
        out.append(f"  faults by name: {_counts(r.by_name)}")
    out.append(f"  keys touched: {_share(r.keys)}")
    for check, touched in sorted(r.entities.items()):
        out.append(f"  entities touched ({check}): {_share(touched)}")
    out.append(
        f"  peak held: {r.peak_held} copies, {r.peak_held_bytes} bytes"
        + (f" at {_when(r.peak_at_ms)}" if r.peak_held else "")
    )
    if r.reasons:
        out.append(f"  passed instead: {_counts(r.reasons)}")
    for cap in r.caps:
        out.append(
            f"  cap {cap.cap} binds: {cap.refused} faults refused, first at "
            f"{_when(cap.first_at_ms)} (partition {cap.first_partition} offset {cap.first_offset})"
        )
    if not r.caps:
        out.append("  no blast-radius cap binds")
    return out
