"""Acceptance gate: checks, policy, report."""
