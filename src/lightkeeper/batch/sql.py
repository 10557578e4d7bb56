"""SQL databases the batch reads from and writes to (any SQLAlchemy URL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from lightkeeper.errors import InvalidInput, SettingsError
from lightkeeper.store.db import sqlite_done_properly, with_driver


def is_url(text: str) -> bool:
    """Whether ``text`` is a database URL rather than a file path."""
    return "://" in text and not text.startswith("file://")


def engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets real transactions (DDL included) and WAL mode."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise InvalidInput(
            f"{_hide(url)} is not a database URL",
            hint="for example sqlite:///warehouse.db or postgresql://user@host/db",
        ) from None
    parsed = with_driver(parsed)
    try:
        created = sa.create_engine(parsed)
    except ImportError as exc:
        raise SettingsError(
            f"{parsed.render_as_string(hide_password=True)} needs a driver that is not "
            f"installed ({exc.name})",
            hint="pip install the database driver (lightkeeper[postgres] for PostgreSQL)",
        ) from None
    if created.dialect.name == "sqlite":
        # transactional DDL for staging, and WAL: the input can be read while the output
        # is written to the same file
        sqlite_done_properly(created)
    return created


def describe(url: str) -> str:
    """The URL with any password hidden."""
    return _hide(url)


def _hide(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
