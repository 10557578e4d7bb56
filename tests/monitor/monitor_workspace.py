"""The monitor tests' workspace: constants and the manifest's monitoring section."""

from __future__ import annotations

from lightkeeper.auth import Principal

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")
MONITORING = """
monitoring:
  window: 1d
  every: 1h
"""
