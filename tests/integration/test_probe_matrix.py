"""Every meaningful (model, probe) pair from an experiment file, on real services.

Two demo services per kind (naive and safe): one keeps its state in Redis, serves it over
HTTP and writes an effects topic; the other keeps it in PostgreSQL. One run per service
judges all of its checks at once; each pair is its own test over that run's report.

The expected counts come from what the service was actually given: the destination topic
after the faults, replayed through the naive service's rules (last delivery wins, every
delivery adds and has an effect). The safe service must be clean with every unit judged.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from chaosbus.experiment import ExperimentSpec
from chaosbus.experiment.loader import parse_experiment
from chaosbus.report.model import RunReport
from chaosbus.runner import run_experiment
from chaosbus.runner.check_window import check_window
from chaosbus.testing import read_all, unique_topic
from chaosbus_demo.events import OrderEvent, parse_event
from chaosbus_demo.services import Kind
from tests.integration.runner_support import (
    Stage,
    make_stage,
    ready_topics,
    service_and_traffic,
    service_group,
    started_by,
    traffic,
)
from tests.postgres_reader import reader_dsn

pytestmark = pytest.mark.integration

EVENTS = 200
# Every message is shuffled in windows of 8 released by count, unless the duplicate draw
# fires first: faults follow from the seed and the per-partition order alone.
FAULTS = [
    {"name": "retries", "type": "duplicate", "probability": 0.3, "copies": 1},
    {"name": "shuffle-all", "type": "reorder", "probability": 1.0, "window": 8},
]
ORDER = {
    "event_id": {"json": "$.event_id"},
    "entity": "record_key",
    "version": {"json": "$.version"},
    "delete": {"path": "$.type", "equals": "cancelled"},
}
PAID = {
    "event_id": {"json": "$.event_id"},
    "entity": {"json": "$.customer"},
    "amount": {"json": "$.amount"},
}
ONCE = {"event_id": {"json": "$.event_id"}}


def experiment(stage: Stage, checks: list[dict[str, Any]], **monitor: Any) -> ExperimentSpec:
    return parse_experiment(
        {
            "name": "probe-matrix",
            "hypothesis": "Every order, total and effect downstream matches the source.",
            "routes": [{"from": stage.source, "to": stage.destination}],
            "seed": 42,
            "group_id": f"g-{stage.source}",
            "schedule": {"warmup_s": 0, "inject_s": 4, "recover_s": 2},
            "faults": FAULTS,
            "monitor": {
                "source_topic": stage.source,
                "settle_ms": 1_500,
                "checks": checks,
                **monitor,
            },
        }
    )


def redis_checks(http: str, effects: str) -> list[dict[str, Any]]:
    kafka = {"kind": "kafka", "topic": effects, "event_id": {"json": "$.event_id"}}
    return [
        {
            "name": "entity-redis",
            "model": "entity",
            "extract": ORDER,
            "probe": {"key": "order:{entity}", "field": "version", "deleted_field": "deleted"},
        },
        {
            "name": "entity-http",
            "model": "entity",
            "extract": ORDER,
            "probe": {"kind": "http", "url": f"{http}/orders/{{entity}}", "json": "$.version"},
        },
        {
            "name": "counter-redis",
            "model": "counter",
            "extract": PAID,
            "probe": {"kind": "redis", "key": "customer:{entity}:paid"},
        },
        {
            "name": "counter-http",
            "model": "counter",
            "extract": PAID,
            "probe": {"kind": "http", "url": f"{http}/customers/{{entity}}", "json": "$.paid"},
        },
        {"name": "counter-kafka", "model": "counter", "extract": PAID, "probe": kafka},
        {"name": "once-kafka", "model": "once", "extract": ONCE, "probe": kafka},
        {
            "name": "once-http",
            "model": "once",
            "extract": ONCE,
            "probe": {"kind": "http", "url": f"{http}/effects", "json": "$.event_ids"},
        },
    ]


def sql_checks(dsn: str, schema: str) -> list[dict[str, Any]]:
    orders = f"select version, deleted from {schema}.orders where id = %(entity)s"
    return [
        {
            "name": "entity-sql",
            "model": "entity",
            "extract": ORDER,
            "probe": {"kind": "sql", "dsn": dsn, "query": orders, "deleted_column": "deleted"},
        },
        {
            "name": "counter-sql",
            "model": "counter",
            "extract": PAID,
            "probe": {
                "kind": "sql",
                "dsn": dsn,
                "query": f"select total from {schema}.paid where customer = %(entity)s",
            },
        },
        {
            "name": "once-sql",
            "model": "once",
            "extract": ONCE,
            "probe": {"kind": "sql", "dsn": dsn, "query": f"select event_id from {schema}.effects"},
        },
    ]


@dataclass(frozen=True)
class Outcome:
    """One run and what its service was given."""

    report: RunReport
    checked: RunReport  # `chaosbus check` over the run's window, the service still up
    sent: list[OrderEvent]
    delivered: list[OrderEvent]  # the destination topic, per partition in offset order


def naive_bad_orders(delivered: list[OrderEvent]) -> int:
    """Orders whose last delivery is not the newest state (highest version, delete first)."""
    last: dict[str, int | None] = {}
    newest: dict[str, tuple[int, bool]] = {}
    for event in delivered:
        last[event.order_id] = None if event.is_delete else event.version
        rank = (event.version, event.is_delete)
        newest[event.order_id] = max(newest.get(event.order_id, rank), rank)
    expected = {o: None if deleted else v for o, (v, deleted) in newest.items()}
    return sum(1 for order, state in last.items() if state != expected[order])


def delivered_twice(delivered: list[OrderEvent]) -> set[str]:
    counts = Counter(event.event_id for event in delivered)
    return {event_id for event_id, n in counts.items() if n > 1}


def payers_of(events: list[OrderEvent], ids: set[str]) -> int:
    """Customers with a payment among `ids`."""
    return len({e.customer for e in events if e.event_id in ids and e.amount is not None})


_RUNS: dict[tuple[str, Kind], Outcome] = {}


async def outcome(store: str, kind: Kind, bootstrap: str, redis_url: str, dsn: str) -> Outcome:
    """The run of one service, run once for all the pairs that read it."""
    if (store, kind) not in _RUNS:
        _RUNS[store, kind] = await _run(store, kind, bootstrap, redis_url, dsn)
    return _RUNS[store, kind]


async def _run(store: str, kind: Kind, bootstrap: str, redis_url: str, dsn: str) -> Outcome:
    stage = await make_stage(bootstrap, redis_url, unique_topic(f"matrix-{store}-{kind}"))
    effects = f"{stage.destination}.effects"
    await ready_topics(bootstrap, [effects], 3)
    options: dict[str, Any] = (
        {"effects_topic": effects, "http_port": 0}
        if store == "redis"
        else {"store": "postgres", "postgres_dsn": dsn}
    )
    go = asyncio.Event()
    async with service_and_traffic(stage, kind, events=EVENTS, rate=100.0, go=go, **options) as svc:
        checks = (
            redis_checks(svc.http_url, effects)
            if store == "redis"
            else sql_checks(reader_dsn(dsn), svc.config.schema)
        )
        spec = experiment(stage, checks, service_group=service_group(stage))
        report = await run_experiment(spec, stage.options(on_progress=started_by(go)))
        checked = await check_window(
            spec,
            kafka=stage.kafka,
            redis_url=redis_url,
            run_id=report.run_id,
            key_prefix=stage.prefix,
        )
    delivered = [parse_event(r.value) for r in await read_all(bootstrap, stage.destination)]
    return Outcome(report, checked, traffic(stage, EVENTS), delivered)


PAIRS = [
    ("entity", "redis", "redis"),
    ("entity", "http", "redis"),
    ("entity", "sql", "postgres"),
    ("counter", "redis", "redis"),
    ("counter", "http", "redis"),
    ("counter", "sql", "postgres"),
    ("counter", "kafka", "redis"),
    ("once", "kafka", "redis"),
    ("once", "http", "redis"),
    ("once", "sql", "postgres"),
]


def expected_units(model: str, sent: list[OrderEvent]) -> int:
    if model == "entity":
        return len({e.order_id for e in sent})
    if model == "counter":  # every customer: an event without an amount adds nothing
        return len({e.customer for e in sent if e.customer is not None})
    return len({e.event_id for e in sent})


class TestNaiveServiceIsCaught:
    @pytest.mark.parametrize(("model", "probe", "store"), PAIRS)
    async def test_pair_counts_what_the_service_was_given(
        self, model: str, probe: str, store: str, bootstrap: str, redis_url: str, postgres_dsn: str
    ) -> None:
        """The naive service's bad units, counted exactly from the topic it consumed."""
        run = await outcome(store, "naive", bootstrap, redis_url, postgres_dsn)
        check = run.report.checks[f"{model}-{probe}"]
        twice = delivered_twice(run.delivered)
        if model == "entity":
            # Its final state: what `unrecovered` counts (earlier wrong states add to kinds).
            bad = naive_bad_orders(run.delivered)
            assert check.anomalies.counts["unrecovered"] == bad
        elif model == "counter":
            bad = payers_of(run.sent, twice)
            assert check.anomalies.counts["duplicate_effect"] == bad
        else:
            bad = len(twice)
            assert check.anomalies.counts["duplicate_effect"] == bad
        assert bad > 0, run.report.reason
        assert run.report.status == "violated"
        assert check.coverage.judged == expected_units(model, run.sent)


