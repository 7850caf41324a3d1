"""A real redis-server secured like a team's: a password, an ACL user, and a TLS-only port.

Started by `RedisNode`, the launcher of the local stack; the certificates (a CA, a server
certificate for 127.0.0.1 and localhost it signed, and a second CA nobody used) are made on
the spot by Debian's `openssl`, so no key material is stored in the repository.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from chaosbus.local.redis_node import RedisNode, RedisTls
from chaosbus.testing import free_port_pair

# Distinctive, so a search of everything a run wrote cannot match by accident.
PASSWORD = "Pw-default-7c1e9d"  # the default user's (requirepass)
ACL_USER, ACL_PASSWORD = "chaos", "Pw-acl-0b5f3a"
READER, READER_PASSWORD = "reader", "Pw-reader-93ad4e"  # may read, may not write
SECRETS = (PASSWORD, ACL_PASSWORD, READER_PASSWORD)


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path
    other_ca: Path  # a CA that signed nothing the server presents


@dataclass(frozen=True)
class SecureRedis:
    plain: RedisNode  # password and ACL user on plain TCP
    tls: RedisNode  # the same, TLS only
    certificates: Certificates

    def url(self, *, tls: bool = False, user: str | None = None, password: str = PASSWORD) -> str:
        node = self.tls if tls else self.plain
        scheme = "rediss" if tls else "redis"
        query = f"?ssl_ca_certs={self.certificates.ca}" if tls else ""
        return f"{scheme}://{quote(user or '')}:{quote(password)}@127.0.0.1:{node.port}/0{query}"

    def acl_url(self, *, tls: bool = False) -> str:
        return self.url(tls=tls, user=ACL_USER, password=ACL_PASSWORD)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(home: Path) -> Certificates:
    home.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other-ca"):
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN=chaosbus test {name}",
            cwd=home,
        )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost",
        cwd=home,
    )  # fmt: skip
    (home / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.crt",
        cwd=home,
    )  # fmt: skip
    return Certificates(home / "ca.crt", home / "server.crt", home / "server.key",
                        home / "other-ca.crt")  # fmt: skip


@pytest.fixture(scope="session")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRedis]:
    """Two redis-servers with a password and ACL users: one on TCP, one TLS only."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificates (Debian package openssl)")
    home = tmp_path_factory.mktemp("secure-redis")
    certificates = make_certificates(home / "certs")
    acl = (
        f"{ACL_USER} on >{ACL_PASSWORD} ~* &* +@all",
        f"{READER} on >{READER_PASSWORD} ~* &* +@read +@connection",
    )
    plain = RedisNode(home / "plain", free_port_pair(), password=PASSWORD, acl_users=acl)
    tls = RedisNode(
        home / "tls",
        free_port_pair(),
        password=PASSWORD,
        acl_users=acl,
        tls=RedisTls(certificates.cert, certificates.key, certificates.ca),
    )
    plain.start()
    try:
        tls.start()
        try:
            yield SecureRedis(plain, tls, certificates)
        finally:
            tls.stop()
    finally:
        plain.stop()
