"""The demo's automation, either kind: Node-RED (the default) or n8n, behind one webhook.

Both take an order event on `POST <webhook_url>` and publish it to the source topic. They
differ where the demo means them to: Node-RED's flow answers after the Kafka send (acks
-1); n8n answers on receipt and its Kafka node sends with acks=0, n8n's own defaults.
Node-RED stays the default: it starts in seconds, n8n in tens of seconds, and n8n's
webhook takes a few calls a second where Node-RED's takes dozens (README, n8n): the demo
with n8n sends fewer events, over a longer injection (`demo_defaults`).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from chaosbus.clients.connection import KafkaSettings
from chaosbus.errors import InvalidInput
from chaosbus_demo import n8n
from chaosbus_demo.infra import node_red_running, to_the_end
from chaosbus_demo.n8n_install import install as install_n8n

Kind = Literal["node-red", "n8n"]
KINDS: tuple[Kind, ...] = ("node-red", "n8n")
LABELS: dict[Kind, str] = {"node-red": "Node-RED", "n8n": "n8n"}
Say = Callable[[str], None]


@dataclass(frozen=True)
class Automation:
    kind: Kind
    webhook_url: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def demo_defaults(kind: Kind) -> dict[str, Any]:
    """The demo's rate and schedule for this automation (`DemoOptions` fields).

    n8n publishes about 5 events a second on these busy 2-core machines (each execution
    opens its own Kafka producer). Asked for more, the traffic would still be going when
    the run is judged, and customers still paying are not judged yet: 4 a second over 30 s
    of injection give the duplicate storm some 25 payments, all sent before the verdict.
    """
    if kind == "n8n":
        return {"rate": 4.0, "schedule": {"warmup_s": 3, "inject_s": 30, "recover_s": 6}}
    return {}


def automation_kind(text: str) -> Kind:
    """`--automation` as given on the command line; anything else is one line, exit 2."""
    for kind in KINDS:
        if text == kind:
            return kind
    raise InvalidInput(f"--automation {text!r}: expected one of {', '.join(KINDS)}")


@asynccontextmanager
async def automation_running(
    kind: Kind,
    *,
    kafka: KafkaSettings,
    topic: str,
    say: Say,
    node_red_install_dir: Path | None = None,
    n8n_install_dir: Path | None = None,
    name: str = "demo",
) -> AsyncIterator[Automation]:
    """Install (once) and start the automation publishing to `topic`; stop it on exit."""
    if kind == "node-red":
        async with node_red_running(
            kafka=kafka, topic=topic, say=say, install_dir=node_red_install_dir, name=name
        ) as node_red:
            yield Automation(kind, node_red.webhook_url)
        return
    n8n.refuse_secured(kafka)
    with tempfile.TemporaryDirectory(prefix=f"chaosbus-{name}-n8n-") as home:
        try:
            await to_the_end(partial(install_n8n, n8n_install_dir, progress=say))
            handle = await to_the_end(
                partial(
                    n8n.start,
                    bootstrap=kafka.bootstrap,
                    kafka=kafka,
                    home=Path(home),
                    topic=topic,
                    install_dir=n8n_install_dir,
                    progress=say,
                    # One execution at a time: n8n's own reordering of overlapping
                    # executions would catch the naive service before any fault does
                    # (`chaosbus handoff` shows that habit on its own).
                    concurrency=1,
                )
            )
            say(f"n8n up in {handle.started_s:.1f} s")
            yield Automation(kind, handle.webhook_url)
        finally:
            # By its home's pid file, so a start that was interrupted is stopped as well.
            if await asyncio.to_thread(n8n.stop, Path(home)):
                say("n8n stopped")
