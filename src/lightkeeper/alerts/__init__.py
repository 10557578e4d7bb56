"""Alarms: rules turn events into alarms, sinks carry them where people work."""
