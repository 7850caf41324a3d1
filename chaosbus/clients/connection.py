"""How chaosbus reaches a Kafka cluster: address, SASL credentials and TLS trust, in one value.

Every Kafka client chaosbus creates is built with `**kafka.client_options()`, so a secured
cluster is configured once (a client properties file, environment variables, flags; see
`chaosbus.kafka_properties`) and reaches the proxy, the runner, the monitors and the demo
alike. The password is kept out of `repr` and out of every message built here.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from chaosbus.clients.errors import BrokerRefused, BrokerUnreachable
from chaosbus.clients.quiet import quiet_aiokafka

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

SECURITY_PROTOCOLS: tuple[SecurityProtocol, ...] = (
    "PLAINTEXT",
    "SSL",
    "SASL_PLAINTEXT",
    "SASL_SSL",
)
SASL_MECHANISMS: tuple[SaslMechanism, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSettings:
    """Where the cluster is and how to authenticate to it; PLAINTEXT with defaults only."""

    bootstrap: str
    _: KW_ONLY
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: str | None = field(default=None, repr=False)
    ssl_check_hostname: bool = True

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def describe(self) -> str:
        """The cluster and how it is reached, for messages: never a secret."""
        if self.security_protocol == "PLAINTEXT":
            return self.bootstrap
        how: str = self.security_protocol
        if self.uses_sasl:
            how += f" {self.sasl_mechanism} as {self.sasl_username!r}"
        return f"{self.bootstrap} ({how})"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(
                self.ssl_certfile, self.ssl_keyfile, password=self.ssl_key_password
            )
        context.check_hostname = self.ssl_check_hostname
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, -Consumer, -AdminClient and -Client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options


async def why_unreachable(kafka: KafkaSettings, *, timeout_s: float = 10) -> BrokerUnreachable:
    """The reason no client could start, found by connecting once by hand.

    aiokafka's bootstrap logs the cause of each failed connection (refused credentials, an
    untrusted certificate) and raises a bare "Unable to bootstrap"; one direct connection to
    the first bootstrap address raises the cause itself.
    """
    address = kafka.bootstrap.split(",")[0].strip()
    host, _, port = address.rpartition(":")
    options = kafka.client_options()
    del options["bootstrap_servers"]
    try:
        with quiet_aiokafka():
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout_s * 1000), **options),
                timeout_s,
            )
        conn.close()
    except ssl.SSLCertVerificationError as exc:
        return BrokerRefused(f"Kafka at {address}: {_certificate_problem(kafka, exc)}")
    except ssl.SSLError as exc:
        return BrokerRefused(
            f"Kafka at {address} failed the TLS handshake ({exc.reason or exc}); "
            f"is security.protocol={kafka.security_protocol} right for this listener?"
        )
    except SaslAuthenticationFailed:
        return BrokerRefused(
            f"Kafka at {address} refused the SASL/{kafka.sasl_mechanism} credentials of user "
            f"{kafka.sasl_username!r}"
        )
    except UnsupportedSaslMechanismError as exc:
        offered = str(exc).rpartition(":")[2].strip()
        return BrokerRefused(
            f"Kafka at {address} does not offer SASL mechanism {kafka.sasl_mechanism} "
            f"(it offers {offered})"
        )
    except (KafkaError, OSError, TimeoutError, ValueError):
        pass
    return BrokerUnreachable(f"no Kafka broker answers at {kafka.describe()}")


def _certificate_problem(kafka: KafkaSettings, exc: ssl.SSLCertVerificationError) -> str:
    reason = str(exc.verify_message or exc.reason or exc)
    if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
        return (
            f"its TLS certificate does not name this host ({reason}); fix the address or set "
            "ssl.endpoint.identification.algorithm= to skip the check"
        )
    trusted = f"the CA in {kafka.ssl_cafile}" if kafka.ssl_cafile else "the system's CAs"
    return f"its TLS certificate is not trusted by {trusted} ({reason})"
