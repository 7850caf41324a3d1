"""The local node's SASL_SSL listener: certificates, a SCRAM and a PLAIN user, a client file.

`chaosbus local up --secure` makes one under `<kafka home>/secure/`: the CA, the broker's
PEM key store, a client certificate (the listener requires one: mutual TLS), a user
`chaos` with a generated password (SCRAM-SHA-256/512 credentials written at format time,
a PLAIN entry in the listener's JAAS config), and `client.properties`, the file every
chaosbus command reads with `--kafka-config` or CHAOSBUS_KAFKA_CONFIG.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from chaosbus.clients.connection import KafkaSettings, SaslMechanism
from chaosbus.local.certs import CertificateFiles, make_certificates

USERNAME = "chaos"
MECHANISM: SaslMechanism = "SCRAM-SHA-512"
_STATE = "listener.json"


@dataclass(frozen=True)
class SecureListener:
    directory: Path
    port: int
    username: str = USERNAME
    password: str = field(default="", repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def files(self) -> CertificateFiles:
        d = self.directory
        return CertificateFiles(
            d / "ca.pem", d / "broker-keystore.pem", d / "client.pem", d / "client-key.pem"
        )

    @property
    def client_properties_file(self) -> Path:
        return self.directory / "client.properties"

    @classmethod
    def create(cls, directory: Path, port: int) -> SecureListener:
        """Generate certificates and a password, and write them with the client file."""
        listener = cls(directory, port, password=secrets.token_urlsafe(18))
        make_certificates(directory)
        state = {"port": port, "username": listener.username, "password": listener.password}
        _write_private(directory / _STATE, json.dumps(state) + "\n")
        _write_private(listener.client_properties_file, listener.client_properties())
        return listener

    @classmethod
    def load(cls, directory: Path) -> SecureListener | None:
        try:
            state = json.loads((directory / _STATE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return cls(directory, int(state["port"]), state["username"], state["password"])

    def server_properties(self) -> dict[str, str]:
        """Broker settings for the listener, merged into the node's server.properties."""
        files = self.files
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        plain = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'user_{self.username}="{self.password}";'
        )
        prefix = "listener.name.sasl_ssl"
        return {
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            f"{prefix}.plain.sasl.jaas.config": plain,
            f"{prefix}.scram-sha-256.sasl.jaas.config": scram,
            f"{prefix}.scram-sha-512.sasl.jaas.config": scram,
            f"{prefix}.ssl.keystore.type": "PEM",
            f"{prefix}.ssl.keystore.location": str(files.broker_keystore),
            f"{prefix}.ssl.truststore.type": "PEM",
            f"{prefix}.ssl.truststore.location": str(files.ca),
            f"{prefix}.ssl.client.auth": "required",
        }

    def format_args(self) -> list[str]:
        """`kafka-storage format` arguments that write the SCRAM credentials of the user."""
        return [
            arg
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
            for arg in (
                "--add-scram",
                f"{mechanism}=[name={self.username},password={self.password}]",
            )
        ]

    def client_properties(self) -> str:
        files = self.files
        return (
            "# The SASL_SSL listener of `chaosbus local up --secure`.\n"
            f"bootstrap.servers={self.bootstrap}\n"
            "security.protocol=SASL_SSL\n"
            f"sasl.mechanism={MECHANISM}\n"
            f"sasl.username={self.username}\n"
            f"sasl.password={self.password}\n"
            f"ssl.ca.location={files.ca}\n"
            f"ssl.certificate.location={files.client_cert}\n"
            f"ssl.key.location={files.client_key}\n"
        )

    def settings(self) -> KafkaSettings:
        files = self.files
        return KafkaSettings(
            self.bootstrap,
            security_protocol="SASL_SSL",
            sasl_mechanism=MECHANISM,
            sasl_username=self.username,
            sasl_password=self.password,
            ssl_cafile=str(files.ca),
            ssl_certfile=str(files.client_cert),
            ssl_keyfile=str(files.client_key),
        )


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
