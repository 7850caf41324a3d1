"""Errors of the control plane.

ChaosbusError
└── InvalidInput (2)
    └── Unreachable
        └── ControlPlaneUnreachable   Redis did not answer (at start: exit 2)
└── Aborted (3)
    └── KillSwitchEngaged             a run refused to start, or stopped, on the switch
"""

from __future__ import annotations

from chaosbus.errors import Aborted, Unreachable


class ControlPlaneUnreachable(Unreachable):
    pass


class KillSwitchEngaged(Aborted):
    pass
