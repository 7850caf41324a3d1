"""The run report: the JSON contract, the table of statuses every rendering reads, and its
Markdown and self-contained HTML renderings."""

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
from chaosbus.report.status import STATUSES, Status, StatusRow
from chaosbus.report.write import write_report

__all__ = [
    "EXIT_CODES",
    "REPORT_VERSION",
    "STATUSES",
    "GuardrailResult",
    "HypothesisResult",
    "PhaseSpan",
    "RunReport",
    "Status",
    "StatusRow",
    "TimelinePoint",
    "to_html",
    "to_markdown",
    "write_report",
]
