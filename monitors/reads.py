"""What the monitors could read during a run: each check's probe, the lag, the Kafka readers.

A read that fails does not stop a run (the next poll may succeed), but it is a fact of the
run, kept here, so that no conclusion rests on data that was not read (decision 0270):

    every poll         ─► ReadLog.record(check, error or None)        counts, the last error
    the final read     ─► ReadLog.record(check, error or None, final=True)
    the wind-down      ─► CatchUp: were the source and the ledger read to the source's end?
    ReadLog.facts(…)   ─► Reads: frozen, part of the run's facts and of its report

`Reads.unread()` names, one line each, what the verdict needed and could not read: a check
whose final read failed (its state after settling is unknown), the service group's lag
likewise, a ledger not read to the source's end. `Reads.failures()` names every reader
that failed at all (and a catch-up not reached), for the reason of a run that judged
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

# The name the service group's lag is kept under beside the checks' probes.
LAG = "service group lag"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProbeReads(_Frozen):
    """How one reader answered over a run: reads tried, reads failed, the last error, and
    whether the final read (taken once everything settled) succeeded; `final` is None when
    no final read was taken (the facts of a run older than these fields)."""

    reads: int = 0
    failed: int = 0
    last_error: str | None = None
    final: bool | None = None

    def describe(self, name: str) -> str:
        """`probe order-state: 42 of 42 reads failed, the final one too; last: …` (for a
        reader that failed at least once)."""
        final = {True: ", not the final one", False: ", the final one too", None: ""}
        return (
            f"{_reader(name)}: {self.failed} of {self.reads} reads failed{final[self.final]}; "
            f"last: {self.last_error}"
        )


class CatchUp(_Frozen):
    """Whether the source and the ledger were read to the source's end when the run wound
    down (everything the interposer will ever decide for this window); `detail` says why
    not, in one line."""

    reached: bool
    detail: str | None = None


class Reads(_Frozen):
    """What the monitors could read, by reader: each check's probe by its name, and the
    service group's lag under `LAG` when `monitor.service_group` is declared."""

    probes: dict[str, ProbeReads] = {}
    catch_up: CatchUp | None = None  # None: nothing to catch up with (check, HTTP only)

    def unread(self) -> list[str]:
        """One line per fact the verdict needs that could not be read."""
        lines = [
            f"{_reader(name)}: its final read failed: {reads.last_error} "
            f"({reads.failed} of {reads.reads} reads failed)"
            for name, reads in self.probes.items()
            if reads.final is False
        ]
        return lines + self._catch_up_lines()

    def failures(self) -> list[str]:
        """One line per reader that failed at least once (`ProbeReads.describe`), and the
        catch-up when it was not reached: why a run may have judged nothing."""
        lines = [reads.describe(name) for name, reads in self.probes.items() if reads.failed]
        return lines + self._catch_up_lines()

    def _catch_up_lines(self) -> list[str]:
        if self.catch_up is None or self.catch_up.reached:
            return []
        return [f"the ledger could not be read to the source's end: {self.catch_up.detail}"]


class ReadLog:
    """Counts each reader's reads as they happen; `facts` freezes them."""

    def __init__(self, names: Iterable[str]) -> None:
        self._reads = {name: ProbeReads() for name in names}

    def record(self, name: str, error: str | None, *, final: bool = False) -> None:
        """One read of `name`: `error` is None when it succeeded, else its one line."""
        before = self._reads.get(name, ProbeReads())
        update: dict[str, object] = {"reads": before.reads + 1}
        if error is not None:
            update |= {"failed": before.failed + 1, "last_error": error}
        if final:
            update["final"] = error is None
        self._reads[name] = before.model_copy(update=update)

    @property
    def failed(self) -> int:
        """Failed reads so far, every reader together (the live progress shows it)."""
        return sum(reads.failed for reads in self._reads.values())

    def facts(self, catch_up: CatchUp | None = None) -> Reads:
        return Reads(probes=dict(self._reads), catch_up=catch_up)


def _reader(name: str) -> str:
    return name if name == LAG else f"probe {name}"
