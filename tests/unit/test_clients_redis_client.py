"""`clients.redis_client`: URL checks, the CA from the environment, failures named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from redis.asyncio.connection import SSLConnection
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    NoPermissionError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redis_client import (
    CA_ENV,
    describe_failure,
    failure_kind,
    redis_client,
    redis_options,
)

SECRET = "S3cret-unit"


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("not parsed until a connection is made\n")
    return path


def untrusted() -> RedisConnectionError:
    """A ConnectionError as redis-py raises it when the handshake rejects the certificate."""
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed")
        except ssl.SSLCertVerificationError as inner:
            raise RedisConnectionError("Error 1 connecting to h:1. verify failed.") from inner
    except RedisConnectionError as outer:
        return outer


class TestRedisOptions:
    def test_plain_url_needs_nothing(self) -> None:
        """A plain URL with a password passes as it is: redis-py parses user and password."""
        assert redis_options(f"redis://chaos:{SECRET}@h:6379/0", environ={}) == {}

    def test_password_as_query_option(self) -> None:
        """redis-py also reads the password from the query; it is accepted, and masked."""
        assert redis_options(f"redis://chaos@h:1/0?password={SECRET}", environ={}) == {}
        with pytest.raises(RedisUrlError) as caught:
            redis_options(f"redis://h:1/0?password={SECRET}&ssl_certfile=/c.pem", environ={})
        assert SECRET not in str(caught.value)

    def test_unix_socket(self) -> None:
        """A Unix socket URL (Redis on the same host) passes; it has no host to check."""
        assert redis_options(f"unix://:{SECRET}@/run/redis.sock?db=2", environ={}) == {}

    def test_ca_from_environment(self, ca_file: Path) -> None:
        """A rediss:// URL without ssl_ca_certs takes the CA file of CHAOSBUS_REDIS_CA."""
        options = redis_options("rediss://h:6380/0", environ={CA_ENV: str(ca_file)})
        assert options == {"ssl_ca_certs": str(ca_file)}

    def test_url_ca_wins(self, ca_file: Path, tmp_path: Path) -> None:
        """ssl_ca_certs in the URL wins over the environment."""
        url = f"rediss://h:6380/0?ssl_ca_certs={ca_file}"
        assert redis_options(url, environ={CA_ENV: str(tmp_path / "other.pem")}) == {}

    def test_environment_ignored_without_tls(self, tmp_path: Path) -> None:
        """CHAOSBUS_REDIS_CA does not turn a redis:// URL into TLS, nor fail it."""
        assert redis_options("redis://h:1/0", environ={CA_ENV: str(tmp_path / "no.pem")}) == {}

    @pytest.mark.parametrize(
        ("url", "names"),
        [
            (f"http://:{SECRET}@h:1/0", "must start with redis://, rediss:// "),
            (f"unix://:{SECRET}@?db=1", "names no socket path"),
            (f"redis://:{SECRET}@h:1/0?ssl_ca_certs=/x.pem", "ssl_ca_certs needs TLS"),
            (f"rediss://:{SECRET}@h:1/0?bogus=1", "unknown option 'bogus'"),
            (f"rediss://:{SECRET}@h:1/0?ssl_cert_reqs=maybe", "ssl_cert_reqs must be one of"),
            (f"rediss://:{SECRET}@h:1/0?ssl_ca_certs=/nonexistent/ca.pem", "does not exist"),
            (f"redis://:{SECRET}@h:port/0", "does not parse"),
            (f"redis://:{SECRET}@/0", "names no host"),
            # Issue 21: a `/`, `#` or `?` left unescaped in the password (the parser took
            # the rest for a path, a fragment or a query, and its complaint quoted it).
            (f"redis://:{SECRET[:3]}/{SECRET[3:]}@h:1/0", "unescaped"),
            (f"redis://:{SECRET[:3]}#{SECRET[3:]}@h:1/0", "unescaped"),
            (f"redis://u:{SECRET[:3]}?{SECRET[3:]}@h:1/0", "unescaped"),
            (f"redis://u:1234/{SECRET}@h:1/0", "unescaped"),
        ],
    )
    def test_bad_url_named_without_secret(self, url: str, names: str) -> None:
        """A URL that cannot work is one line naming the problem, with the password hidden."""
        with pytest.raises(RedisUrlError, match=names) as caught:
            redis_options(url, environ={})
        assert SECRET not in str(caught.value)
        assert SECRET[:3] not in str(caught.value).replace("redis", "")
        assert SECRET[3:] not in str(caught.value)

    def test_missing_environment_ca(self, tmp_path: Path) -> None:
        """A CHAOSBUS_REDIS_CA that names no file says so."""
        with pytest.raises(RedisUrlError, match=f"{CA_ENV} names a CA file that does not"):
            redis_options("rediss://h:1/0", environ={CA_ENV: str(tmp_path / "gone.pem")})


