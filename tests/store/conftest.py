"""Store tests run each contract on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lightkeeper.store import Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated ops database, disposed of afterwards."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()
