"""Kafka client properties, as Kafka's own tools and librdkafka read them, to KafkaSettings.

Pure: text and dicts in, field values out. Both spellings users already have are read:

    librdkafka                          Java client
    sasl.username / sasl.password       sasl.jaas.config=...ScramLoginModule required
                                          username="u" password="p";
    ssl.ca.location                     ssl.truststore.location + ssl.truststore.type=PEM
    ssl.certificate.location            ssl.keystore.location + ssl.keystore.type=PEM
      + ssl.key.location                  (one PEM file with the key and its chain)

Anything else (an unknown property, GSSAPI or OAUTHBEARER, a JKS or PKCS12 store) is an
error naming the property: a setting silently ignored would surface later as a refused
connection that points nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chaosbus.clients.connection import SASL_MECHANISMS, SECURITY_PROTOCOLS
from chaosbus.errors import InvalidInput

# The environment variables beside CHAOSBUS_KAFKA_CONFIG, each a KafkaSettings field.
ENV_FIELDS = {
    "CHAOSBUS_KAFKA_SECURITY_PROTOCOL": "security_protocol",
    "CHAOSBUS_KAFKA_SASL_MECHANISM": "sasl_mechanism",
    "CHAOSBUS_KAFKA_SASL_USERNAME": "sasl_username",
    "CHAOSBUS_KAFKA_SASL_PASSWORD": "sasl_password",
    "CHAOSBUS_KAFKA_SSL_CA": "ssl_cafile",
    "CHAOSBUS_KAFKA_SSL_CERT": "ssl_certfile",
    "CHAOSBUS_KAFKA_SSL_KEY": "ssl_keyfile",
    "CHAOSBUS_KAFKA_SSL_CHECK_HOSTNAME": "ssl_check_hostname",  # 0 turns the check off
}

_DIRECT = {
    "bootstrap.servers": "bootstrap",
    "security.protocol": "security_protocol",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.mechanisms": "sasl_mechanism",  # librdkafka's plural alias
    "sasl.username": "sasl_username",
    "sasl.password": "sasl_password",
    "ssl.ca.location": "ssl_cafile",
    "ssl.certificate.location": "ssl_certfile",
    "ssl.key.location": "ssl_keyfile",
    "ssl.key.password": "ssl_key_password",
}
_STORE_TYPES = {"ssl.truststore.type", "ssl.keystore.type"}
_HANDLED = {
    *_DIRECT,
    *_STORE_TYPES,
    "sasl.jaas.config",
    "ssl.truststore.location",
    "ssl.keystore.location",
    "ssl.endpoint.identification.algorithm",
}
_LOGIN_MODULES = {
    "org.apache.kafka.common.security.plain.PlainLoginModule": ("PLAIN",),
    "org.apache.kafka.common.security.scram.ScramLoginModule": ("SCRAM-SHA-256", "SCRAM-SHA-512"),
}
_JAAS = re.compile(r"\s*(?P<module>[\w.$]+)\s+(?P<flag>\w+)(?P<options>.*?);?\s*$", re.DOTALL)
_MODULE_NAME = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*LoginModule")
# A property's name as Kafka spells them; anything else is not quoted back (a stray line
# may be a password pasted on its own).
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+")
_JAAS_OPTION = re.compile(r'\s*(?P<key>\w+)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>\S+))')


def parse_properties(text: str) -> dict[str, str]:
    """Java `.properties` lines: `key=value`, `key: value` or `key value`; # and ! comment."""
    props: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        key, value = _split(line)
        props[key] = value
    if pending:
        key, value = _split(pending)
        props[key] = value
    return props


def _split(line: str) -> tuple[str, str]:
    match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
    if match is None:
        return line.strip(), ""
    return match.group(1), match.group(2).strip()


def fields_from_properties(props: Mapping[str, str], *, source: str) -> dict[str, Any]:
    """KafkaSettings field values a properties file sets; an unsupported one is an error."""
    for number, name in enumerate(props, start=1):
        if name not in _HANDLED:
            shown = name if _PROPERTY_NAME.fullmatch(name) else f"number {number} (not shown)"
            raise InvalidInput(f"{source}: property {shown} is not supported by chaosbus")
    fields: dict[str, Any] = {_DIRECT[k]: v for k, v in props.items() if k in _DIRECT}
    for store in sorted(_STORE_TYPES & props.keys()):
        if props[store].upper() != "PEM":
            raise InvalidInput(
                f"{source}: {store}={props[store]} is not supported; chaosbus reads PEM files "
                f"({store}=PEM)"
            )
    for location, field, store in (
        ("ssl.truststore.location", "ssl_cafile", "ssl.truststore.type"),
        ("ssl.keystore.location", "ssl_certfile", "ssl.keystore.type"),
    ):
        if location in props:
            if props.get(store, "JKS").upper() != "PEM":
                raise InvalidInput(
                    f"{source}: {location} needs {store}=PEM (JKS and PKCS12 stores are not "
                    "supported)"
                )
            fields[field] = props[location]
    if "ssl.endpoint.identification.algorithm" in props:
        fields["ssl_check_hostname"] = _hostname_check(
            props["ssl.endpoint.identification.algorithm"], source
        )
    if "sasl.jaas.config" in props:
        fields.update(_jaas_fields(props["sasl.jaas.config"], props.get("sasl.mechanism"), source))
    return fields


