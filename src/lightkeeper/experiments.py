"""Control groups: a stable, salted share of entities left untreated.

An entity is in the holdout when the keyed hash of its key (the salt is the hash key)
falls below the share. The same key and salt give the same answer on every run and
every machine, so the business can leave those entities alone and later compare their
outcomes with the treated ones: the model's real effect, free of self-fulfilling
prophecies. A new salt draws a new, independent group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def in_holdout(keys: Iterable[str], *, share: float, salt: str) -> np.ndarray:
    """A boolean per key: in the holdout (``share`` of all keys, stable per key and salt)."""
    salt_bytes = hashlib.blake2b(salt.encode(), digest_size=32).digest()  # any length of salt
    blake2b = hashlib.blake2b
    positions = np.fromiter(
        (
            int.from_bytes(blake2b(k.encode(), digest_size=8, key=salt_bytes).digest(), "big")
            for k in keys
        ),
        dtype=np.float64,
    )
    return positions < share * 2**64
