"""The demo's pricing API: the HTTP service the priced-orders flows call before publishing.

A small aiohttp service: `POST /price` with `{"order_id", "amount"}` answers a price and
counts the calls per idempotency key, so a test can tell how often the automation's retries
reached it. It runs in-process (`serving()`), or as a process for compose:
`python -m chaosbus_demo.pricing --port 9300`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


class PricingService:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def price(self, request: web.Request) -> web.Response:
        try:
            order = await request.json()
            amount = int(order["amount"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "expected {order_id, amount}"}, status=400)
        self.calls[request.headers.get("idempotency-key", "")] += 1
        return web.json_response({"order_id": order.get("order_id"), "price": amount})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/price", self.price)
        return app


@asynccontextmanager
async def serving(
    host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[PricingService, str]]:
    """Run the service until the block ends; yields it and its base URL."""
    service = PricingService()
    runner = web.AppRunner(service.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        yield service, f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9300)
    args = parser.parse_args()
    web.run_app(PricingService().app(), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
