"""Errors of the contracts every layer reads (ledger record, clock, route, record→envelope).

    ContractError          base of every error raised by `chaosbus.contracts`
    └── RouteError         a route that does not parse (SOURCE:DESTINATION[@ID]) or that
                           reads and writes the same topic

A ledger payload that does not decode raises pydantic's or json's `ValueError` on purpose:
every reader of the ledger counts such a record as unreadable with one `except ValueError`.
"""

from __future__ import annotations


class ContractError(Exception):
    """Base class for every error raised by the contracts."""


class RouteError(ContractError):
    pass
