"""The holdout is pinned: the same key and salt give the same group on every machine."""

from __future__ import annotations

from lightkeeper.experiments import in_holdout

KEYS = [f"customer-{i}" for i in range(12)]


def test_holdout_membership_is_pinned_per_key_and_salt() -> None:
    # Fixed values, not recomputed: an upgrade that moved customers between the
    # holdout and the treated group would spoil every running comparison.
    first = in_holdout(KEYS, share=0.3, salt="2026-q4")
    other = in_holdout(KEYS, share=0.3, salt="other")
    assert [i for i, held in enumerate(first) if held] == [0, 3, 6, 9, 10]
    assert [i for i, held in enumerate(other) if held] == [1, 4, 10, 11]


def test_holdout_draws_its_share() -> None:
    keys = [f"k{i}" for i in range(20_000)]
    share = in_holdout(keys, share=0.1, salt="s").mean()
    assert 0.09 < share < 0.11