def _hostname_check(value: str, source: str) -> bool:
    if value.lower() not in ("", "https", "none"):
        raise InvalidInput(
            f"{source}: ssl.endpoint.identification.algorithm={value} is not supported "
            "(https, or empty to skip the hostname check)"
        )
    return value.lower() == "https"


def _jaas_fields(text: str, mechanism: str | None, source: str) -> dict[str, str]:
    match = _JAAS.match(text)
    if match is None or match.group("module") not in _LOGIN_MODULES:
        # Only a name that is a login module is quoted back: without one, the first word
        # of the value may be `password="…"` or the password itself.
        first = match.group("module") if match else ""
        if not _MODULE_NAME.fullmatch(first):
            raise InvalidInput(
                f"{source}: sasl.jaas.config names no login module (the value is not shown); "
                "it starts with PlainLoginModule's or ScramLoginModule's full name"
            )
        raise InvalidInput(
            f"{source}: sasl.jaas.config login module {first} is not supported "
            "(PlainLoginModule or ScramLoginModule)"
        )
    allowed = _LOGIN_MODULES[match.group("module")]
    if mechanism is not None and mechanism.upper() not in allowed:
        raise InvalidInput(
            f"{source}: sasl.jaas.config uses {match.group('module').rsplit('.', 1)[-1]}, "
            f"which does not serve sasl.mechanism={mechanism}"
        )
    options = {
        m.group("key"): (
            re.sub(r"\\(.)", r"\1", m.group("quoted"))
            if m.group("quoted") is not None
            else m.group("bare")
        )
        for m in _JAAS_OPTION.finditer(match.group("options"))
    }
    fields: dict[str, str] = {}
    if "username" in options:
        fields["sasl_username"] = options["username"]
    if "password" in options:
        fields["sasl_password"] = options["password"]
    if mechanism is None:
        fields["sasl_mechanism"] = allowed[0]
    return fields


def fields_from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """The CHAOSBUS_KAFKA_* fields; a bad protocol or mechanism is named by its variable."""
    fields: dict[str, Any] = {}
    for name, field in ENV_FIELDS.items():
        if not env.get(name):
            continue
        if field in _CHOICES:
            fields[field] = _choice(field, env[name], source=name)
        elif field == "ssl_check_hostname":
            if env[name] not in ("0", "1"):
                raise InvalidInput(f"{name}={env[name]!r}: expected 1 (check) or 0 (skip)")
            fields[field] = env[name] == "1"
        else:
            fields[field] = env[name]
    return fields


_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "security_protocol": ("security.protocol", SECURITY_PROTOCOLS),
    "sasl_mechanism": ("sasl.mechanism", SASL_MECHANISMS),
}


def _choice(field: str, value: Any, *, source: str) -> str:
    prop, allowed = _CHOICES[field]
    upper = str(value).upper()
    if upper not in allowed:
        raise InvalidInput(f"{source}: {prop}={upper} is not supported ({', '.join(allowed)})")
    return upper


def validated(fields: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Normalised values (upper-case names) and the combinations a client cannot use refused."""
    out = dict(fields)
    protocol = _choice(
        "security_protocol", out.get("security_protocol", "PLAINTEXT"), source=source
    )
    out["security_protocol"] = protocol
    if "sasl_mechanism" in out:
        out["sasl_mechanism"] = _choice("sasl_mechanism", out["sasl_mechanism"], source=source)
    if protocol.startswith("SASL_") and not (out.get("sasl_username") and out.get("sasl_password")):
        raise InvalidInput(
            f"{source}: security.protocol={protocol} needs sasl.username and sasl.password "
            "(or sasl.jaas.config)"
        )
    if out.get("ssl_keyfile") and not out.get("ssl_certfile"):
        raise InvalidInput(f"{source}: ssl.key.location needs ssl.certificate.location")
    return out
