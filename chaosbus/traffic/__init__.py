"""Traffic that resembles real traffic: record a window of a topic, replay it, generate it.

    records.py      TrafficRecord: key, value, headers, timestamp, partition, offset
    file_format.py  the recording file (versioned, framed, streamed; docs/traffic.md)
    selectors.py    key / header:NAME / $.json.path, and rewriting values there    (pure)
    privacy.py      keyed pseudonyms and dropped fields, failing closed             (pure)
    recorder.py     a topic's window, read-only, merged by time → a file            (I/O)
    pacing.py       when each record is due; fresh ids per lap                      (pure)
    replayer.py     records → a topic, paced, per-key order kept                    (I/O)

A recording is the one interchange: `record` writes one, `generate` writes one, `replay`
plays one, `fidelity` compares two, `init --from-recording` reads one.
"""