class TestSafeServiceHolds:
    @pytest.mark.parametrize(("model", "probe", "store"), PAIRS)
    async def test_pair_is_clean_with_every_unit_judged(
        self, model: str, probe: str, store: str, bootstrap: str, redis_url: str, postgres_dsn: str
    ) -> None:
        """The safe service under the same faults: no anomaly, every unit judged."""
        run = await outcome(store, "safe", bootstrap, redis_url, postgres_dsn)
        check = run.report.checks[f"{model}-{probe}"]
        assert check.anomalies.total == 0, check.anomalies.examples
        assert check.coverage.judged == expected_units(model, run.sent)
        assert check.coverage.pending == 0
        assert len(delivered_twice(run.delivered)) > 0  # duplicates were delivered
        assert run.report.status == "held", run.report.reason


class TestCheckAfterTheFact:
    @pytest.mark.parametrize("store", ["redis", "postgres"])
    async def test_check_counts_the_same_duplicate_effects(
        self, store: str, bootstrap: str, redis_url: str, postgres_dsn: str
    ) -> None:
        """`chaosbus check` over the naive run's window: once finds the same duplicates
        from the effects topic, the HTTP listing and the effects table."""
        run = await outcome(store, "naive", bootstrap, redis_url, postgres_dsn)
        again = run.checked
        once = [name for name in again.checks if name.startswith("once-")]
        assert once == (["once-kafka", "once-http"] if store == "redis" else ["once-sql"])
        for name in once:
            counts = again.checks[name].anomalies.counts
            assert counts["duplicate_effect"] == len(delivered_twice(run.delivered))
            assert again.checks[name].coverage.judged == EVENTS
