"""Incidents: the state machine, SLA timers, comments and attachments."""
