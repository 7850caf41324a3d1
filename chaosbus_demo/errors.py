"""Errors of the demo (a package of its own beside the product).

    DemoError              base of every error raised by `chaosbus_demo`
    ├── BadEvent           a payload that is not an order event (also a `ValueError`);
    │                      the services count and skip it (`events`)
    └── WebhookError       the webhook refused an event or did not answer (`traffic`)

What the demo cannot start or reach is the app shell's `ChaosbusError` (exit code 2).
"""

from __future__ import annotations


class DemoError(Exception):
    """Base class for every error raised by the demo."""
