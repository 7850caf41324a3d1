"""chaosbus: streams."""
