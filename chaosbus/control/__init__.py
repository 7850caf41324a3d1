"""The control plane on Redis: a global kill switch, its watcher, and the audit log."""

from chaosbus.control.audit import ACTIONS, AuditEntry, default_actor, new_entry
from chaosbus.control.errors import (
    ControlPlaneRefused,
    ControlPlaneUnreachable,
    KillSwitchEngaged,
)
from chaosbus.control.guard import InjectionGuard, Switchable
from chaosbus.control.keys import Keys, KillState
from chaosbus.control.plane import ControlPlane, control_plane
from chaosbus.control.watch import ControlState, KillSwitchWatcher

__all__ = [
    "ACTIONS",
    "AuditEntry",
    "ControlPlane",
    "ControlPlaneRefused",
    "ControlPlaneUnreachable",
    "ControlState",
    "InjectionGuard",
    "Keys",
    "KillState",
    "KillSwitchEngaged",
    "KillSwitchWatcher",
    "Switchable",
    "control_plane",
    "default_actor",
    "new_entry",
]
