"""Errors of the control plane.

ChaosbusError
└── InvalidInput (2)
    └── Unreachable
        └── ControlPlaneUnreachable   Redis did not answer (at start: exit 2)
            └── ControlPlaneRefused   Redis refused the credentials, or its certificate is
                                      not trusted: no retry will help (exit 2)
└── Aborted (3)
    └── KillSwitchEngaged             a run refused to start, or stopped, on the switch

A refusal is a kind of unreachable: a host that cannot use the control plane fails safe
the same way whatever the reason.
"""

from __future__ import annotations

from chaosbus.errors import Aborted, Unreachable


class ControlPlaneUnreachable(Unreachable):
    pass


class ControlPlaneRefused(ControlPlaneUnreachable):
    pass


class KillSwitchEngaged(Aborted):
    pass
