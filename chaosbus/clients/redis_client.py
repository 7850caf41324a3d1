"""Every Redis client chaosbus creates, from one URL: AUTH, ACL users and TLS included.

    redis://[[USER]:PASSWORD@]HOST:PORT/DB
    rediss://[[USER]:PASSWORD@]HOST:PORT/DB?ssl_ca_certs=/path/ca.pem
    unix://[[USER]:PASSWORD@]/path/redis.sock?db=DB

`rediss://` is TLS. The CA file comes from `ssl_ca_certs` in the URL, else from the
environment variable `CHAOSBUS_REDIS_CA`, else the system's trust store. Other TLS options
in the query: `ssl_cert_reqs` (`required` by default, `optional`, `none`),
`ssl_check_hostname`, `ssl_certfile`/`ssl_keyfile` (a client certificate). redis-py parses
the URL; this module checks it first, so a typo is one line naming the option instead of a
`TypeError` at the first command, and names what went wrong when Redis refuses
(`describe_failure`). Every URL in a message passes through `redact_url`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import redis.asyncio as aioredis
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    AuthorizationError,
    NoPermissionError,
    RedisError,
    ResponseError,
)

from chaosbus.clients.errors import RedisUrlError
from chaosbus.clients.redaction import misplaced_userinfo, redact_text, redact_url

CA_ENV = "CHAOSBUS_REDIS_CA"
SCHEMES = ("redis", "rediss", "unix")
CERT_REQS = ("none", "optional", "required")
# Query options redis-py understands on any connection, and those only TLS accepts.
PLAIN_OPTIONS = frozenset(
    {
        "db",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "retry_on_timeout",
        "max_connections",
        "health_check_interval",
        "client_name",
        "protocol",
        "username",  # redis-py also takes the credentials as query options
        "password",
    }
)
TLS_OPTIONS = frozenset(
    {
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_cert_reqs",
        "ssl_check_hostname",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_password",  # of the client key
    }
)
FILE_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")

NOT_PARSED = "the Redis URL does not parse (not shown: it may hold a password)"
ESCAPE_HINT = "or the user or password holds / # ? @ unescaped (write them %2F %23 %3F %40)"
UNESCAPED = f"{NOT_PARSED}: {ESCAPE_HINT.removeprefix('or ')}"

Failure = Literal["credentials", "permission", "certificate", "tls", "unreachable"]


def redis_options(url: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The keyword arguments chaosbus adds to `redis.asyncio.from_url(url, ...)`.

    Checks the URL (scheme, known options, files that exist) and adds the CA file of
    `CHAOSBUS_REDIS_CA` to a `rediss://` URL that names none. Raises `RedisUrlError`.
    """
    env = os.environ if environ is None else environ
    # A URL that does not parse is not shown, nor is the parser's complaint: both would
    # carry the part of the password the parser took for a port, a path or a query.
    if misplaced_userinfo(url):
        raise RedisUrlError(UNESCAPED)
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError as exc:
        raise RedisUrlError(f"{NOT_PARSED}: its port is not a number, {ESCAPE_HINT}") from exc
    if parts.scheme not in SCHEMES:
        raise RedisUrlError(
            f"Redis URL {shown} must start with redis://, rediss:// (TLS) or unix://, "
            f"not {parts.scheme or 'nothing'}"
        )
    if parts.scheme == "unix" and not parts.path:
        raise RedisUrlError(f"Redis URL {shown} names no socket path")
    if parts.scheme != "unix" and not parts.hostname:
        raise RedisUrlError(f"Redis URL {shown} names no host")
    tls = parts.scheme == "rediss"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name in query:
        if name in TLS_OPTIONS and not tls:
            raise RedisUrlError(f"Redis URL {shown}: {name} needs TLS, i.e. rediss://")
        if name not in PLAIN_OPTIONS | TLS_OPTIONS:
            known = ", ".join(sorted(PLAIN_OPTIONS | TLS_OPTIONS))
            raise RedisUrlError(f"Redis URL {shown}: unknown option {name!r} (known: {known})")
    reqs = query.get("ssl_cert_reqs")
    if reqs is not None and reqs not in CERT_REQS:
        raise RedisUrlError(
            f"Redis URL {shown}: ssl_cert_reqs must be one of {', '.join(CERT_REQS)}, not {reqs!r}"
        )
    options: dict[str, Any] = {}
    ca_env = env.get(CA_ENV)
    if tls and "ssl_ca_certs" not in query and ca_env:
        _require_file(ca_env, f"{CA_ENV} names a CA file that")
        options["ssl_ca_certs"] = ca_env
    for name in FILE_OPTIONS:
        if name in query:
            _require_file(query[name], f"Redis URL {shown}: {name}")
    return options


def redis_client(
    url: str,
    *,
    decode_responses: bool = False,
    socket_timeout: float | None = None,
    socket_connect_timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> aioredis.Redis:
    """A `redis.asyncio.Redis` for `url` (not connected yet). Raises `RedisUrlError`.

    Options in the URL's query win over these keyword arguments (redis-py's rule).
    """
    options = redis_options(url, environ)
    return aioredis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout,
        **options,
    )


def failure_kind(exc: BaseException) -> Failure:
    """What a Redis error says went wrong: refused credentials, a certificate, or no answer."""
    if isinstance(exc, AuthenticationError | AuthenticationWrongNumberOfArgsError):
        return "credentials"
    if isinstance(exc, AuthorizationError | NoPermissionError):
        return "permission"
    if isinstance(exc, ResponseError):
        head = str(exc).split(" ", 1)[0]
        if head in ("WRONGPASS", "NOAUTH"):
            return "credentials"
        if head == "NOPERM":
            return "permission"
    chain = [exc, exc.__cause__, exc.__context__]
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return "certificate"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "tls"
    return "unreachable"


def describe_failure(url: str, exc: BaseException) -> str:
    """One line naming what is wrong, with the URL redacted: `Redis at … refused …`."""
    shown = redact_url(url)
    detail = redact_text(str(exc)).rstrip(".") or type(exc).__name__
    kind = failure_kind(exc)
    if kind == "credentials":
        parts = urlsplit(url)
        has_password = bool(parts.password) or "password" in dict(parse_qsl(parts.query))
        what = "the user or password" if has_password else "a password, and the URL gives none"
        return f"Redis at {shown} refused {what}: {detail}"
    if kind == "permission":
        return f"Redis at {shown} denies its user a command chaosbus needs: {detail}"
    if kind == "certificate":
        return (
            f"Redis at {shown} presents a certificate that is not trusted (set ssl_ca_certs "
            f"in the URL or {CA_ENV} to its CA file): {detail}"
        )
    if kind == "tls":
        return f"Redis at {shown}: TLS failed (is it a TLS port? rediss:// is TLS): {detail}"
    return f"Redis at {shown} does not answer: {detail}"


async def ping_failure(url: str, *, timeout_s: float = 2) -> str | None:
    """None when Redis at `url` answers a PING, else `describe_failure`'s line."""
    try:
        client = redis_client(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    except RedisUrlError as exc:
        return str(exc)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return describe_failure(url, exc)
    finally:
        await client.aclose()
    return None


def _require_file(path: str, what: str) -> None:
    if not Path(path).is_file():
        raise RedisUrlError(f"{what} does not exist or is not a file: {path}")
