"""Key names of the control plane and the kill switch's value."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str = "chaosbus"

    @property
    def kill(self) -> str:
        return f"{self.namespace}:kill"

    @property
    def channel(self) -> str:
        return f"{self.namespace}:control"

    @property
    def audit(self) -> str:
        return f"{self.namespace}:audit"


DEFAULT_KEYS = Keys()


class KillState(BaseModel):
    """Who engaged the kill switch, why and when (epoch milliseconds)."""

    model_config = ConfigDict(frozen=True)

    actor: str
    reason: str | None = None
    at_ms: int

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"kill switch engaged by {self.actor}{why}"
