"""The HTML report opened in a real browser (headless Chromium), with the network off."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from chaosbus.report import to_html
from tests.unit.test_report_render import with_cause

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Every host name resolves to nothing and every request goes to a closed proxy: a page that
# needed the network would render without its scripts.
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--virtual-time-budget=10000",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium)"
)


def browse(page: Path, profile: Path, *action: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *OFFLINE, f"--user-data-dir={profile}", *action, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


class TestInChromium:
    def test_the_verdict_and_the_timeline_render_offline(self, tmp_path: Path) -> None:
        """After its scripts ran, the DOM has the verdict, the examples and a drawn plot."""
        page = tmp_path / "report.html"
        page.write_text(to_html(with_cause()), encoding="utf-8")
        dom = browse(page, tmp_path / "profile", "--dump-dom")
        assert 'id="verdict"' in dom
        assert ">VIOLATED</span>" in dom
        assert 'id="example-1"' in dom
        assert 'id="ledger-1"' in dom
        # plotly draws its SVG into the timeline div only when its inline script ran.
        assert 'class="main-svg"' in dom
