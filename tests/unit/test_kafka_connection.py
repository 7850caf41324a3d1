"""Why a client could not start, against real TLS endpoints on loopback (no broker needed)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings, why_unreachable
from chaosbus.clients.errors import BrokerRefused, BrokerUnreachable
from chaosbus.local.certs import CertificateFiles, make_certificates
from chaosbus.testing import free_port_pair


@asynccontextmanager
async def tls_server(files: CertificateFiles, host: str) -> AsyncIterator[int]:
    """A TLS listener presenting the generated broker certificate; it answers nothing else."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.broker_keystore)

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, host, 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def settings(address: str, files: CertificateFiles) -> KafkaSettings:
    return KafkaSettings(address, security_protocol="SSL", ssl_cafile=str(files.ca))


class TestWhyUnreachable:
    async def test_hostname_mismatch(self, tmp_path: Path) -> None:
        """A certificate for 127.0.0.1/localhost reached at ::1: the mismatch and the way out."""
        files = make_certificates(tmp_path)
        async with tls_server(files, "::1") as port:
            error = await why_unreachable(settings(f"::1:{port}", files))
        assert isinstance(error, BrokerRefused)
        assert str(error) == (
            f"Kafka at ::1:{port}: its TLS certificate does not name this host (IP address "
            "mismatch, certificate is not valid for '::1'.); fix the address or set "
            "ssl.endpoint.identification.algorithm= to skip the check"
        )

    async def test_untrusted_certificate(self, tmp_path: Path) -> None:
        """A broker certificate from a CA the client does not trust names the CA file."""
        files = make_certificates(tmp_path / "broker")
        other = make_certificates(tmp_path / "other")
        async with tls_server(files, "127.0.0.1") as port:
            error = await why_unreachable(settings(f"127.0.0.1:{port}", other))
        assert str(error).startswith(
            f"Kafka at 127.0.0.1:{port}: its TLS certificate is not trusted by the CA in "
            f"{other.ca} ("
        )

    async def test_nobody_listening(self, tmp_path: Path) -> None:
        """No listener at all: the plain unreachable line, with how it was reached."""
        files = make_certificates(tmp_path)
        port = free_port_pair()
        error = await why_unreachable(settings(f"127.0.0.1:{port}", files))
        assert type(error) is BrokerUnreachable
        assert str(error) == f"no Kafka broker answers at 127.0.0.1:{port} (SSL)"
