"""chaosbus: monitors."""
