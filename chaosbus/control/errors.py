"""Errors of the control plane.

ChaosbusError
└── InvalidInput (2)
    └── Unreachable
        └── ControlPlaneUnreachable   Redis did not answer (at start: exit 2)
    └── NotPermitted                  the Redis user's role does not allow it (ACL NOPERM)
    └── ApprovalsMissing              a required sign-off is missing for this file content
    └── RouteShared                   another live interposer already forwards a route
└── Aborted (3)
    └── KillSwitchEngaged             a run refused to start, or stopped, on the switch
"""

from __future__ import annotations

from chaosbus.errors import Aborted, InvalidInput, Unreachable


class ControlPlaneUnreachable(Unreachable):
    pass


class NotPermitted(InvalidInput):
    pass


class ApprovalsMissing(InvalidInput):
    pass


class RouteShared(InvalidInput):
    pass


class KillSwitchEngaged(Aborted):
    pass
