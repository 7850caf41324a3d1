"""The run report: the JSON contract, and its Markdown and self-contained HTML renderings."""

from chaosbus.report.html import to_html
from chaosbus.report.markdown import to_markdown
from chaosbus.report.model import (
    EXIT_CODES,
    REPORT_VERSION,
    GuardrailResult,
    HypothesisResult,
    PhaseSpan,
    RunReport,
    TimelinePoint,
)
from chaosbus.report.write import write_report

__all__ = [
    "EXIT_CODES",
    "REPORT_VERSION",
    "GuardrailResult",
    "HypothesisResult",
    "PhaseSpan",
    "RunReport",
    "TimelinePoint",
    "to_html",
    "to_markdown",
    "write_report",
]
