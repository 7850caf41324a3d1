"""Kafka client properties (librdkafka and Java spellings) to KafkaSettings, and their errors."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import InvalidInput
from chaosbus.kafka_properties import (
    fields_from_environment,
    fields_from_properties,
    parse_properties,
    validated,
)
from chaosbus.local.certs import make_certificates
from chaosbus.settings import kafka_from_file, resolve_kafka

SCRAM_JAAS = (
    "org.apache.kafka.common.security.scram.ScramLoginModule required "
    'username="chaos" password="p\\"w;x";'
)
PLAIN_JAAS = (
    'org.apache.kafka.common.security.plain.PlainLoginModule required username=u password="p";'
)


def fields(text: str) -> dict[str, object]:
    props = parse_properties(text)
    return validated(fields_from_properties(props, source="c.properties"), source="c.properties")


def refused(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        fields(text)
    return str(caught.value)


class TestParseProperties:
    def test_separators_comments_and_continuations(self) -> None:
        """`=`, `:` and blanks separate; # and ! comment; a trailing backslash continues."""
        text = "# c\n! c\na=1\nb: 2\nc 3\n  d = four \\\n   five\n\n"
        assert parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "four five"}


class TestLibrdkafkaSpelling:
    def test_sasl_ssl_with_ca_and_client_certificate(self) -> None:
        """sasl.username/password, ssl.ca.location, certificate and key locations."""
        got = fields(
            "bootstrap.servers=k:9093\nsecurity.protocol=sasl_ssl\nsasl.mechanism=SCRAM-SHA-256\n"
            "sasl.username=u\nsasl.password=p\nssl.ca.location=/ca.pem\n"
            "ssl.certificate.location=/c.pem\nssl.key.location=/k.pem\nssl.key.password=kp\n"
        )
        assert got == {
            "bootstrap": "k:9093",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_username": "u",
            "sasl_password": "p",
            "ssl_cafile": "/ca.pem",
            "ssl_certfile": "/c.pem",
            "ssl_keyfile": "/k.pem",
            "ssl_key_password": "kp",
        }

    def test_plural_mechanisms_alias(self) -> None:
        """librdkafka's `sasl.mechanisms` is read as `sasl.mechanism`."""
        got = fields(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=PLAIN\n"
            "sasl.username=u\nsasl.password=p\n"
        )
        assert got["sasl_mechanism"] == "PLAIN"


class TestJavaSpelling:
    def test_scram_jaas_config_with_escaped_quote(self) -> None:
        """ScramLoginModule's username and password, a quoted `\\"` and `;` inside kept."""
        got = fields(
            f"security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={SCRAM_JAAS}\n"
        )
        assert (got["sasl_username"], got["sasl_password"]) == ("chaos", 'p"w;x')
        assert got["sasl_mechanism"] == "SCRAM-SHA-512"

    def test_plain_jaas_config_implies_plain(self) -> None:
        """PlainLoginModule without sasl.mechanism means PLAIN; bare values are read too."""
        got = fields(f"security.protocol=SASL_PLAINTEXT\nsasl.jaas.config={PLAIN_JAAS}\n")
        assert (got["sasl_mechanism"], got["sasl_username"], got["sasl_password"]) == (
            "PLAIN",
            "u",
            "p",
        )

    def test_pem_truststore_and_keystore(self) -> None:
        """PEM trust and key stores become the CA file and the client certificate chain."""
        got = fields(
            "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/ca.pem\n"
            "ssl.keystore.type=PEM\nssl.keystore.location=/ks.pem\n"
        )
        assert (got["ssl_cafile"], got["ssl_certfile"]) == ("/ca.pem", "/ks.pem")

    @pytest.mark.parametrize(("value", "check"), [("", False), ("https", True), ("HTTPS", True)])
    def test_endpoint_identification(self, value: str, check: bool) -> None:
        """An empty algorithm turns the hostname check off; https keeps it."""
        got = fields(f"security.protocol=SSL\nssl.endpoint.identification.algorithm={value}\n")
        assert got["ssl_check_hostname"] is check


