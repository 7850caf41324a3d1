"""Done when of issue 26: a window of the demo's Node-RED traffic, recorded with hashing and
replayed as an experiment's workload, gets the verdicts live traffic gets.

    Node-RED ← webhook traffic (30/s) → S
    live:    duplicate-storm S → D1, naive and safe services on D1       → verdicts L
    record:  S → FILE, ids hashed (key, order, customer, event id, header)
    replay:  duplicate-storm T → D2 with `workload: {replay: FILE, speed: 3}`,
             naive and safe services on D2                               → verdicts R
    L == R: naive violated with duplicate_effect, safe held

Short schedules (CI time is budgeted); Node-RED is installed by `chaosbus_demo.nodered`,
cached, and the test skips only when npm or node is absent.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.control import operations as control_commands
from chaosbus.experiment import ExperimentSpec, with_overrides
from chaosbus.experiment.workload import WorkloadSpec
from chaosbus.report.model import RunReport
from chaosbus.runner import RunOptions, run_experiment
from chaosbus.runner.check_window import check_window
from chaosbus.scenarios import load_experiment_or_scenario
from chaosbus.traffic.file_format import RecordingReader
from chaosbus.traffic.privacy import Anonymiser, PrivacyPolicy
from chaosbus.traffic.recorder import RecordOptions, record_topic
from chaosbus.traffic.selectors import parse_selectors
from chaosbus_demo.background import Services, services_running, traffic_running
from chaosbus_demo.infra import create_topics, node_red_running
from chaosbus_demo.plan import PARTITIONS, Stage
from chaosbus_demo.traffic import iter_order_events, order_events

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("npm") is None or shutil.which("node") is None,
        reason="Node.js and npm are needed to install Node-RED",
    ),
]

SCHEDULE = {"warmup_s": 2, "inject_s": 4, "recover_s": 3}
RATE = 30.0
HASHED = "key,$.order_id,$.customer,$.event_id,header:event-id"
KEY = b"a test key of thirty-two bytes.."


def storm(stage: Stage, source: str) -> ExperimentSpec:
    return with_overrides(
        load_experiment_or_scenario("duplicate-storm"),
        source=source,
        destination=stage.destination,
        schedule=SCHEDULE,
        group_id=stage.runner_group,
        settle_ms=1_500,
    )


async def verdicts(
    spec: ExperimentSpec,
    stage: Stage,
    services: Services,
    kafka: KafkaSettings,
    options: dict[str, str],
) -> tuple[RunReport, RunReport]:
    """The naive service judged live, then the safe one over the same window."""
    naive = await run_experiment(
        spec, RunOptions(kafka=kafka, key_prefix=stage.prefix("naive"), **options)
    )
    await services.caught_up(stage.prefix("safe"), kafka)
    safe = await check_window(
        spec,
        kafka=kafka,
        redis_url=options["redis_url"],
        run_id=naive.run_id,
        key_prefix=stage.prefix("safe"),
        actor=options["actor"],
    )
    return naive, safe


def outline(report: RunReport) -> tuple[str, bool]:
    """The status, and whether the anomaly the storm exists to show was found."""
    return report.status, bool(report.anomalies.counts.get("duplicate_effect"))


async def test_a_hashed_recording_replayed_gets_the_live_verdicts(
    bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """Live and replayed: naive violated with duplicate_effect, safe held, both times; the
    recording holds no order id, customer or event id in clear."""
    kafka = KafkaSettings(bootstrap)
    run = uuid.uuid4().hex[:8]
    live, again = Stage(run, "duplicate-storm"), Stage(f"{run}r", "duplicate-storm")
    source, replayed_into = f"demo-{run}.orders.nocode", f"demo-{run}r.orders.nocode"
    await create_topics(
        kafka, [source, replayed_into, live.destination, again.destination], PARTITIONS
    )
    namespace = f"chaosbus-test-{run}"
    await control_commands.init(redis_url, "test", namespace=namespace)
    options = {"redis_url": redis_url, "actor": "test", "control_namespace": namespace}
    recording = tmp_path / "nodered.cbt"
    events = iter_order_events(7, namespace=f"{run}-")
    count = round(RATE * sum(SCHEDULE.values()))
    configs = [
        *live.services(kafka=kafka, redis_url=redis_url),
        *again.services(kafka=kafka, redis_url=redis_url),
    ]
    async with (
        node_red_running(
            kafka=kafka, topic=source, say=lambda _: None, name=f"traffic-{run}"
        ) as node_red,
        services_running(configs) as services,
    ):
        async with traffic_running(node_red.webhook_url, events, count=count, rate=RATE) as sent:
            live_verdicts = await verdicts(storm(live, source), live, services, kafka, options)
        assert sent.report is not None
        assert (sent.report.sent, sent.report.failed) == (count, 0)

        policy = PrivacyPolicy(parse_selectors([HASHED]), parse_selectors(["header:traceparent"]))
        recorded = await record_topic(
            kafka, RecordOptions(source, recording), Anonymiser(policy, KEY)
        )
        assert recorded.end.records == count

        replay_spec = storm(again, replayed_into).model_copy(
            update={"workload": WorkloadSpec(replay=str(recording), speed=3)}
        )
        replay_verdicts = await verdicts(replay_spec, again, services, kafka, options)

    assert [outline(r) for r in live_verdicts] == [("violated", True), ("held", False)]
    assert [outline(r) for r in replay_verdicts] == [outline(r) for r in live_verdicts]
    for check in replay_verdicts[1].checks.values():  # the replay reached the safe service whole
        assert check.coverage.events == count
    with RecordingReader(recording) as reader:
        content = b"".join(
            (r.key or b"") + (r.value or b"") + b"".join(v or b"" for _, v in r.headers)
            for r in reader
        )
    posted = order_events(count, seed=7, namespace=f"{run}-")
    assert not [e for e in posted if e.event_id.encode() in content]
    assert f"{run}-o-".encode() not in content  # the order ids, namespaced by the run
    assert b"c-0" not in content  # the customers, c-00 to c-09
