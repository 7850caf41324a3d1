"""`privacy: {identifiers: hashed}`: the report names units and events only by pseudonym.

The interposer writes the ledger's keys and event ids as `streams.ledger.pseudonym`s with
the run's salt; this module does the same to every anomaly example of the report (unit,
event ids, the events its cause names, and wherever they appear in the text), with the
same salt, so an example can
still be matched to its ledger records within the run. Spans carry no key or event id
(topic, partition, offset and the fault only). Why `clear` is the default: 0055.
"""

from __future__ import annotations

from collections.abc import Mapping

from chaosbus.monitors.report import AnomalyExample, MonitorReport
from chaosbus.streams.ledger import pseudonym


def _hide(salt: bytes, example: AnomalyExample) -> AnomalyExample:
    cause = example.cause
    involved = [d.event_id for d in cause.decisions] if cause is not None else []
    names = {
        raw: pseudonym(salt, raw.encode("utf-8"))
        for raw in (example.unit, *example.event_ids, *involved)
    }

    def scrub(text: str) -> str:
        for raw in sorted(names, key=len, reverse=True):
            if raw:
                text = text.replace(raw, names[raw])
        return text

    def shown(value: object) -> object:
        return scrub(value) if isinstance(value, str) else value

    hidden_cause = (
        None
        if cause is None
        else cause.model_copy(
            update={
                "mechanism": scrub(cause.mechanism),
                "decisions": tuple(
                    d.model_copy(update={"event_id": names[d.event_id]}) for d in cause.decisions
                ),
            }
        )
    )
    return example.model_copy(
        update={
            "unit": names[example.unit],
            "event_ids": tuple(names[e] for e in example.event_ids),
            "detail": scrub(example.detail),
            "expected": shown(example.expected),
            "observed": shown(example.observed),
            "cause": hidden_cause,
        }
    )


def pseudonymised(
    reports: Mapping[str, MonitorReport], salt: bytes | None
) -> dict[str, MonitorReport]:
    """The checks' reports with every example's identifiers hashed (as is without a salt)."""
    if salt is None:
        return dict(reports)
    out: dict[str, MonitorReport] = {}
    for name, report in reports.items():
        examples = {
            kind: tuple(_hide(salt, e) for e in found)
            for kind, found in report.anomalies.examples.items()
        }
        anomalies = report.anomalies.model_copy(update={"examples": examples})
        out[name] = report.model_copy(update={"anomalies": anomalies})
    return out
