"""injectors.limits: every limit is documented with its value, and models use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chaosbus.experiment.bounds import Bound, Guardrail
from chaosbus.injectors.limits import MAX_COPIES, MAX_DURATION_MS, limit_table
from chaosbus.injectors.spec import BlastRadius, DuplicateFault, FaultFile, ReorderFault

DOC = Path(__file__).parent.parent.parent / "docs" / "limits.md"


class TestDocumented:
    @pytest.mark.parametrize(("name", "value"), limit_table())
    def test_docs_name_each_limit_with_its_value(self, name: str, value: float) -> None:
        """docs/limits.md has a table row `| NAME | value |` for every limit."""
        assert f"| `{name}` | {value} |" in DOC.read_text(encoding="utf-8")


class TestModels:
    def test_copies_at_the_limit_are_fine(self) -> None:
        """The limit itself is allowed; one above is refused."""
        assert DuplicateFault(probability=1, copies=MAX_COPIES).copies == MAX_COPIES
        with pytest.raises(ValidationError):
            DuplicateFault(probability=1, copies=MAX_COPIES + 1)

    def test_nan_is_refused_in_bounds_and_guardrails(self) -> None:
        """A NaN bound would always hold: refused on steady-state bounds and guardrails."""
        for model in (Bound, Guardrail):
            with pytest.raises(ValidationError, match="finite"):
                model(metric="held", max=float("nan"))
        with pytest.raises(ValidationError, match="finite"):
            Guardrail(metric="held", max=1, for_s=float("inf"))

    def test_reorder_within_the_holding_limit(self) -> None:
        """A window whose held messages stay below max_held_messages, or expire, is fine."""
        small = BlastRadius(max_held_messages=100)
        FaultFile(faults=(ReorderFault(probability=1, window=100),), blast_radius=small)
        FaultFile(
            faults=(ReorderFault(probability=1, window=5_000, within_ms=MAX_DURATION_MS),),
            blast_radius=small,
        )
        with pytest.raises(ValidationError, match="max_held_messages"):
            FaultFile(faults=(ReorderFault(probability=1, window=101),), blast_radius=small)
