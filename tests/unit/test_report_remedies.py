"""The report tells the people who build the flows what to change: `remedies` in the JSON
(derived from the anomaly counts), a section in Markdown and HTML, and the time scale of
the platform presets the experiment used."""

from __future__ import annotations

from chaosbus.monitors.remedies import REMEDIES
from chaosbus.platforms.presets import PresetUse
from chaosbus.report import RunReport, to_html, to_markdown
from tests.unit.test_report_render import sample


def with_preset() -> RunReport:
    use = PresetUse(
        preset="zapier-autoreplay",
        platform="zapier",
        compress=2880,
        horizon_s=38100,
        faults=("zapier-autoreplay@5m",),
    )
    return sample().model_copy(update={"platform_presets": [use]})


class TestRemedies:
    def test_json_carries_advice_for_the_anomalies_found(self) -> None:
        """duplicate_effect counted 2: its advice is in the JSON; lost_event (0) is not."""
        report = sample()
        data = report.model_dump(mode="json")
        assert list(data["remedies"]) == ["duplicate_effect"]
        advice = data["remedies"]["duplicate_effect"]
        assert advice["explanation"] == REMEDIES["duplicate_effect"].explanation
        assert advice["automation"]["zapier"].startswith("In Webhooks by Zapier add a header")

    def test_a_report_read_back_recomputes_them(self) -> None:
        """The JSON contract round-trips: `remedies` is derived, not input."""
        report = with_preset()
        again = RunReport.model_validate_json(report.model_dump_json())
        assert again == report
        assert again.remedies == report.remedies

    def test_markdown_says_what_to_change_for_the_platform_named(self) -> None:
        """A Zapier preset: the Zapier advice, and the compression sentence."""
        text = to_markdown(with_preset())
        assert "What to change for `duplicate_effect`:" in text
        assert "- In the automation (zapier): In Webhooks by Zapier add a header" in text
        assert (
            "- zapier-autoreplay (zapier): time compressed ÷2880: copies the platform sends" in text
        )

    def test_markdown_without_presets_gives_the_general_advice(self) -> None:
        """No platform named: the advice for any sender."""
        text = to_markdown(sample())
        assert f"- In the automation: {REMEDIES['duplicate_effect'].automation['any']}" in text
        assert "Platform presets:" not in text

    def test_html_has_a_section_per_anomaly_found(self) -> None:
        """One heading per remedy, and the presets' list."""
        page = to_html(with_preset())
        assert 'id="remedy-duplicate_effect"' in page
        assert '<ul id="presets"><li>zapier-autoreplay (zapier): time compressed ÷2880' in page
