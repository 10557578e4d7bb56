"""A value a column cannot hold is the caller's mistake (LK-INVALID-INPUT), never a raw
database error: PostgreSQL refuses NUL characters in text and numbers past INTEGER."""

from __future__ import annotations

import pytest

from lightkeeper.clock import SystemClock
from lightkeeper.errors import InvalidInput
from lightkeeper.store import Database
from lightkeeper.store.alarms import AlarmStore
from lightkeeper.store.tokens import TokenStore


@pytest.mark.postgres
def test_postgresql_refusing_a_value_is_invalid_input(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.upgrade()
    try:
        with pytest.raises(InvalidInput, match="text fields cannot contain NUL") as refused:
            TokenStore(db, SystemClock()).create("nul\x00name", "operator", created_by="me")
        assert "remove NUL characters" in refused.value.hint
        with pytest.raises(InvalidInput, match="cannot store a value given: integer out of range"):
            AlarmStore(db, SystemClock()).get(2**40)
    finally:
        db.dispose()
