"""Monitoring: reference profiles of training data and drift against live traffic."""
