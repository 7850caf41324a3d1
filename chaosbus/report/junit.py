"""The report in the language CI speaks: JUnit XML, one test suite per experiment.

    <testsuites>                                   one file: a run, or a whole suite
      <testsuite name=EXPERIMENT>                  one per report, with run id, seed, status
        <testcase name="verdict">                  the status row's `junit` outcome
        <testcase name="hypothesis after: NAME">   one per hypothesis judged
        <testcase name="check: NAME">              one per check: its anomalies
        <testcase name="baseline">                 with --baseline; a failure under the gate

A failure carries the anomaly examples with their causes as its text, so a CI report tool
shows why without opening the HTML. How a verdict counts (passed, failure, error) is the
table of statuses' (`report.status`); a hypothesis that did not hold is a failure, one with
no value to judge an error. Element names and attributes are those JUnit readers share
(the Ant/Surefire shape); `tests/unit/test_report_junit.py` reads the file with junitparser.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from chaosbus.monitors.report import AnomalyExample, MonitorReport
from chaosbus.report.comparison import shown
from chaosbus.report.markdown import MAX_DECISIONS, decision_line, number
from chaosbus.report.model import HypothesisResult, RunReport

MAX_EXAMPLES = 10  # per failure: enough to see the pattern, small enough to read in CI
PER_CLASS = 2  # so that every anomaly class shows, not ten of the first one


def to_junit(reports: Sequence[RunReport], *, name: str = "chaosbus") -> str:
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = 0.0
    for report in reports:
        suite = _suite(report)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time += report.duration_s
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(reports: Sequence[RunReport], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_junit(reports), encoding="utf-8")
    return path


def _suite(report: RunReport) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=report.name,
        timestamp=report.started_at,
        time=f"{report.duration_s:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", report.run_id),
        ("seed", str(report.seed)),
        ("status", report.status),
        ("verdict", f"{report.status_row.badge}: {report.status_row.wording}"),
        ("exit_code", str(report.exit_code)),
        ("hypothesis", report.hypothesis),
    ):
        ET.SubElement(properties, "property", name=key, value=value)
    cases = [_verdict(report)]
    cases += [_hypothesis(report, h) for h in report.hypotheses]
    cases += [_check(report, name, check) for name, check in report.checks.items()]
    if report.baseline is not None:
        cases.append(_baseline(report))
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", str(sum(case.find("error") is not None for case in cases)))
    suite.set("skipped", "0")
    return suite


def _case(report: RunReport, name: str) -> ET.Element:
    return ET.Element("testcase", classname=f"chaosbus.{report.name}", name=name, time="0")


def _verdict(report: RunReport) -> ET.Element:
    case = _case(report, "verdict")
    case.set("time", f"{report.duration_s:.3f}")
    row = report.status_row
    if row.junit != "passed":
        message = f"{row.badge} (exit {row.exit_code}): {report.reason or row.wording}"
        text = "\n".join(
            [f"{row.badge}: {row.wording}.", *example_lines(report.anomalies.examples)]
        )
        _outcome(case, row.junit, message, report.status, text)
    return case


def _hypothesis(report: RunReport, h: HypothesisResult) -> ET.Element:
    case = _case(report, f"hypothesis {h.phase}: {h.name}")
    observed = f"{h.metric} = {number(h.observed)} (expected {h.threshold})"
    if h.held is False:
        text = "\n".join([observed, *example_lines(report.anomalies.examples)])
        _outcome(case, "failure", observed, "hypothesis", text)
    elif h.held is None:
        _outcome(case, "error", f"{h.metric}: no value to judge", "hypothesis", observed)
    return case


def _check(report: RunReport, name: str, check: MonitorReport) -> ET.Element:
    case = _case(report, f"check: {name}")
    found = {kind: n for kind, n in check.anomalies.counts.items() if n}
    if check.anomalies.total:
        message = ", ".join(f"{kind} {n}" for kind, n in sorted(found.items()))
        text = "\n".join(example_lines(check.anomalies.examples))
        _outcome(case, "failure", f"{check.model} check {name}: {message}", "anomalies", text)
    return case


def _baseline(report: RunReport) -> ET.Element:
    comparison = report.baseline
    assert comparison is not None
    case = _case(report, "baseline")
    if comparison.regressed and comparison.gate:
        lines = [
            f"{row.measure}: {shown(row.baseline)} → {shown(row.current)} (allowed "
            f"{row.allowed}) {row.note}".rstrip()
            for row in comparison.regressions
        ]
        text = "\n".join([comparison.comparable, comparison.tolerance, *lines])
        _outcome(case, "failure", comparison.headline(), "regression", text)
    return case


def _outcome(case: ET.Element, kind: str, message: str, type_: str, text: str) -> None:
    element = ET.SubElement(case, kind, message=message, type=type_)
    element.text = text


def example_lines(examples: dict[str, tuple[AnomalyExample, ...]]) -> Iterable[str]:
    """The examples in plain text, each with its cause and decisions (at most PER_CLASS of
    each class, MAX_EXAMPLES in all): what a JUnit failure and the pytest plugin's assertion
    message show."""
    shown_count = 0
    for kind, found in examples.items():
        for example in found[:PER_CLASS]:
            if shown_count == MAX_EXAMPLES:
                return
            shown_count += 1
            ids = ", ".join(example.event_ids) or "-"
            yield (
                f"{kind}: unit {example.unit} (events {ids}): expected {example.expected}, "
                f"observed {example.observed} - {example.detail}"
            )
            if example.cause is not None:
                yield f"  cause: {example.cause.mechanism}"
                yield from (
                    f"    {decision_line(d)}" for d in example.cause.decisions[:MAX_DECISIONS]
                )
