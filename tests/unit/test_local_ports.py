"""Ports for the servers chaosbus starts are drawn below the kernel's ephemeral range."""

from __future__ import annotations

import socket
from contextlib import closing

from chaosbus.local import ports


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = ports._ephemeral_low()
    for _ in range(20):
        port = ports.free_port()
        assert 10_000 <= port < (low if low > 20_000 else 65_536)
        assert ports.port_is_free(port)


def test_a_port_in_use_is_not_free() -> None:
    with closing(socket.socket()) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        assert not ports.port_is_free(held.getsockname()[1])


def test_a_run_of_ports_is_free_from_its_first_to_its_last() -> None:
    first = ports.free_port_run(3)
    assert all(ports.port_is_free(first + i) for i in range(3))
