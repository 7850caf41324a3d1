"""The demo: a real low-code automation (Node-RED), two ledger services and their traffic.

- `chaosbus_demo.nodered`: install and run the Node-RED flow that turns webhook calls into
  records on the source topic.
- `chaosbus_demo.n8n_install`, `chaosbus_demo.n8n`: the same with n8n (its own Node 24,
  installed once into the cache); `chaosbus_demo.automations` picks one for the demo.
- `chaosbus_demo.services`: `ledger-naive` and `ledger-safe`, consumers of the interposed
  topic that keep a ledger in Redis (`chaosbus_demo.ledgers` holds their Redis logic).
- `chaosbus_demo.traffic`: the outside world calling the webhook (or, for tests, producing
  to the source topic directly).
- `chaosbus_demo.events`: the order events all of them exchange.

Errors (what the demo cannot start or reach is the app shell's `ChaosbusError`)::

    DemoError              base of every error raised by `chaosbus_demo`
    ├── BadEvent           a payload that is not an order event (also a `ValueError`)
    └── WebhookError       the webhook refused an event or did not answer
"""
