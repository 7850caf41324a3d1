"""Which fault takes a message or a request: the one loop both plans run (`injectors.plan`
for topics, `injectors.http.plan` for HTTP).

For one decision, in this order:

1. One uniform draw per fault from the decision's stream, always all of them and always
   first, so a decision never shifts when intensity, caps or earlier matches change; whoever
   acts on the decision goes on with the same stream.
2. The faults in file order. A fault whose state seizes the partition (a stalled shard) has
   taken the message before the loop starts. Otherwise the first fault that matches and fires
   (its draw below `probability * intensity`), or whose state forces it (a drop burst, an
   open outage), takes it. At intensity 0 nothing is taken.
3. Count triggers: a fault with a trigger is matched even after another fault was chosen, so
   its counts are over every message it matches, whoever takes it.
4. A paused fault (an operator's `chaosbus pause --fault NAME`) that was chosen turns the
   decision into a pass with reason `paused`: the message does not fall through to the next
   fault, so every other fault decides exactly as it would unpaused.
5. The blast radius: a cap may refuse the chosen fault, which turns the decision into a pass
   whose reason names the cap; `suppressed` counts those by cap. A fault that is not refused
   is recorded against the caps and its trigger.

The blast-radius counters are the only state shared across partitions (`injectors.blast`);
trigger counts are per fault and partition (`injectors.triggers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, NamedTuple, TypeVar

from chaosbus.injectors.base import Triggered
from chaosbus.injectors.blast import CAPS, BlastGuard
from chaosbus.injectors.match import Verdict
from chaosbus.injectors.rng import DecisionStream
from chaosbus.injectors.spec import BlastRadius
from chaosbus.injectors.triggers import TriggerBook

F = TypeVar("F", bound=Triggered)
Partition = tuple[str, int]


class Choice(NamedTuple):  # a tuple: one is made per decision, on the hot path
    chosen: int | None  # the index of the fault that takes the message; None: it passes
    # Why it passes although a fault could apply: "non_json" (a `json` match could not run)
    # or the cap that refused the fault (`blast.CAPS`); None otherwise.
    reason: str | None


PAUSED = "paused"


def _none_forced(index: int) -> bool:
    return False


def _no_copies(index: int) -> int:
    return 0


class Selector(Generic[F]):
    """Mutable and single-threaded, like the plan that owns it."""

    def __init__(
        self, faults: Sequence[F], blast_radius: BlastRadius, *, forcible: Iterable[int] = ()
    ) -> None:
        self.faults = tuple(faults)
        # The faults whose state may force a message: only they are asked (`forced`).
        self.forcible = frozenset(forcible)
        self.guard = BlastGuard(blast_radius)
        self.triggers = TriggerBook()
        self.suppressed = dict.fromkeys(CAPS, 0)
        # Indexes of the faults an operator paused: chosen, they pass (reason `paused`).
        self.paused: frozenset[int] = frozenset()

    def choose(
        self,
        stream: DecisionStream,
        part: Partition,
        key: bytes | None,
        now_ms: int,
        *,
        intensity: float,
        judge: Callable[[F], Verdict],
        forced: Callable[[int], bool] = _none_forced,
        seized: int | None = None,
        extra_copies: Callable[[int], int] = _no_copies,
    ) -> Choice:
        """Choose for one message of `part` with blast-radius key `key`, at logical `now_ms`.

        `judge(fault)` says whether the fault's match selects the message; `forced(index)`
        whether fault `index` (one of `forcible`) takes it without a draw; `seized` names
        the fault whose state has taken the whole partition, if any; `extra_copies(index)`
        the copies fault `index` would add, for `max_copies_per_message`.
        """
        draws = stream.draws(len(self.faults))
        self.guard.see(key)
        chosen = seized if intensity > 0.0 else None
        non_json = False
        for index, fault in enumerate(self.faults):
            if chosen is not None and fault.trigger is None:
                continue
            verdict = judge(fault)
            non_json = non_json or verdict is Verdict.NON_JSON
            if verdict is not Verdict.MATCH:
                continue
            admitted = self.triggers.admit(index, part, fault.trigger)
            if chosen is not None or intensity <= 0.0:
                continue
            if (admitted and draws[index] < fault.probability * intensity) or (
                index in self.forcible and forced(index)
            ):
                chosen = index
        if chosen is None:
            return Choice(None, "non_json" if non_json else None)
        if chosen in self.paused:
            return Choice(None, PAUSED)
        refusal = self.guard.refusal(key, now_ms, extra_copies(chosen))
        if refusal is not None:
            self.suppressed[refusal] += 1
            return Choice(None, refusal)
        self.guard.record(key)
        self.triggers.record(chosen, part, self.faults[chosen].trigger)
        return Choice(chosen, None)
