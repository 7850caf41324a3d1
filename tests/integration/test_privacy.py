"""`privacy: {identifiers: hashed}` on a real run: no raw key, event id or entity in the
ledger or the report."""

from __future__ import annotations

import json

import pytest

from chaosbus.contracts.ledger_record import LEDGER_TOPIC, decode_ledger
from chaosbus.experiment.governance import Privacy
from chaosbus.testing import ledger_of, read_all
from tests.integration.runner_support import make_stage, run_against

pytestmark = pytest.mark.integration


class TestHashedIdentifiers:
    async def test_nothing_written_names_a_key(
        self, bootstrap: str, redis_url: str, topic_name: str
    ) -> None:
        """Keys, event ids and customers of the source appear nowhere in ledger or report."""
        stage = await make_stage(bootstrap, redis_url, topic_name)
        spec = stage.spec("duplicate-storm").model_copy(
            update={"privacy": Privacy(identifiers="hashed")}
        )
        report = await run_against(stage, "naive", spec)
        source = await read_all(bootstrap, stage.source)
        raw: set[str] = set()
        for record in source:
            raw.add((record.key or b"").decode())
            body = json.loads(record.value or b"{}")
            raw.update(str(body[f]) for f in ("event_id", "customer", "order_id") if f in body)
        ours = [
            r
            for r in await read_all(bootstrap, LEDGER_TOPIC)
            if decode_ledger(r.value or b"")[0].run_id == report.run_id
        ]
        assert len(ledger_of(ours)) == len(source)
        ledger = [(r.key or b"", r.value or b"") for r in ours]
        written = [report.model_dump_json(), *(k.decode() + v.decode() for k, v in ledger)]
        leaks = sorted(x for x in raw if x and any(x in text for text in written))
        assert leaks == []
        units = [e.unit for found in report.anomalies.examples.values() for e in found]
        assert units
        assert all(u.startswith("h-") for u in units)
