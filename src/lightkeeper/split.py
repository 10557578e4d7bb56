"""Stable splits by key: the same key always lands in the same place.

Online routing (canary by ``X-Routing-Key``) and batch canaries use :func:`bucket`, so a
customer on the canary online is on it in the nightly batch too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def bucket(key: str) -> float:
    """A stable position of ``key`` in [0, 100)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100


def buckets(keys: Iterable[str]) -> np.ndarray:
    """:func:`bucket` of many keys, as a float array."""
    blake2b = hashlib.blake2b
    return np.fromiter(
        (int.from_bytes(blake2b(k.encode(), digest_size=8).digest(), "big") for k in keys),
        dtype=np.float64,
    ) * (100 / 2**64)
