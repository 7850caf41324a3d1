"""Write a report as `PATH` (JSON, the contract) plus `PATH.md` and `PATH.html` beside it."""

from __future__ import annotations

from pathlib import Path

from chaosbus.report.html import to_html
from chaosbus.report.markdown import to_markdown
from chaosbus.report.model import RunReport


def sibling(path: Path, suffix: str) -> Path:
    """`out.json` → `out.md`; a path without `.json` gets the suffix appended."""
    return path.with_suffix(suffix) if path.suffix == ".json" else Path(f"{path}{suffix}")


def write_report(report: RunReport, path: Path) -> list[Path]:
    """Write the three files; returns their paths, JSON first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(report)
    md, page = sibling(path, ".md"), sibling(path, ".html")
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    md.write_text(markdown, encoding="utf-8")
    page.write_text(to_html(report), encoding="utf-8")
    return [path, md, page]
