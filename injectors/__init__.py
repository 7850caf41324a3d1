"""chaosbus: injectors."""
