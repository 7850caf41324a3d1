"""A run beside its baseline: the side-by-side table the report carries, and its renderings.

`RunReport.baseline` holds one when the run was compared (`run --baseline`, `rerun`); the
JSON has it as it is, the Markdown and the HTML as a table (`comparison_markdown`,
`comparison_html`), the JUnit file as a test case. Which measures are compared and when a
difference is a regression is `chaosbus.history.gate`'s; this module only says it.
"""

from __future__ import annotations

import html

from pydantic import BaseModel, ConfigDict

from chaosbus.report.status import Status


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComparisonRow(_Frozen):
    measure: str  # a metric name of the experiment vocabulary, or `status`
    baseline: float | str | None
    current: float | str | None
    allowed: str = ""  # the bound the tolerance gives, e.g. "≤ 11"; "" when not gated
    regression: bool = False
    note: str = ""  # e.g. "new anomaly class", "did not recover"


class Comparison(_Frozen):
    baseline_id: str  # the history id of the baseline run
    baseline_started_at: str
    baseline_status: Status
    chosen: str  # how it was chosen: last, best, a run id, the original of a rerun
    comparable: str  # the rule that made the two comparable, in a sentence
    tolerance: str  # the tolerance, in a sentence
    rows: list[ComparisonRow]
    gate: bool = False  # True: a regression fails the run (--fail-on-regression)

    @property
    def regressions(self) -> list[ComparisonRow]:
        return [row for row in self.rows if row.regression]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def headline(self) -> str:
        """One line: regressed or not, against which run."""
        against = f"baseline {self.baseline_id} ({self.chosen}, {self.baseline_started_at})"
        if not self.regressed:
            return f"no regression against {against}"
        names = ", ".join(row.measure for row in self.regressions)
        return f"REGRESSION against {against}: {names}"


def shown(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def comparison_markdown(comparison: Comparison) -> list[str]:
    lines = [
        "## Baseline",
        "",
        f"**{comparison.headline()}**",
        "",
        f"Comparable: {comparison.comparable} Tolerance: {comparison.tolerance}",
        "",
        "| measure | baseline | this run | allowed | |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for row in comparison.rows:
        mark = "**regression**" if row.regression else ""
        note = f"{mark} {row.note}".strip()
        lines.append(
            f"| {row.measure} | {shown(row.baseline)} | {shown(row.current)} | {row.allowed} "
            f"| {note} |"
        )
    return [*lines, ""]


def comparison_html(comparison: Comparison) -> str:
    e = html.escape
    rows = "".join(
        f'<tr class="{"bad" if row.regression else ""}"><td>{e(row.measure)}</td>'
        f'<td class="n">{e(shown(row.baseline))}</td><td class="n">{e(shown(row.current))}</td>'
        f"<td>{e(row.allowed)}</td><td>{'regression ' if row.regression else ''}"
        f"{e(row.note)}</td></tr>"
        for row in comparison.rows
    )
    return (
        f'<h2 id="baseline">Baseline</h2><p><strong>{e(comparison.headline())}</strong></p>'
        f"<p>Comparable: {e(comparison.comparable)} Tolerance: {e(comparison.tolerance)}</p>"
        "<table><tr><th>measure</th><th>baseline</th><th>this run</th><th>allowed</th>"
        f"<th></th></tr>{rows}</table>"
    )
