"""Create the topic the automation writes and the one the service reads (3 partitions)."""

import asyncio
import os

from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def main() -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=os.environ.get("CHAOSBUS_BOOTSTRAP", "127.0.0.1:19092")
    )
    await admin.start()
    try:
        names = os.environ.get("TOPICS", "orders.nocode orders").split()
        await admin.create_topics([NewTopic(name, 3, 1) for name in names])
    finally:
        await admin.close()


asyncio.run(main())
