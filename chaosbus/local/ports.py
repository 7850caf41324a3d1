"""Free loopback ports for the servers chaosbus starts (brokers, Node-RED, n8n, proxies).

A port is drawn *below* the kernel's ephemeral range: a port the kernel handed out for
`bind(0)` is one any outgoing connection on the machine may take between the check and the
server's own bind, which on a busy machine (Kafka clients open many connections) happens.
"""

from __future__ import annotations

import random
import socket
from contextlib import closing
from pathlib import Path


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with closing(socket.socket()) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port_run(count: int, host: str = "127.0.0.1") -> int:
    """A port p such that p … p + count - 1 are free now on `host`."""
    ephemeral = _ephemeral_low()
    top = ephemeral if ephemeral > 20_000 else 65_536
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10_000, top - count)
        if all(port_is_free(port + i, host) for i in range(count)):
            return port
    raise RuntimeError(f"no {count} adjacent free ports on {host}")


def free_port(host: str = "127.0.0.1") -> int:
    return free_port_run(1, host)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768
