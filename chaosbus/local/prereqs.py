"""Finding the programs the local stack runs, with one actionable line when one is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from chaosbus.errors import PrerequisiteMissing

MIN_JAVA = 17


def java_executable() -> Path:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home, "bin", "java") if java_home else None
    found = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if not found:
        raise PrerequisiteMissing(
            "java not found: install a Java 17+ runtime "
            "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    major = java_major_version(Path(found))
    if major < MIN_JAVA:
        raise PrerequisiteMissing(
            f"{found} is Java {major}: Kafka 4 needs Java {MIN_JAVA}+ (set JAVA_HOME to one)"
        )
    return Path(found)


def java_major_version(java: Path) -> int:
    out = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, check=False
    ).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise PrerequisiteMissing(f"cannot tell the version of {java}: {out.strip()[:80]!r}")
    first, second = int(match.group(1)), int(match.group(2) or 0)
    # Java 8 and older report "1.8.0"; the major version is then the second number.
    return second if first == 1 else first


def require_program(name: str, *, missing: str) -> Path:
    """The program on PATH, or PrerequisiteMissing with `missing`: what to install, and why."""
    found = shutil.which(name)
    if not found:
        raise PrerequisiteMissing(missing)
    return Path(found)


def maven_executable() -> Path:
    return require_program(
        "mvn",
        missing="mvn not found: install Maven (Debian: apt-get install maven); it resolves the "
        "Kafka jars from Maven Central",
    )


def redis_server_executable() -> Path:
    return require_program(
        "redis-server",
        missing="redis-server not found: install it (Debian: apt-get install redis-server)",
    )
