"""Import names that cannot collide (decision 0170): the wheel installs the three layers as
`chaosbus.injectors`, `chaosbus.streams` and `chaosbus.monitors` only, so a user's own
`monitors` package (also a name on PyPI) and a local `streams/` folder live beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the tracked files: an in-place build would leave `build/` in
    the tree, and a stale `build/lib` can carry modules the tree no longer has."""
    source = tmp_path_factory.mktemp("source") / "chaosbus"
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = out.glob("chaosbus-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel alone in a folder of its own (its dependencies come from this environment)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
         "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


class TestWheelNamespace:
    def test_the_wheel_has_no_top_level_layer_packages(self, wheel: Path) -> None:
        """Every module of the wheel sits under chaosbus/ or chaosbus_demo/, and the three
        layers are in it under chaosbus/."""
        names = zipfile.ZipFile(wheel).namelist()
        tops = {name.split("/")[0] for name in names if ".dist-info/" not in name}
        assert tops == {"chaosbus", "chaosbus_demo"}
        for layer in ("injectors", "streams", "monitors"):
            assert f"chaosbus/{layer}/__init__.py" in names

    def test_runs_beside_a_foreign_monitors_package_and_a_local_streams_folder(
        self, installed: Path, tmp_path: Path
    ) -> None:
        """A user's `monitors` and `streams` packages that fail on import are never loaded by
        chaosbus, and remain theirs: validate and a layer import both work from that folder."""
        user = tmp_path / "user-project"
        for name in ("monitors", "streams", "injectors"):
            (user / name).mkdir(parents=True)
            (user / name / "__init__.py").write_text(
                f"raise ImportError('the user\\'s own {name} was imported by chaosbus')\n"
                if name != "monitors"
                else "OWNER = 'user'\n"
            )
        env = {**os.environ, "PYTHONPATH": f"{user}{os.pathsep}{installed}"}
        probe = (
            "import chaosbus, chaosbus.monitors, chaosbus.streams.interposer, monitors;"
            "print(chaosbus.__file__); print(monitors.OWNER)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=user, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [str(installed / "chaosbus" / "__init__.py"), "user"]
        validate = subprocess.run(
            [sys.executable, "-m", "chaosbus", "validate", "duplicate-storm"],
            cwd=user, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert validate.returncode == 0, validate.stderr
