"""chaosbus: clients - how chaosbus connects to Kafka and Redis, for every layer above.

What the stream runtime, the monitors and the app shell share about a connection:

- `clients.connection`: `KafkaSettings` (address, SASL, TLS) and `why_unreachable`;
- `clients.consumers`: group-less consumers that read by offset, and a safe stop;
- `clients.redis_client`: every Redis client from one URL (AUTH, ACL users, TLS);
- `clients.redaction`: no password in a message, a log line or a report;
- `clients.quiet`: aiokafka's connection errors silenced where refusal is an answer.

Errors (aiokafka's and redis-py's translated at this boundary with `raise ... from exc`)::

    ClientError                 base of every error raised by `chaosbus.clients`
    ├── BrokerUnreachable       no broker answered at the bootstrap address
    │   └── BrokerRefused       a broker answered but refused the credentials or the TLS
    └── RedisUrlError           a Redis URL that cannot work: scheme, option or file
"""
