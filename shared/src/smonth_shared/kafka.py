"""How a process reaches the Kafka cluster: its address and who it is there.

Every client of the project (a service's subscribers, producers, admin and replay, the operator's
command line, the tests) is made from one `KafkaAccess`, so that a cluster's way of telling
principals apart is a setting: SASL/SCRAM-SHA-512 (the local launcher and docker-compose), mutual
TLS (a client certificate, `KAFKA_SECURITY_PROTOCOL=SSL`), or nothing on a private network.
"""

import ssl
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None  # with ssl_keyfile: a client certificate (mutual TLS)
    ssl_keyfile: str | None = None

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    @property
    def principal(self) -> str:
        """Who this access is to the broker, for log lines and refusals."""
        if self.uses_sasl:
            return f"User:{self.username}"
        return "a client certificate" if self.ssl_certfile else "anonymous"

    def as_principal(self, username: str, password: str) -> "KafkaAccess":
        """The same cluster as another SASL principal."""
        return replace(self, username=username, password=password)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_sasl:
            options |= {"sasl_mechanism": self.sasl_mechanism,
                        "sasl_plain_username": self.username,
                        "sasl_plain_password": self.password}  # fmt: skip
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def ssl_context(self) -> ssl.SSLContext:
        return create_ssl_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )

    def faststream_security(self) -> BaseSecurity | None:
        """The same, as faststream's KafkaBroker takes it."""
        context = self.ssl_context() if self.uses_tls else None
        if self.uses_sasl:
            kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256,
                    "PLAIN": SASLPlaintext}[self.sasl_mechanism]  # fmt: skip
            return kind(self.username or "", self.password or "", ssl_context=context,
                        use_ssl=self.uses_tls)  # fmt: skip
        if context is not None:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None
