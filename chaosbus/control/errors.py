"""Errors of the control plane.

ChaosbusError
└── InvalidInput (2)
    └── Unreachable
        └── ControlPlaneUnreachable   Redis did not answer (at start: exit 2)
            └── ControlPlaneRefused   Redis refused the credentials, or its certificate is
                                      not trusted: no retry will help (exit 2)
    └── NotPermitted                  the Redis user's role does not allow it (ACL NOPERM)
    └── ApprovalsMissing              a required sign-off is missing for this file content
    └── RouteShared                   another live interposer already forwards a route
└── Aborted (3)
    └── KillSwitchEngaged             a run refused to start, or stopped, on the switch

A refusal is a kind of unreachable: a host that cannot use the control plane fails safe
the same way whatever the reason.
"""

from __future__ import annotations

from chaosbus.errors import Aborted, InvalidInput, Unreachable


class ControlPlaneUnreachable(Unreachable):
    pass


class ControlPlaneRefused(ControlPlaneUnreachable):
    pass


class NotPermitted(InvalidInput):
    pass


class ApprovalsMissing(InvalidInput):
    pass


class RouteShared(InvalidInput):
    pass


class KillSwitchEngaged(Aborted):
    pass
