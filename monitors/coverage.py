"""The `Coverage` section of a check's report, built one way for the batch and live checkers.

Both checkers index the same facts (`HistoryIndex`) and tally the same findings (`Tally`);
this is the one place that turns the two, and the messages no extractor could read, into
what the verdict rests on (decision 0191):

- `source_events` counts the distinct events read *and* the unparsable messages (one per
  message): each of those is an event the verdict could not judge. The live checker is
  given the host's extractor failures too, so a snapshot's share is the batch one's.
- `units` counts the units the tally holds a finding for: judged, pending or unobserved.
- `outside_where` and `without_amount` say what the check's declaration left out or read
  as nothing, so a report can say it (`monitors.extractors` has the table).
"""

from __future__ import annotations

from collections.abc import Mapping

from chaosbus.monitors.index import HistoryIndex
from chaosbus.monitors.report import Coverage
from chaosbus.monitors.tally import Tally


def coverage(
    index: HistoryIndex,
    tally: Tally,
    unparsable: Mapping[str, int] | None = None,
    *,
    outside_where: int = 0,
    without_amount: int = 0,
) -> Coverage:
    """What a verdict over `index`, tallied in `tally`, rests on; `unparsable` counts the
    source messages each extractor could not read, `outside_where` those the check's
    `where` left out, `without_amount` the judged events that had no amount."""
    failed = dict(unparsable or {})
    return Coverage(
        source_deliveries=index.source_deliveries,
        events=index.event_count(),
        source_events=index.event_count() + sum(failed.values()),
        units=tally.judged + tally.pending + tally.unobserved,
        judged=tally.judged,
        judged_events=tally.judged_events,
        pending_events=tally.pending_events,
        pending=tally.pending,
        unobserved=tally.unobserved,
        unledgered=index.unledgered,
        orphan_effects=index.orphan_effects(),
        unparsable=failed,
        outside_where=outside_where,
        without_amount=without_amount,
    )
