"""Traffic that resembles real traffic: record a window of a topic, replay it, generate it.

    records.py         TrafficRecord: key, value, headers, timestamp, partition, offset
    file_format.py     the recording file: versioned, framed, streamed (docs/traffic.md)
    errors.py          TrafficError and its kinds, each exit 2 with one line
    selectors.py       key / header:NAME / $.json.path, and rewriting values there  (pure)
    privacy.py         keyed pseudonyms and dropped fields, failing closed          (pure)
    recorder.py        a topic's window, read-only, merged by time → a file         (I/O)
    pacing.py          when each record is due; fresh ids per lap                   (pure)
    replayer.py        records → a topic, paced, per-key order kept                 (I/O)
    fields.py          typed field generators (mimesis for realistic values)        (pure)
    generator_spec.py  the traffic spec: lifecycles, rate, ramp, bursts            (pure)
    generator.py       a spec → interleaved entity lifecycles                       (pure)
    fidelity.py        two traffics side by side, with tolerances                   (pure)
    inference.py       a recording → proposed extractors and traffic spec          (pure)
    workload.py        an experiment's `workload:` as the runner drives it          (I/O)
    commands/          the typer commands: record, replay, generate, fidelity, init's part

A recording is the one interchange: `record` writes one, `generate` writes one, `replay`
plays one, `fidelity` compares two, `init --from-recording` reads one.
"""
