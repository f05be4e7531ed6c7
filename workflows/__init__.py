"""Approval processes, state machines, automations and the outbox (issue 7)."""
