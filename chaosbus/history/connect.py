"""Open the history at a location, migrated to this chaosbus's schema."""

from __future__ import annotations

from chaosbus.history.errors import HistoryError
from chaosbus.history.location import Location
from chaosbus.history.store import SqlHistory


def open_history(location: Location) -> SqlHistory:
    """The store at `location`, its schema at this chaosbus's version (created or upgraded
    on first use); a `HistoryError` in one line when it cannot be."""
    store: SqlHistory
    # Imported on use: a command that reads an SQLite history never loads the driver.
    if location.kind == "postgresql":
        from chaosbus.history.postgres import PostgresHistory

        store = PostgresHistory(location)
    else:
        from chaosbus.history.sqlite import SqliteHistory

        store = SqliteHistory(location)
    try:
        store.migrate()
    except HistoryError:
        store.close()
        raise
    return store
