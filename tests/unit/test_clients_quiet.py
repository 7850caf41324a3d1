"""Quiet sections around aiokafka's expected connection errors."""

from __future__ import annotations

import logging
from contextlib import ExitStack

from chaosbus.clients.quiet import quiet_aiokafka

AIOKAFKA = logging.getLogger("aiokafka")


class TestQuietSections:
    def test_overlapping_sections_left_out_of_order_restore_the_level(self) -> None:
        """Two tasks' sections that end in the opposite order leave aiokafka as it was,
        not silenced for the rest of the process."""
        AIOKAFKA.setLevel(logging.NOTSET)
        outer, inner = ExitStack(), ExitStack()
        outer.enter_context(quiet_aiokafka())
        inner.enter_context(quiet_aiokafka())
        outer.close()  # the first section ends while the second is still open
        assert AIOKAFKA.level == logging.CRITICAL
        inner.close()
        assert AIOKAFKA.level == logging.NOTSET

    def test_a_section_silences_and_restores_a_set_level(self) -> None:
        """Inside a section aiokafka logs only CRITICAL; after it, its own level again."""
        AIOKAFKA.setLevel(logging.WARNING)
        try:
            with quiet_aiokafka():
                assert AIOKAFKA.level == logging.CRITICAL
            assert AIOKAFKA.level == logging.WARNING
        finally:
            AIOKAFKA.setLevel(logging.NOTSET)
