"""The credit workspace for serving tests: constants and version recipes."""

from __future__ import annotations

from lightkeeper.auth import Principal

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")
ADMIN = Principal("root", "admin")
ROW = {"income": 40.0, "age": 35, "region": "south"}
BOOM_INCOME = 123.456

ROLLOUT = """
rollout:
  observe_seconds: 3
  min_requests: 40
  max_error_rate: 0.05
  max_divergence: 0.3
"""
BOOM_ON_VALUE = (
    "steps.insert(0, FunctionTransformer("
    f"lambda X: X if not (X['income'] == {BOOM_INCOME}).any() else 1 / 0))"
)
BOOM_ALWAYS = "steps.insert(0, FunctionTransformer(lambda X: X if len(X) >= 40 else 1 / 0))"