class TestRefused:
    def test_unknown_property(self) -> None:
        """A property chaosbus does not read is named, not ignored."""
        assert refused("sasl.kerberos.service.name=kafka\n") == (
            "c.properties: property sasl.kerberos.service.name is not supported by chaosbus"
        )

    @pytest.mark.parametrize("mechanism", ["GSSAPI", "OAUTHBEARER"])
    def test_unsupported_mechanism(self, mechanism: str) -> None:
        """GSSAPI and OAUTHBEARER are refused with the mechanisms that are offered."""
        assert refused(f"sasl.mechanism={mechanism}\n") == (
            f"c.properties: sasl.mechanism={mechanism} is not supported "
            "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"
        )

    def test_unknown_protocol(self) -> None:
        """A security.protocol outside the four is named."""
        assert refused("security.protocol=TLS\n") == (
            "c.properties: security.protocol=TLS is not supported "
            "(PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)"
        )

    def test_jks_truststore(self) -> None:
        """A JKS trust store (the Java default) is refused, pointing at PEM."""
        assert refused("ssl.truststore.location=/t.jks\n") == (
            "c.properties: ssl.truststore.location needs ssl.truststore.type=PEM "
            "(JKS and PKCS12 stores are not supported)"
        )
        assert refused("ssl.keystore.type=PKCS12\n") == (
            "c.properties: ssl.keystore.type=PKCS12 is not supported; chaosbus reads PEM files "
            "(ssl.keystore.type=PEM)"
        )

    @pytest.mark.parametrize(
        "jaas",
        ['password="Pw-s3cret" username="u";', "Pw-s3cret required;", "password=Pw-s3cret"],
    )
    def test_no_login_module_is_not_echoed(self, jaas: str) -> None:
        """Without a login module, the value's first word may be the password: never shown."""
        line = refused(f"sasl.jaas.config={jaas}\n")
        assert "names no login module" in line
        assert "s3cret" not in line

    def test_a_stray_line_is_not_echoed(self) -> None:
        """A line that is no property name (a password pasted alone) is named by number."""
        line = refused("sasl.mechanism=PLAIN\nPw-s3cret\n")
        assert line == "c.properties: property number 2 (not shown) is not supported by chaosbus"

    def test_unknown_login_module(self) -> None:
        """A JAAS login module other than PLAIN's or SCRAM's is named."""
        jaas = "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;"
        assert refused(f"sasl.jaas.config={jaas}\n") == (
            "c.properties: sasl.jaas.config login module "
            "com.sun.security.auth.module.Krb5LoginModule is not supported "
            "(PlainLoginModule or ScramLoginModule)"
        )

    def test_jaas_module_of_another_mechanism(self) -> None:
        """A PLAIN login module under a SCRAM mechanism is a contradiction, named."""
        assert refused(f"sasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config={PLAIN_JAAS}\n") == (
            "c.properties: sasl.jaas.config uses PlainLoginModule, which does not serve "
            "sasl.mechanism=SCRAM-SHA-256"
        )

    def test_sasl_without_credentials(self) -> None:
        """A SASL protocol with no username or password says what is missing."""
        assert refused("security.protocol=SASL_SSL\n") == (
            "c.properties: security.protocol=SASL_SSL needs sasl.username and sasl.password "
            "(or sasl.jaas.config)"
        )

    def test_endpoint_algorithm(self) -> None:
        """Only https or empty are endpoint identification algorithms."""
        assert refused("ssl.endpoint.identification.algorithm=dns\n").startswith(
            "c.properties: ssl.endpoint.identification.algorithm=dns is not supported"
        )


