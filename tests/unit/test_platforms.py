"""Platform profiles, their presets and their scenarios: data with sources, expanded into the
existing fault types, refused in one line when they cannot fit a run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.errors import InvalidInput
from chaosbus.experiment import ExperimentInvalid, parse_experiment, parse_experiment_text
from chaosbus.injectors.http.log_record import LoggedRequest
from chaosbus.injectors.spec import ReorderFault, ReplayFault
from chaosbus.monitors.retries import RetryPolicy
from chaosbus.platforms.presets import duration, expand_document, shares
from chaosbus.platforms.profile import profile, profiles
from chaosbus.platforms.scenarios import platform_scenarios, recover_s, scenario_text
from chaosbus.scenarios import load_experiment_or_scenario, scenario

PLATFORMS = ["make", "n8n", "node-red", "power-automate", "webhook", "zapier"]


def experiment(**extra: object) -> dict[str, object]:
    """A minimal valid experiment document with one route and one check."""
    return {
        "name": "t",
        "hypothesis": "The service survives the platform.",
        "routes": [{"from": "a.in", "to": "a.out"}],
        "seed": 1,
        "schedule": {"inject_s": 10, "recover_s": 20},
        "faults": [{"preset": "zapier-autoreplay"}],
        "monitor": {
            "source_topic": "a.in",
            "checks": [{"name": "c", "model": "entity", "probe": {"key": "k:{entity}"}}],
        },
        **extra,
    }


class TestProfiles:
    def test_every_platform_has_a_profile(self) -> None:
        """The six platforms the issue names are shipped, by file name."""
        assert sorted(profiles()) == PLATFORMS

    def test_every_fact_has_a_source_or_says_why_not(self) -> None:
        """A sourced fact carries a URL and what it says; an unsourced one its reason."""
        for prof in profiles().values():
            for name, fact in prof.facts():
                if fact.source is None:
                    assert fact.unconfirmed, f"{prof.name}.{name}"
                else:
                    assert fact.source.startswith("https://"), f"{prof.name}.{name}"
                    assert fact.says, f"{prof.name}.{name}"

    def test_the_unconfirmed_facts_are_listed(self) -> None:
        """Which facts rest on no public page is known per platform (the report lists them)."""
        assert profile("zapier").unconfirmed() == ["idempotency_key"]
        assert "ordering.detail" in profile("n8n").unconfirmed()
        assert "retries.waits_s" in profile("power-automate").unconfirmed()

    def test_documented_schedules_give_the_offsets(self) -> None:
        """Zapier's 5 min, 30 min, 1 h, 3 h, 6 h end 10 h 35 min after the failure."""
        zapier = profile("zapier")
        assert zapier.replay_offsets_s == (300, 2100, 5700, 16500, 38100)
        assert zapier.horizon_s == 38100
        assert duration(zapier.horizon_s) == "10h35m"
        assert profile("make").horizon_s == 28260  # 7 h 51 min
        assert profile("n8n").retry_offsets_s == (1.0, 2.0)

    def test_a_profile_is_a_retry_policy(self) -> None:
        """n8n: at most 5 tries at a fixed wait; Zapier: 1 + 5 replays, growth at least 2;
        each growth less the 10 % a real host's jitter takes off a measured one."""
        assert profile("n8n").retry_policy() == RetryPolicy(5, 0.9, 20.0)
        assert profile("zapier").retry_policy() == RetryPolicy(6, 1.8, 20.0)
        assert profile("power-automate").retry_policy().min_backoff_ratio == 1.35

    def test_an_unknown_platform_is_one_line(self) -> None:
        """The message names the known ones."""
        with pytest.raises(InvalidInput, match="no platform named 'ifttt' \\(known: make, n8n"):
            profile("ifttt")


