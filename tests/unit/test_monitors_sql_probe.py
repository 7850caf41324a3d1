"""The SQL probe's pure parts: what is shown of a libpq error, and (issue 21) what query it
will run at all."""

from __future__ import annotations

from chaosbus.monitors.probes.sql_probe import _secret_words, scrub


class TestScrub:
    def test_the_password_and_each_of_its_words_are_masked(self) -> None:
        """libpq quotes the word it stopped at; every word of the password is masked."""
        words = _secret_words("host=h user=u password='Pw s3cret'")
        line = 'FATAL: password "Pw s3cret" for "u"; near "s3cret"'
        assert scrub(line, words) == 'FATAL: password "***" for "u"; near "***"'

    def test_no_password_nothing_masked(self) -> None:
        """A DSN without a password (trust, a .pgpass file) leaves the line as it is."""
        assert scrub("could not connect", _secret_words("postgresql://u@h/db")) == (
            "could not connect"
        )
