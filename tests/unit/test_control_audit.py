"""The control plane's pure parts: key names, the kill state, audit entries."""

from __future__ import annotations

import chaosbus.control as control
from chaosbus.control import AuditEntry, Keys, KillState, new_entry


class TestPublicNames:
    def test_all(self) -> None:
        """The package exports exactly its documented names."""
        assert sorted(control.__all__) == sorted(
            [
                "ACTIONS",
                "AuditEntry",
                "ControlPlane",
                "ControlPlaneRefused",
                "ControlPlaneUnreachable",
                "ControlState",
                "InjectionGuard",
                "KillState",
                "KillSwitchEngaged",
                "KillSwitchWatcher",
                "Keys",
                "Switchable",
                "control_plane",
                "default_actor",
                "new_entry",
            ]
        )


class TestKeys:
    def test_namespaced(self) -> None:
        """Every key lives under the namespace, so tests and teams can be kept apart."""
        keys = Keys("team-a")
        assert (keys.kill, keys.channel, keys.audit) == (
            "team-a:kill",
            "team-a:control",
            "team-a:audit",
        )

    def test_kill_state_describes_who_and_why(self) -> None:
        """The message a refused or aborted run shows names the actor and the reason."""
        assert KillState(actor="ops", reason="incident 42", at_ms=1).describe() == (
            "kill switch engaged by ops: incident 42"
        )
        assert KillState(actor="ops", at_ms=1).describe() == "kill switch engaged by ops"


class TestAuditEntry:
    def test_fields_round_trip(self) -> None:
        """An entry survives the flat string fields of a Redis stream."""
        entry = new_entry("verdict", "ci", 1_700_000_000_000, run_id="r1", detail="held: ok")
        flat = {k: v for k, v in entry.fields().items() if v is not None}
        back = AuditEntry.from_fields("1-0", flat)
        assert back.model_copy(update={"id": None}) == entry
        assert back.id == "1-0"

    def test_line_reads_who_what_when(self) -> None:
        """`chaosbus audit` prints time, action, actor, experiment, run and detail."""
        entry = new_entry(
            "abort", "ci-bot", 0, run_id="r9", experiment="duplicate-storm", detail="kill"
        )
        assert entry.line() == (
            "1970-01-01T00:00:00+00:00  abort     ci-bot  duplicate-storm  run r9  — kill"
        )