class TestResolveKafka:
    def test_flag_beats_env_beats_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--bootstrap > CHAOSBUS_BOOTSTRAP > bootstrap.servers; env fields > file fields."""
        config = tmp_path / "c.properties"
        config.write_text(
            "bootstrap.servers=file:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
            "sasl.username=file-user\nsasl.password=file-pw\n"
        )
        for name in ("CHAOSBUS_BOOTSTRAP", "CHAOSBUS_KAFKA_CONFIG"):
            monkeypatch.delenv(name, raising=False)
        assert resolve_kafka(None, config).bootstrap == "file:1"
        monkeypatch.setenv("CHAOSBUS_BOOTSTRAP", "env:2")
        monkeypatch.setenv("CHAOSBUS_KAFKA_SASL_USERNAME", "env-user")
        got = resolve_kafka(None, config)
        assert (got.bootstrap, got.sasl_username, got.sasl_password) == (
            "env:2",
            "env-user",
            "file-pw",
        )
        assert resolve_kafka("flag:3", config).bootstrap == "flag:3"

    def test_config_from_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """CHAOSBUS_KAFKA_CONFIG names the file when --kafka-config is absent."""
        config = tmp_path / "c.properties"
        config.write_text("bootstrap.servers=file:1\nsecurity.protocol=SSL\nssl.ca.location=/ca\n")
        monkeypatch.delenv("CHAOSBUS_BOOTSTRAP", raising=False)
        monkeypatch.setenv("CHAOSBUS_KAFKA_CONFIG", str(config))
        got = resolve_kafka()
        assert (got.bootstrap, got.security_protocol, got.ssl_cafile) == ("file:1", "SSL", "/ca")

    def test_environment_fields(self) -> None:
        """Each CHAOSBUS_KAFKA_* variable sets its field; empty ones are unset."""
        env = {
            "CHAOSBUS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CHAOSBUS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "CHAOSBUS_KAFKA_SASL_USERNAME": "u",
            "CHAOSBUS_KAFKA_SASL_PASSWORD": "p",
            "CHAOSBUS_KAFKA_SSL_CA": "",
            "CHAOSBUS_KAFKA_SSL_CERT": "/c.pem",
            "CHAOSBUS_KAFKA_SSL_KEY": "/k.pem",
            "CHAOSBUS_KAFKA_SSL_CHECK_HOSTNAME": "0",
        }
        assert fields_from_environment(env) == {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "u",
            "sasl_password": "p",
            "ssl_certfile": "/c.pem",
            "ssl_keyfile": "/k.pem",
            "ssl_check_hostname": False,
        }

    def test_missing_file(self, tmp_path: Path) -> None:
        """An unreadable config file is one line naming it."""
        with pytest.raises(InvalidInput, match="cannot read the Kafka client config"):
            kafka_from_file(tmp_path / "absent.properties")


class TestKafkaSettings:
    def test_password_never_in_repr_or_description(self) -> None:
        """repr and describe() show the user, never the password."""
        kafka = KafkaSettings(
            "k:1", security_protocol="SASL_SSL", sasl_username="u", sasl_password="s3cret!"
        )
        assert "s3cret!" not in repr(kafka)
        assert "s3cret!" not in kafka.describe()
        assert kafka.describe() == "k:1 (SASL_SSL PLAIN as 'u')"

    def test_plaintext_options(self) -> None:
        """PLAINTEXT gives the address and protocol only."""
        assert KafkaSettings("k:1").client_options() == {
            "bootstrap_servers": "k:1",
            "security_protocol": "PLAINTEXT",
        }

    def test_tls_options_load_the_files(self, tmp_path: Path) -> None:
        """TLS builds a context from the CA file and the client pair, hostname check as set."""
        files = make_certificates(tmp_path)
        kafka = KafkaSettings(
            "k:1",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-256",
            sasl_username="u",
            sasl_password="p",
            ssl_cafile=str(files.ca),
            ssl_certfile=str(files.client_cert),
            ssl_keyfile=str(files.client_key),
            ssl_check_hostname=False,
        )
        options = kafka.client_options()
        context = options.pop("ssl_context")
        assert isinstance(context, ssl.SSLContext)
        assert context.check_hostname is False
        assert len(context.get_ca_certs()) == 1
        assert options == {
            "bootstrap_servers": "k:1",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_plain_username": "u",
            "sasl_plain_password": "p",
        }


class TestEnvironmentErrors:
    def test_a_bad_mechanism_is_named_by_its_variable(self) -> None:
        """A mechanism set in the environment is blamed on the variable, not on the file."""
        with pytest.raises(InvalidInput) as caught:
            fields_from_environment({"CHAOSBUS_KAFKA_SASL_MECHANISM": "gssapi"})
        assert str(caught.value) == (
            "CHAOSBUS_KAFKA_SASL_MECHANISM: sasl.mechanism=GSSAPI is not supported "
            "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"
        )
