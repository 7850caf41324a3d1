"""Credentials out of text: every URL chaosbus formats into a log line, an error, a report,
the audit log or a span goes through `redact_url` (or `redact_text` for text that may embed
URLs, such as a library's exception message).

Pure and dependency-free, so every layer (streams, monitors, the app shell, the demo) can
import it. A logging filter would only hide what reaches a handler; reports, audit entries
and spans do not pass through logging, so the sources are fixed instead.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode

MASK = "***"

# Query parameters that carry a secret rather than point at one (a key *file* is a path).
_SECRET_PARAM = re.compile(r"(pass(word|wd)?|pwd|secret|token|api[_-]?key|credential)", re.I)
# A URL in free text: a scheme, `://`, then anything up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """`url` with its password (and secret query values) replaced by `***`.

    The scheme, user, host, port, path (the Redis db) and every other query parameter are
    kept, so the result still says where and as whom. Text that is not a URL is returned as
    it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return url
    end = _authority_end(rest)
    netloc, tail = rest[:end], rest[end:]
    # The last `@` ends the userinfo: an unescaped `@` inside a password stays inside it.
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if colon and password:
            netloc = f"{user}:{MASK}@{host}"
    return f"{scheme}://{netloc}{_redact_query(tail)}"


def _authority_end(rest: str) -> int:
    """Where the host part of `rest` (the URL after `://`) ends.

    By the standard, at the first `/`, `?` or `#`. But a password with one of those left
    unescaped (`redis://:pa/ss@host`) would then leak as the "path": so when an `@` comes
    after that point, the userinfo is taken to run up to the last `@`. A query holding an
    `@` (`?email=a@b`) is then read as userinfo too; hiding too much is the safe mistake.
    """
    end = _first_stop(rest, 0)
    last_at = rest.rfind("@")
    return _first_stop(rest, last_at) if last_at > end else end


def _first_stop(rest: str, start: int) -> int:
    found = [i for i in (rest.find(stop, start) for stop in "/?#") if i != -1]
    return min(found, default=len(rest))


def misplaced_userinfo(url: str) -> bool:
    """Whether `url` has an `@` after its host part ends (at a `/`, `?` or `#`): a user or
    password with one of those characters not percent-encoded. Every URL parser misreads
    it and then shows part of the password as a path, a port or a query."""
    _, sep, rest = url.partition("://")
    return bool(sep) and rest.rfind("@") > _first_stop(rest, 0)


def redact_text(text: str) -> str:
    """`text` with every URL in it passed through `redact_url`."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def _redact_query(tail: str) -> str:
    path, question, query = tail.partition("?")
    if not question:
        return tail
    query, hash_mark, fragment = query.partition("#")
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_SECRET_PARAM.search(name) for name, _ in pairs):
        return tail  # untouched, byte for byte
    cleaned = [(name, MASK if _SECRET_PARAM.search(name) else value) for name, value in pairs]
    # `quote` with `/` safe keeps file paths (ssl_ca_certs=/etc/…) readable.
    encoded = urlencode(cleaned, safe="/*", quote_via=quote)
    return f"{path}?{encoded}{hash_mark}{fragment}"
