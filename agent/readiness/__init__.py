"""Readiness: for every customer and every source that reads in it, whether the agent can read
it, and if not why and what fixes it; with the share of the estate fully readable."""
