"""Where the history is: an SQLite file (the default, no server) or a PostgreSQL database.

    postgresql://USER:PASSWORD@HOST:PORT/DB   (or postgres://…)   a team's shared history
    sqlite:///abs/path.sqlite, or any other text: a file path      one machine's history

The default is `history.sqlite` under `CHAOSBUS_HOME` (`~/.chaosbus`); `chaosbus.settings`
picks flag, then `CHAOSBUS_HISTORY`, then the default. A URL of another scheme is refused
in one line. Pure: nothing is opened here (`history.store.open_history` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chaosbus.clients.redaction import redact_url
from chaosbus.errors import InvalidInput

FILE_NAME = "history.sqlite"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


@dataclass(frozen=True)
class Location:
    kind: Literal["sqlite", "postgresql"]
    target: str  # the file path, or the PostgreSQL URL (it may hold a password)

    def describe(self) -> str:
        """Where, as a line may say it: a URL's password is masked."""
        return redact_url(self.target) if self.kind == "postgresql" else self.target


def parse_location(text: str, *, origin: str = "--history") -> Location:
    text = text.strip()
    if not text:
        raise InvalidInput(f"{origin}: empty; give a file path or postgresql://…")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return Location("sqlite", str(Path(text).expanduser()))
    name = scheme.group(1).lower()
    if name in ("postgresql", "postgres"):
        return Location("postgresql", text)
    if name == "sqlite":
        path = text[len(scheme.group(0)) :]
        if not path:
            raise InvalidInput(f"{origin}: sqlite:// names no file")
        return Location("sqlite", str(Path(path).expanduser()))
    raise InvalidInput(
        f"{origin} {redact_url(text)!r}: a history is a file path or postgresql://…, not {name}://"
    )


def default_location(home: Path) -> Location:
    return Location("sqlite", str(home / FILE_NAME))
