"""Models of the expected downstream state, computed from the source of truth.

Each model takes one unit's distinct source events (keyed by event id, in source order)
and a set of event ids to leave out, so the expected state can be computed both with and
without the events the ledger dropped.
"""
