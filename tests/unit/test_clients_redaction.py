"""`clients.redaction`: no password survives, everything else stays readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaosbus.clients.redaction import MASK, misplaced_userinfo, redact_text, redact_url


class TestRedactUrl:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("redis://admin:S3cret@db.example:6380/2", "redis://admin:***@db.example:6380/2"),
            ("redis://:S3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
            (
                "rediss://chaos:pw@localhost:6390/0?ssl_ca_certs=/etc/ca.pem",
                "rediss://chaos:***@localhost:6390/0?ssl_ca_certs=/etc/ca.pem",
            ),
            ("https://u:tok@otel.example/v1/traces", "https://u:***@otel.example/v1/traces"),
            ("redis://p%40ss:x%2Fy@h:1/0", "redis://p%40ss:***@h:1/0"),
        ],
    )
    def test_password_replaced(self, url: str, expected: str) -> None:
        """The password becomes ***; scheme, user, host, port, db and query stay."""
        assert redact_url(url) == expected

    def test_unescaped_at_in_password(self) -> None:
        """The last @ ends the userinfo, so an @ inside a password is hidden with it."""
        assert redact_url("redis://u:p@ss@host:1/0") == "redis://u:***@host:1/0"

    @pytest.mark.parametrize(
        "url",
        [
            "redis://127.0.0.1:6379/0",
            "redis://chaos@127.0.0.1:6379/0",
            "rediss://h:1/0?ssl_ca_certs=/a/b.pem&ssl_cert_reqs=required",
            "127.0.0.1:9092",
            "not a url",
            "",
        ],
    )
    def test_nothing_secret_is_unchanged(self, url: str) -> None:
        """A URL without a password, or text that is no URL, comes back byte for byte."""
        assert redact_url(url) == url

    def test_secret_query_values(self) -> None:
        """A password given as a query option is masked too; other options are kept."""
        assert (
            redact_url("redis://h:1/0?password=S3cret&db=2&ssl_password=k#frag")
            == "redis://h:1/0?password=***&db=2&ssl_password=***#frag"
        )

    @pytest.mark.parametrize("char", ["/", "?", "#"])
    def test_unescaped_delimiter_in_password(self, char: str) -> None:
        """A `/`, `?` or `#` left in a password does not end the userinfo early (issue 21):
        everything up to the last `@` is hidden, the host and db still shown."""
        assert redact_url(f"redis://u:ab{char}cd@host:1/0") == "redis://u:***@host:1/0"
        assert misplaced_userinfo(f"redis://u:ab{char}cd@host:1/0")
        assert not misplaced_userinfo("redis://u:abcd@host:1/0")

    def test_at_in_a_query_is_no_password(self) -> None:
        """An `@` in the query, without a `:` before it, changes nothing."""
        assert redact_url("https://hooks.example/p?to=a@b.c") == "https://hooks.example/p?to=a@b.c"

    @given(st.text(alphabet=st.characters(blacklist_characters="@"), min_size=1))
    def test_any_password_hidden_whatever_its_characters(self, password: str) -> None:
        """Even with /, ? or # unescaped, no password survives redaction."""
        redacted = redact_url(f"redis://user:{password}@host:6379/0")
        assert redacted == f"redis://user:{MASK}@host:6379/0"

    @given(st.text(alphabet=st.characters(blacklist_characters="/?#@"), min_size=1))
    def test_any_password_hidden(self, password: str) -> None:
        """Whatever the password, it is not in the redacted URL's userinfo."""
        redacted = redact_url(f"redis://user:{password}@host:6379/0")
        assert redacted == f"redis://user:{MASK}@host:6379/0"


class TestRedactText:
    def test_every_url_in_a_sentence(self) -> None:
        """URLs inside free text (an exception message) are redacted, the text kept."""
        text = "tried redis://a:S1@h:1/0 then 'rediss://:S2@k:2/0', gave up"
        assert redact_text(text) == "tried redis://a:***@h:1/0 then 'rediss://:***@k:2/0', gave up"
