"""The experiment file: the library validates, and every problem names its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosbus.errors import EXIT_INVALID
from chaosbus.experiment import (
    ExperimentInvalid,
    load_experiment,
    parse_experiment,
    parse_experiment_text,
    with_overrides,
)
from chaosbus.experiment.spec import Ramp

EXPERIMENTS = Path(__file__).resolve().parents[2] / "chaosbus" / "scenarios"
LIBRARY = sorted(EXPERIMENTS.glob("*.yaml"))
HTTP_ONLY = {"flaky-api"}  # scenarios with http_routes and no topic route
TOPIC_LIBRARY = [p for p in LIBRARY if p.stem not in HTTP_ONLY]


def base() -> dict[str, Any]:
    text = (EXPERIMENTS / "duplicate-storm.yaml").read_text()
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ExperimentInvalid) as caught:
        parse_experiment(doc, "x.yaml")
    return caught.value.problems


def problems_if_any(doc: dict[str, Any]) -> list[str]:
    try:
        parse_experiment(doc, "x.yaml")
    except ExperimentInvalid as exc:
        return exc.problems
    return []


class TestLibrary:
    def test_the_library_scenarios_exist(self) -> None:
        """The library holds the scenarios the no-code failures call for."""
        assert {p.stem for p in LIBRARY} == {
            "duplicate-storm",
            "flaky-api",
            "out-of-order-updates",
            "slow-automation",
            "lost-events",
            "stale-redelivery",
            "poison-message",
            "schema-drift",
            "replay-storm",
            "outage-catch-up",
            "create-after-update",
            "first-n-fail",
            "http-view",
        }

    @pytest.mark.parametrize("path", TOPIC_LIBRARY, ids=lambda p: p.stem)
    def test_each_file_validates(self, path: Path) -> None:
        """Every scenario parses, targets orders.nocode -> orders and states a sentence."""
        spec = load_experiment(path)
        assert spec.name == path.stem
        assert [(r.source, r.destination) for r in spec.routes] == [("orders.nocode", "orders")]
        assert spec.hypothesis.endswith(".")


class TestProblems:
    def test_fault_schema_path(self) -> None:
        """A fault error keeps the fault schema's path into the experiment."""
        doc = base()
        doc["faults"].append(
            {
                "type": "delay",
                "probability": 0.1,
                "distribution": {"kind": "uniform", "min_ms": 100, "max_ms": 5},
            }
        )
        assert problems(doc) == ["faults[1].distribution.max_ms: must be ≥ min_ms (100) (got 5)"]

    def test_several_problems_one_line_each(self) -> None:
        """Independent mistakes are all reported, each on its own line with its path."""
        doc = base()
        doc["seed"] = "x"
        doc["schedule"]["inject_s"] = 0
        del doc["hypothesis"]
        found = problems(doc)
        assert len(found) == 3
        assert {line.split(":")[0] for line in found} == {"seed", "schedule.inject_s", "hypothesis"}

    def test_unknown_metric(self) -> None:
        """A metric outside the vocabulary is refused where it is written."""
        doc = base()
        doc["steady_state"] = [{"metric": "anomalies.totl", "max": 0}]
        (line,) = problems(doc)
        assert line.startswith("steady_state[0].metric: unknown metric 'anomalies.totl'")

    def test_guardrail_needs_a_live_metric(self) -> None:
        """Time to recovery exists only at the end, so it cannot guard a run."""
        doc = base()
        doc["guardrails"] = [{"metric": "time_to_recovery_s", "max": 5}]
        (line,) = problems(doc)
        assert line.startswith("guardrails[0].metric: metric 'time_to_recovery_s' is known only")

    def test_bound_needs_a_side(self) -> None:
        """A bound with neither max nor min bounds nothing."""
        doc = base()
        doc["guardrails"] = [{"metric": "held"}]
        assert problems(doc) == ["guardrails[0]: needs max, min or both"]

    def test_cross_field_paths(self) -> None:
        """Checks across sections point at the field to fix, not at the document."""
        doc = base()
        doc["monitor"]["source_topic"] = "elsewhere"
        assert problems(doc) == ["monitor.source_topic: must be the source (from) of a route"]
        doc = base()
        doc["routes"] = [{"from": "payments.in", "to": "orders"}]
        doc["monitor"]["source_topic"] = "payments.in"
        assert problems(doc) == ["routes[0].from: topic 'payments.in' is protected (payments.*)"]
        doc = base()
        doc["guardrails"][0]["check"] = "nope"
        (line,) = problems(doc)
        assert line.startswith("guardrails[0].check: no check named 'nope'")

    def test_probe_key_must_name_the_entity(self) -> None:
        """A key template without {entity} would read one key for every entity."""
        doc = base()
        doc["monitor"]["checks"][0]["probe"]["key"] = "order"
        assert problems(doc) == [
            "monitor.checks[0].probe.key: the key template must contain {entity}, "
            "e.g. order:{entity}"
        ]

    def test_unknown_probe_kind(self) -> None:
        """A probe kind outside redis, http, kafka, sql is one line naming the four."""
        doc = base()
        doc["monitor"]["checks"][0]["probe"] = {"kind": "mongo", "key": "order:{entity}"}
        assert problems(doc) == [
            "monitor.checks[0].probe: unknown probe kind: expected one of redis, http, kafka, sql"
        ]

    def test_probe_errors_name_the_field_of_their_kind(self) -> None:
        """The union's tag does not leak into the path: `probe.query`, not `probe.sql.query`."""
        doc = base()
        doc["monitor"]["checks"][0]["probe"] = {
            "kind": "sql",
            "dsn": "postgresql://localhost/db",
            "query": "select version from orders where id = %(id)s",
        }
        assert problems(doc) == [
            "monitor.checks[0].probe.query: the only parameter is %(entity)s, not id"
        ]

    @pytest.mark.parametrize(
        "dsn",
        ["host=h password=Pw s3cret", "host=h password='Pw s3cret", "postgresql://u:Pw s3cret@h/d"],
    )
    def test_a_dsn_that_does_not_parse_is_not_quoted(self, dsn: str) -> None:
        """libpq quotes the word it stopped at, here part of the password (issue 21): the
        problem names the field and never the value."""
        doc = base()
        doc["monitor"]["checks"][0]["probe"] = {"kind": "sql", "dsn": dsn, "query": "select 1"}
        (line,) = problems(doc)
        assert line.startswith("monitor.checks[0].probe.dsn: does not parse")
        assert "s3cret" not in line

    def test_a_url_field_never_quotes_its_value(self) -> None:
        """A pattern mismatch on a URL does not append `(got …)`: a URL may hold a password."""
        doc = base()
        doc["notify"] = [{"url": "http://u:Pw s3cret@h/x"}]
        (line,) = problems(doc)
        assert line.startswith("notify[0].url:")
        assert "s3cret" not in line

    @pytest.mark.parametrize(
        ("model", "probe", "fits"),
        [
            (
                "entity",
                {"kind": "sql", "dsn": "dbname=d", "query": "select v from t where k = %(entity)s"},
                True,
            ),
            ("entity", {"kind": "kafka", "topic": "fx", "event_id": {"json": "$.id"}}, False),
            ("entity", {"kind": "http", "url": "http://svc/effects", "json": "$.ids"}, False),
            ("once", {"kind": "kafka", "topic": "fx", "event_id": {"json": "$.id"}}, True),
            (
                "once",
                {"kind": "sql", "dsn": "dbname=d", "query": "select event_id from effects"},
                True,
            ),
            ("once", {"kind": "http", "url": "http://svc/effects", "json": "$.ids"}, True),
            ("once", {"kind": "redis", "key": "order:{entity}"}, False),
            ("counter", {"kind": "kafka", "topic": "fx", "event_id": {"json": "$.id"}}, True),
            ("counter", {"kind": "http", "url": "http://svc/c/{entity}", "json": "$.n"}, True),
        ],
    )
    def test_the_probe_must_fit_the_model(
        self, model: str, probe: dict[str, Any], fits: bool
    ) -> None:
        """once reads effects, entity reads state per entity, counter either."""
        doc = base()
        doc["monitor"]["checks"][0]["model"] = model
        doc["monitor"]["checks"][0]["probe"] = probe
        found = problems_if_any(doc)
        if fits:
            assert found == []
        else:
            (line,) = found
            assert line.startswith(f"monitor.checks[0].probe: model {model} ")

    def test_service_metrics_need_the_service_group(self) -> None:
        """A bound on service.lag.* without monitor.service_group could never be known."""
        doc = base()
        doc["steady_state"].append({"metric": "service.lag.recovered_s", "max": 5})
        assert problems(doc) == [
            "steady_state[1].metric: service.lag.recovered_s needs monitor.service_group "
            "(the service's consumer group)"
        ]
        doc["monitor"]["service_group"] = "ledger-safe"
        assert problems_if_any(doc) == []

    def test_probe_kind_defaults_to_redis(self) -> None:
        """Files written before probe kinds existed keep validating as redis probes."""
        doc = base()
        doc["monitor"]["checks"][0]["probe"].pop("kind", None)
        assert problems_if_any(doc) == []

    def test_unknown_field(self) -> None:
        """A typo is an error, not a silently ignored option."""
        doc = base()
        doc["schedule"]["warmpu_s"] = 3
        assert problems(doc) == [
            "schedule.warmpu_s: unknown field; did you mean 'warmup_s'? "
            "(allowed: warmup_s, inject_s, recover_s, ramp)"
        ]

    def test_yaml_errors_give_line_numbers(self) -> None:
        """Broken YAML and duplicate keys are located by line and column."""
        with pytest.raises(ExperimentInvalid) as caught:
            parse_experiment_text("name: a\nseed: [1,\n", "bad.yaml")
        assert caught.value.problems[0].startswith("line 3, column 1:")
        with pytest.raises(ExperimentInvalid) as caught:
            parse_experiment_text("name: a\nseed: 1\nname: b\n", "dup.yaml")
        assert caught.value.problems == ["line 3, column 1: duplicate key 'name'"]

    def test_error_is_invalid_input(self) -> None:
        """The loader's error carries exit code 2 and names the file first."""
        with pytest.raises(ExperimentInvalid) as caught:
            load_experiment(EXPERIMENTS / "missing.yaml")
        assert caught.value.exit_code == EXIT_INVALID
        assert str(caught.value).startswith(f"{EXPERIMENTS / 'missing.yaml'}: 1 problem")


class TestScheduleAndOverrides:
    def test_ramp_grows_to_full_intensity(self) -> None:
        """A ramp of n steps starts at 1/n (or `start`) and ends at 1."""
        assert Ramp(steps=4).intensities() == [0.25, 0.5, 0.75, 1.0]
        assert Ramp(steps=3, start=0.1).intensities() == [0.1, 0.55, 1.0]

    def test_overrides_revalidate(self) -> None:
        """Re-aiming a file moves the monitor's source with the route, and is validated."""
        spec = load_experiment(EXPERIMENTS / "duplicate-storm.yaml")
        moved = with_overrides(spec, source="a", destination="b", settle_ms=10)
        assert (moved.routes[0].source, moved.monitor.source_topic) == ("a", "a")
        assert moved.monitor.settle_ms == 10
        with pytest.raises(ExperimentInvalid):
            with_overrides(spec, source="a", destination="a")
