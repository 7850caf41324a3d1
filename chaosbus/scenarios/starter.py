"""`chaosbus init`: a starter experiment a user edits, valid as written."""

from __future__ import annotations

STARTER = """\
# A starter experiment: edit the topics, the extractors and the probe to fit your service.
# Check it with `chaosbus validate FILE`; run it with `chaosbus run FILE --report out/run.json`.
# The shipped scenarios (`chaosbus scenarios`) show every other fault and model.
name: my-first-experiment
hypothesis: >-
  Every entity ends at its newest version even when the automation delivers each event twice.
routes:
  - {{from: {source}, to: {destination}}}
seed: 1
schedule: {{warmup_s: 5, inject_s: 20, recover_s: 10}}
blast_radius: {{max_faults: 1000, protected_topics: ["payments.*"]}}
faults:
  - {{name: retries, type: duplicate, probability: 0.2, copies: 1, spread_ms: 200}}
monitor:
  source_topic: {source}
  settle_ms: 2000
  checks:
    # Where the service keeps each entity: a Redis hash per key with a version field.
    - name: entity-state
      model: entity
      extract:
        event_id: {{json: $.event_id}}
        entity: record_key
        version: {{json: $.version}}
      probe: {{kind: redis, key: "entity:{{entity}}", field: version}}
steady_state:
  - {{metric: anomalies.total, max: 0}}
guardrails:
  - {{name: holding-too-much, metric: held, max: 5000, for_s: 2}}
"""


def starter_experiment(source: str, destination: str) -> str:
    return STARTER.format(source=source, destination=destination)