class TestPresets:
    def test_replays_expand_into_one_replay_fault_per_offset(self) -> None:
        """zapier-autoreplay ÷2880: five replay faults at the compressed offsets."""
        spec = parse_experiment(experiment())
        assert [type(f) for f in spec.faults] == [ReplayFault] * 5
        assert [f.after_ms for f in spec.faults if isinstance(f, ReplayFault)] == [
            104,
            729,
            1979,
            5729,
            13229,
        ]
        assert spec.faults[0].name == "zapier-autoreplay@5m"
        (use,) = spec.platform_presets
        assert (use.platform, use.compress, use.horizon_s) == ("zapier", 2880, 38100)
        assert "÷2880" in use.sentence()
        assert "10h35m" in use.sentence()

    def test_the_shares_add_up_to_the_preset_probability(self) -> None:
        """Tried in order, first firing wins: each offset takes an equal share of 0.3."""
        chances = shares(0.3, 5)
        left, taken = 1.0, []
        for chance in chances:
            taken.append(left * chance)
            left *= 1 - chance
        assert taken == pytest.approx([0.06] * 5)

    def test_parallel_is_a_reorder(self) -> None:
        """n8n's overlapping executions: a reorder of 3 within 300 ms."""
        spec = parse_experiment(experiment(faults=[{"preset": "n8n-parallel-executions"}]))
        (fault,) = spec.faults
        assert isinstance(fault, ReorderFault)
        assert (fault.window, fault.within_ms, fault.probability) == (3, 300, 0.3)

    def test_a_horizon_past_the_recovery_is_refused(self) -> None:
        """Real time (÷1), Zapier's 10 h 35 min cannot end inside a 20 s recovery."""
        with pytest.raises(ExperimentInvalid) as caught:
            parse_experiment(experiment(faults=[{"preset": "zapier-autoreplay", "compress": 1}]))
        (problem,) = caught.value.problems
        assert problem == (
            "faults[0].compress: zapier-autoreplay sends copies up to 10h35m late; ÷1 that is "
            "10h35m, beyond schedule.recover_s (20 s): set compress ≥ 1905 or recover_s ≥ 38100"
        )

    def test_an_unknown_preset_names_the_known_ones(self) -> None:
        """A typo is a located one-line problem."""
        with pytest.raises(ExperimentInvalid, match=r"faults\[0\]\.preset: unknown preset 'zap'"):
            parse_experiment(experiment(faults=[{"preset": "zap"}]))

    def test_an_unknown_option_is_refused(self) -> None:
        """Only probability, compress and match may be overridden."""
        with pytest.raises(ExperimentInvalid, match=r"faults\[0\]\.copies: not a preset option"):
            parse_experiment(experiment(faults=[{"preset": "zapier-autoreplay", "copies": 2}]))

    def test_match_and_probability_pass_through(self) -> None:
        """Targeting the preset targets every fault it expands into."""
        match = {"json": {"type": {"equals": "paid"}}}
        spec = parse_experiment(
            experiment(faults=[{"preset": "n8n-retry-on-fail", "probability": 1.0, "match": match}])
        )
        assert [f.probability for f in spec.faults] == [0.5, 1.0]
        assert all(f.match is not None and f.match.json_conditions for f in spec.faults)

    def test_a_document_without_presets_is_left_alone(self) -> None:
        """No preset, no copy: the loader's hook costs nothing for other files."""
        data = experiment(faults=[{"type": "duplicate", "probability": 0.1}])
        assert expand_document(data) is data

    def test_a_retry_policy_may_name_a_platform(self) -> None:
        """`retry_policy: {platform: n8n}` becomes n8n's bounds; a given field still wins."""
        route = {
            "name": "p",
            "listen": "127.0.0.1:9301",
            "upstream": "http://127.0.0.1:9300",
            "faults": [{"type": "error", "probability": 1.0, "status": 503}],
            "retry_policy": {"platform": "n8n", "max_storm_rps": 5},
        }
        spec = parse_experiment(
            {
                "name": "h",
                "hypothesis": "Retries stay as n8n makes them.",
                "seed": 1,
                "schedule": {"inject_s": 5},
                "http_routes": [route],
            }
        )
        policy = spec.http_routes[0].retry_policy
        assert (policy.max_attempts, policy.min_backoff_ratio, policy.max_storm_rps) == (5, 0.9, 5)


class TestScenarios:
    def test_one_scenario_per_platform_validates(self) -> None:
        """Every generated scenario is a valid experiment whose recovery fits its horizons."""
        assert sorted(platform_scenarios()) == [f"{p}-delivery" for p in PLATFORMS]
        for name, platform in platform_scenarios().items():
            spec = load_experiment_or_scenario(name)
            assert spec.schedule.recover_s == recover_s(profile(platform))
            assert spec.platform_presets

    def test_the_description_cites_every_source(self) -> None:
        """Each sourced fact's URL is in the scenario's description; unsourced ones say so."""
        for name, platform in platform_scenarios().items():
            description = load_experiment_or_scenario(name).description or ""
            for _, fact in profile(platform).facts():
                if fact.source is not None:
                    assert fact.source in description, (name, fact.source)
            unconfirmed = description.count("Not confirmed from a public source")
            assert unconfirmed == len(profile(platform).unconfirmed())

    def test_show_prints_the_generated_text(self) -> None:
        """`scenarios show zapier-delivery` is the text the library loads."""
        assert scenario("zapier-delivery").text == scenario_text("zapier")
        assert parse_experiment_text(scenario_text("zapier")).name == "zapier-delivery"

    def test_scenarios_by_platform(self) -> None:
        """`chaosbus scenarios --platform zapier` lists its scenario with the cited facts."""
        result = CliRunner().invoke(app, ["scenarios", "--platform", "zapier"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("zapier-delivery\n")
        assert "https://zapier.com/help/autoreplay/" in result.output
        assert "not confirmed from a public source: idempotency_key" in result.output

    def test_an_unknown_platform_exits_2(self) -> None:
        """One line, exit 2."""
        result = CliRunner().invoke(app, ["scenarios", "--platform", "ifttt"])
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [
            "chaosbus: no platform named 'ifttt' (known: make, n8n, node-red, power-automate, "
            "webhook, zapier)"
        ]


class TestRetriesByPlatform:
    def test_retries_judged_by_a_platform(self, tmp_path: Path) -> None:
        """Five tries 1 s apart: no_backoff by default, within n8n's own habits by profile."""
        log = tmp_path / "requests.jsonl"
        entry = LoggedRequest("p", 0, "r1", "POST", "/price", 0, "error", None, 503, 0, None, 2)
        lines = [replace(entry, sequence=i, arrived_at_ms=1000 * i).to_json() for i in range(5)]
        log.write_text("\n".join(lines) + "\n")
        default = CliRunner().invoke(app, ["retries", str(log)])
        assert default.exit_code == 1
        assert "no_backoff 1" in default.output
        n8n = CliRunner().invoke(app, ["retries", str(log), "--platform", "n8n"])
        assert n8n.exit_code == 0, n8n.output
        assert "anomalies: none" in n8n.output