class TestRedisClient:
    def test_tls_user_password_and_ca(self, ca_file: Path) -> None:
        """The client carries the ACL user, the password, TLS and the CA file."""
        client = redis_client(
            f"rediss://chaos:{SECRET}@h:6380/3?ssl_cert_reqs=required",
            environ={CA_ENV: str(ca_file)},
            socket_timeout=0.5,
        )
        pool = client.connection_pool
        kwargs = pool.connection_kwargs
        assert pool.connection_class is SSLConnection
        assert (kwargs["username"], kwargs["password"], kwargs["db"]) == ("chaos", SECRET, 3)
        assert (kwargs["ssl_ca_certs"], kwargs["ssl_cert_reqs"]) == (str(ca_file), "required")
        assert kwargs["socket_timeout"] == 0.5


class TestFailures:
    @pytest.mark.parametrize(
        ("exc", "kind"),
        [
            (AuthenticationError("invalid username-password pair"), "credentials"),
            (AuthenticationWrongNumberOfArgsError("wrong number of arguments"), "credentials"),
            (ResponseError("WRONGPASS invalid username-password pair"), "credentials"),
            (ResponseError("NOAUTH Authentication required."), "credentials"),
            (NoPermissionError("this user has no permissions to run 'xadd'"), "permission"),
            (untrusted(), "certificate"),
            (RedisConnectionError("Error 111 connecting. Connection refused."), "unreachable"),
            (TimeoutError(), "unreachable"),
        ],
    )
    def test_kind(self, exc: BaseException, kind: str) -> None:
        """Each Redis error is read as refused credentials, a certificate or no answer."""
        assert failure_kind(exc) == kind

    def test_wrong_password_line(self) -> None:
        """A refused password: which Redis (redacted), what was refused, and Redis's words."""
        line = describe_failure(
            f"redis://chaos:{SECRET}@h:1/0", AuthenticationError("invalid pair or user disabled.")
        )
        assert line == (
            "Redis at redis://chaos:***@h:1/0 refused the user or password: "
            "invalid pair or user disabled"
        )

    def test_no_password_line(self) -> None:
        """Redis asks for a password the URL does not give: the line says so."""
        line = describe_failure("redis://h:1/0", AuthenticationError("NOAUTH"))
        assert "refused a password, and the URL gives none" in line

    def test_untrusted_line(self) -> None:
        """An untrusted certificate names the remedy: the CA file, in the URL or the env."""
        line = describe_failure(f"rediss://:{SECRET}@h:1/0", untrusted())
        assert line.startswith("Redis at rediss://:***@h:1/0 presents a certificate that is not")
        assert CA_ENV in line
        assert SECRET not in line

    def test_secret_in_library_message(self) -> None:
        """A URL that a library echoes in its message is redacted too."""
        exc = RedisConnectionError(f"cannot reach redis://:{SECRET}@h:1/0")
        assert SECRET not in describe_failure(f"redis://:{SECRET}@h:1/0", exc)
