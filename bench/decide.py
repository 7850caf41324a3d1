"""What one `FaultPlan.decide` costs, without a broker: the fault model's share of the hot path.

    python3 bench/decide.py [--messages 20000] [--repeat 7]

Prints microseconds per decision (the best of `--repeat` runs over `--messages` fresh
envelopes, polled every 500 as the runtime's pump would) for three plans: no faults, the
faults-on mix of bench/passthrough.py (duplicate 10 %, delay 10 % uniform 0-500 ms, reorder
window 10, drop 1 %), and the same mix matched on a header no message carries, so every
decision is a pass with faults configured; then the RNG derivation alone (decision 0130).
Times are CPU time of this process (the machine is shared); compare figures from one run.
"""

from __future__ import annotations

import argparse
import copy
import time
import timeit
from typing import Any

from mixes import FAULTS_ON  # bench/ is on sys.path when a script here runs

from chaosbus.injectors import FaultPlan, parse_fault_document
from chaosbus.injectors.rng import DecisionSource
from chaosbus.injectors.testing import envelope

POLL_EVERY = 500
CPU = time.process_time  # this process's CPU time: less noise from the shared machine


def never_matching(document: dict[str, Any]) -> dict[str, Any]:
    """The same faults, each matched on a header no bench message carries."""
    out = copy.deepcopy(document)
    for fault in out["faults"]:
        fault["match"] = {"headers": {"x-never": "1"}}
    return out


def per_decision_us(document: dict[str, Any], messages: int, repeat: int) -> float:
    envelopes = [envelope(offset, key=f"k{offset % 1000}".encode()) for offset in range(messages)]

    def run() -> None:
        plan = FaultPlan.from_file(parse_fault_document(document, "bench"), seed=1)
        for index, env in enumerate(envelopes):
            plan.decide(env, index)
            if index % POLL_EVERY == 0:
                plan.poll(index)
        plan.flush(messages)

    return min(timeit.repeat(run, number=1, repeat=repeat, timer=CPU)) / messages * 1e6


def derivation_us(number: int) -> tuple[float, float]:
    """The RNG alone: the four draws of a pass; and those, then a fault's uniform delay."""
    source = DecisionSource(1)

    def draws() -> None:
        source.stream("orders.nocode", 0, 12345).draws(4)

    def fired() -> None:
        stream = source.stream("orders.nocode", 0, 12345)
        stream.draws(4)
        stream.randint(0, 500)

    return (
        min(timeit.repeat(draws, number=number, repeat=5, timer=CPU)) / number * 1e6,
        min(timeit.repeat(fired, number=number, repeat=5, timer=CPU)) / number * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    plans = {
        "no faults": {"faults": []},
        "faults-on": FAULTS_ON,
        "faults-on, all pass": never_matching(FAULTS_ON),
    }
    for label, document in plans.items():
        cost = per_decision_us(document, args.messages, args.repeat)
        print(f"decide, {label:<23} {cost:6.2f} us/decision")
    pass_us, fired_us = derivation_us(args.messages)
    print(f"rng, 4 draws (a pass)           {pass_us:6.2f} us")
    print(f"rng, 4 draws and a randint      {fired_us:6.2f} us")


if __name__ == "__main__":
    main()
