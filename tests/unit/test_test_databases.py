"""Each Redis database the integration tests empty belongs to one module (they run in parallel)."""

from __future__ import annotations

from tests.integration import databases


def test_no_two_modules_share_a_database() -> None:
    assert len(set(databases.OWNED)) == len(databases.OWNED)
    assert 0 not in databases.OWNED
    assert all(0 < db < 16 for db in databases.OWNED)  # redis-server's default 16 databases


def test_a_database_url_keeps_the_server_and_names_the_database() -> None:
    assert databases.database("redis://:pw@127.0.0.1:6379/0", 9) == "redis://:pw@127.0.0.1:6379/9"
