"""The report's advice as plain lines, for every renderer: what to change, and the time scale.

`remedies` are per anomaly found: the explanation, the service's changes, and the
automation's, for each platform the experiment's presets named (else the advice for any
sender); `presets` are the sentences a reader needs to read the times of a compressed run.
"""

from __future__ import annotations

from chaosbus.report.model import RunReport


def preset_lines(report: RunReport) -> list[str]:
    return [use.sentence() for use in report.platform_presets]


def remedy_lines(report: RunReport) -> list[tuple[str, list[str]]]:
    """(anomaly, its lines) for every anomaly found that has advice."""
    platforms = sorted({use.platform for use in report.platform_presets})
    out: list[tuple[str, list[str]]] = []
    for name, text in report.remedies.items():
        lines = [text.explanation]
        lines += [f"In the service: {change}" for change in text.service]
        named = [p for p in platforms if p in text.automation]
        if named:
            lines += [f"In the automation ({p}): {text.automation[p]}" for p in named]
        elif "any" in text.automation:
            lines.append(f"In the automation: {text.automation['any']}")
        out.append((name, lines))
    return out
