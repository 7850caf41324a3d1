"""A small order service: reads `orders`, keeps each order and its paid total, serves them."""

import asyncio
import json
import os

from aiohttp import web
from aiokafka import AIOKafkaConsumer

orders: dict[str, dict] = {}  # order id -> {"version": …, "status": …}
paid: dict[str, int] = {}  # order id -> cents paid


def apply(event: dict) -> None:
    order_id = event["order_id"]
    orders[order_id] = {"version": event["version"], "status": event["status"]}
    if event["status"] == "paid":
        paid[order_id] = paid.get(order_id, 0) + event["amount"]


async def get_order(request: web.Request) -> web.Response:
    found = orders.get(request.match_info["id"])
    return web.json_response(found) if found else web.json_response({}, status=404)


async def get_total(request: web.Request) -> web.Response:
    return web.json_response({"paid": paid.get(request.match_info["id"], 0)})


async def main() -> None:
    app = web.Application()
    app.add_routes([web.get("/orders/{id}", get_order), web.get("/totals/{id}", get_total)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("PORT", "8080"))).start()
    consumer = AIOKafkaConsumer(
        os.environ.get("TOPIC", "orders"),
        bootstrap_servers=os.environ.get("CHAOSBUS_BOOTSTRAP", "127.0.0.1:19092"),
        auto_offset_reset="earliest",  # state in memory: rebuilt from the topic on start
    )
    await consumer.start()
    async for message in consumer:
        apply(json.loads(message.value))


asyncio.run(main())
