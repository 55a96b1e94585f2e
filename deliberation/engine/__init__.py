"""Engines: the threshold rule, the escalation engine and snapshot computation."""
