"""`chaosbus init`: a starter experiment a user edits, valid as written, for each probe kind.

The starter's check reads the service with the probe kind the user names (`--probe`):
`redis`, `http` and `sql` read the entity's version per entity (model `entity`); `kafka`
reads an effects topic whose messages name their events (model `once`). Every field of
each probe is commented where it stands; docs/experiments.md has them all. The first line
is the modeline YAML language servers read (`SCHEMA_FILE`, written beside by `init`).
"""

from __future__ import annotations

from chaosbus.experiment.json_schema import modeline

STARTER_PROBES = ("redis", "http", "sql", "kafka")

HEADER = """\
{modeline}
# A starter experiment: edit the topics, the extractors and the probe to fit your service.
# Check it with `chaosbus validate FILE`; run it with `chaosbus run FILE --report out/run.json`.
# Every field: docs/experiments.md, or `chaosbus schema`. The shipped scenarios
# (`chaosbus scenarios`) show every other fault and model.
name: my-first-experiment
hypothesis: >-
  {hypothesis}
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
"""

FOOTER = """\
steady_state:
  - {metric: anomalies.total, max: 0}
guardrails:
  - {name: holding-too-much, metric: held, max: 5000, for_s: 2}
"""

ENTITY_EXTRACT = """\
      # Only some events change the entity? Select them: where: {path: $.type, equals: x}
      extract:
        event_id: {json: $.event_id}
        entity: record_key
        version: {json: $.version}
"""

CHECKS = {
    "redis": """\
    # Where the service keeps each entity: a Redis hash per key with a version field.
    - name: entity-state
      model: entity
"""
    + ENTITY_EXTRACT
    + """\
      probe:
        kind: redis
        key: "entity:{entity}"       # the key per entity; run --key-prefix goes before it
        field: version               # a hash field; omit it for a string holding the number
""",
    "http": """\
    # What the service answers over HTTP: GET the entity, a number at a JSON path.
    - name: entity-state
      model: entity
"""
    + ENTITY_EXTRACT
    + """\
      probe:
        kind: http
        url: "http://127.0.0.1:8080/entities/{entity}"   # {entity} is URL-quoted
        json: $.version              # the version in the answer; null reads as absent
        absent_statuses: [404, 410]  # these mean the entity is absent (deleted)
        timeout_s: 5                 # a slower answer, a 5xx or another 4xx fails the read
        concurrency: 8               # requests in flight at once
""",
    "sql": """\
    # The service's rows in PostgreSQL: the first column of the first row, read-only.
    - name: entity-state
      model: entity
"""
    + ENTITY_EXTRACT
    + """\
      probe:
        kind: sql
        dsn: "postgresql://reader@127.0.0.1:5432/service"   # a read-only user is enough
        query: "SELECT version FROM entities WHERE id = %(entity)s"   # no row: absent
        timeout_s: 5
""",
    "kafka": """\
    # An effects topic the service writes: one message per effect, naming its event.
    # Each event must have exactly one effect, however often it was delivered.
    - name: effect-once
      model: once
      extract:
        event_id: {json: $.event_id}
      probe:
        kind: kafka
        topic: effects               # the service's own output topic
        event_id: {json: $.event_id} # where an effect names the event that caused it
""",
}

HYPOTHESES = {
    "kafka": "Every event has exactly one effect even when the automation delivers it twice.",
}
ENTITY_HYPOTHESIS = (
    "Every entity ends at its newest version even when the automation delivers each event twice."
)


def starter_experiment(
    source: str, destination: str, probe: str = "redis", schema: str | None = None
) -> str:
    """The starter text; `schema` is what the modeline points at (None: no modeline)."""
    if probe not in CHECKS:
        raise ValueError(f"no starter for probe {probe!r} (one of {', '.join(STARTER_PROBES)})")
    header = HEADER.format(
        modeline=modeline(schema) if schema else "",
        hypothesis=HYPOTHESES.get(probe, ENTITY_HYPOTHESIS),
        source=source,
        destination=destination,
    )
    if not schema:
        header = header.removeprefix("\n")
    return header + CHECKS[probe] + FOOTER
