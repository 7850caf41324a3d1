"""The names one demo run uses: topics, consumer groups and Redis key prefixes.

Every name carries the run id, so a second demo on the same broker and Redis never sees the
first one's history: the monitors compare Redis counters as absolute values, and a new
consumer group starts from the earliest offset of its topic.

One source topic (what Node-RED publishes) feeds every experiment. Each experiment
interposes into a destination topic of its own, read by a naive and a safe service of its
own, so its verdict is not clouded by the experiment before it (after a duplicate storm the
naive service's counters are already wrong, and would stay wrong in the next verdict).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chaosbus.clients.connection import KafkaSettings
from chaosbus_demo.services import KINDS, Kind, ServiceConfig

DEMO_EXPERIMENTS = ("duplicate-storm", "out-of-order-updates")
PARTITIONS = 3


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Stage:
    """One experiment's slice of the demo: its interposed topic, the runner's group, services."""

    run_id: str
    experiment: str

    @property
    def _stem(self) -> str:
        return f"demo-{self.run_id}.{self.experiment}"

    @property
    def destination(self) -> str:
        return f"{self._stem}.orders"

    @property
    def runner_group(self) -> str:
        return f"{self._stem}.chaosbus"

    def prefix(self, kind: Kind) -> str:
        return f"{kind}:demo-{self.run_id}-{self.experiment}:"

    def service(self, kind: Kind, *, kafka: KafkaSettings, redis_url: str) -> ServiceConfig:
        return ServiceConfig(
            kind=kind,
            topic=self.destination,
            kafka=kafka,
            redis_url=redis_url,
            prefix=self.prefix(kind),
            group_id=f"{self._stem}.ledger-{kind}",
        )

    def services(self, *, kafka: KafkaSettings, redis_url: str) -> list[ServiceConfig]:
        return [self.service(k, kafka=kafka, redis_url=redis_url) for k in KINDS]


@dataclass(frozen=True)
class DemoPlan:
    run_id: str
    experiments: tuple[str, ...] = DEMO_EXPERIMENTS

    @property
    def source(self) -> str:
        return f"demo-{self.run_id}.orders.nocode"

    @property
    def namespace(self) -> str:
        """Put before every order id of the traffic, so runs never share an order."""
        return f"{self.run_id}-"

    @property
    def stages(self) -> list[Stage]:
        return [Stage(self.run_id, name) for name in self.experiments]

    @property
    def topics(self) -> list[str]:
        return [self.source, *(stage.destination for stage in self.stages)]
