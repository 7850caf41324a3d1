"""chaosbus: event-stream chaos for async integrations (the app shell)."""

__version__ = "0.1.0"
