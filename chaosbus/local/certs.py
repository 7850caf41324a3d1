"""A throw-away certificate authority for the local secured listener (`local up --secure`).

One CA signs a broker certificate for 127.0.0.1 and localhost and a client certificate; the
files are PEM, which both Kafka 4.x (ssl.keystore.type=PEM) and Python's ssl module read.
The CA key is not kept: nothing signs with it after the stack is made.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365


@dataclass(frozen=True)
class CertificateFiles:
    ca: Path  # the CA certificate clients trust
    broker_keystore: Path  # the broker's key, then its certificate and the CA's
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chaosbus local stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    # Unencrypted PKCS#8: what Kafka's PEM key store reads without ssl.key.password.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(subject: str, issuer: x509.Name, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
    )


def _leaf(
    subject: str,
    usage: x509.ObjectIdentifier,
    ca: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    sans: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    builder = _builder(subject, ca.subject, key).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_certificates(directory: Path) -> CertificateFiles:
    """Write a fresh CA, broker and client certificate under `directory` (keys mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = (
        _builder("chaosbus local CA", _name("chaosbus local CA"), ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    broker, broker_key = _leaf(
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        ca,
        ca_key,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client, client_key = _leaf("chaos", ExtendedKeyUsageOID.CLIENT_AUTH, ca, ca_key)
    files = CertificateFiles(
        ca=directory / "ca.pem",
        broker_keystore=directory / "broker-keystore.pem",
        client_cert=directory / "client.pem",
        client_key=directory / "client-key.pem",
    )
    files.ca.write_bytes(_pem(ca))
    _write_private(files.broker_keystore, _pem_key(broker_key) + _pem(broker) + _pem(ca))
    files.client_cert.write_bytes(_pem(client))
    _write_private(files.client_key, _pem_key(client_key))
    return files


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(data)
