"""Which arm answers a request: the champion, or the challenger on its canary share.

With a routing key (a customer id, say) the choice is a stable hash of the key, so the
same key always lands on the same arm, and a customer on the canary stays there as the
share grows. Without a key each request is an independent draw.
"""

from __future__ import annotations

import random

from lightkeeper.serving.loader import Plan
from lightkeeper.split import bucket


def choose_arm(plan: Plan, key: str | None, draw: random.Random | None = None) -> str:
    """``challenger`` for the canary share of traffic, else ``champion``."""
    if plan.challenger is None or plan.strategy != "canary" or not plan.percent:
        return "champion"
    position = bucket(key) if key is not None else (draw or random).random() * 100
    return "challenger" if position < plan.percent else "champion"


def shadowed(plan: Plan, key: str | None) -> bool:
    """Whether a copy of this request goes to the shadow challenger."""
    if plan.challenger is None or plan.strategy != "shadow":
        return False
    share = 100.0 if plan.percent is None else plan.percent
    position = bucket(key) if key is not None else random.random() * 100
    return position < share
