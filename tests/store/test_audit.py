"""The store contract, run on SQLite and on a real PostgreSQL server."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lightkeeper.clock import FixedClock
from lightkeeper.errors import DatabaseOutdated, DatabaseUnavailable, SettingsError
from lightkeeper.events import EventBus, VersionRegistered
from lightkeeper.store import AuditStore, Database

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_upgrade_is_idempotent(db: Database) -> None:
    head = db.head_revision()
    assert db.current_revision() == head
    assert db.upgrade() == (head, head)


def test_audit_appends_and_lists_newest_first(db: Database) -> None:
    clock = FixedClock(T0)
    store = AuditStore(db, clock)
    bus = EventBus(store)
    first = bus.publish(VersionRegistered(actor="ana", model="churn", version=1))
    clock.advance(timedelta(minutes=5))
    second = bus.publish(
        VersionRegistered(actor="bo", model="churn", version=2, reason="retrained on november")
    )
    clock.advance(timedelta(minutes=5))
    store.record(kind="note.added", actor="cy", subject="model:churner", payload={"x": [1, 2]})

    entries = store.list()
    assert [e.kind for e in entries] == ["note.added", "version.registered", "version.registered"]
    assert entries[1].id == second and entries[2].id == first
    assert entries[1].at == T0 + timedelta(minutes=5)
    assert entries[1].reason == "retrained on november"
    assert entries[1].payload == {"model": "churn", "version": 2, "run_id": None, "data_hash": None}
    assert entries[0].payload == {"x": [1, 2]}


def test_audit_filters(db: Database) -> None:
    clock = FixedClock(T0)
    store = AuditStore(db, clock)
    bus = EventBus(store)
    bus.publish(VersionRegistered(actor="ana", model="churn", version=1))
    clock.advance(timedelta(hours=2))
    bus.publish(VersionRegistered(actor="bo", model="churn_v2", version=1))
    store.record(kind="version", actor="bo", subject="model:churn", payload={})

    assert {e.subject for e in store.list(subject="model:churn")} == {
        "model:churn/1",
        "model:churn",
    }
    assert [e.actor for e in store.list(actor="ana")] == ["ana"]
    assert len(store.list(kind="version")) == 3
    assert len(store.list(kind="version.registered")) == 2
    assert [e.subject for e in store.list(since=T0 + timedelta(hours=1))] == [
        "model:churn",
        "model:churn_v2/1",
    ]
    assert len(store.list(until=T0 + timedelta(hours=1))) == 1
    assert len(store.list(limit=1)) == 1


def test_subscribers_get_events_and_a_failing_one_does_not_stop_the_others(db: Database) -> None:
    bus = EventBus(AuditStore(db, FixedClock(T0)))
    seen: list[str] = []

    def broken(_event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(VersionRegistered, broken)
    bus.subscribe(VersionRegistered, lambda e: seen.append(e.subject))
    bus.publish(VersionRegistered(actor="ana", model="churn", version=3))
    assert seen == ["model:churn/3"]


def test_unknown_schema_revision_is_refused(db: Database) -> None:
    with db.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseOutdated, match="revision 9999"):
        db.upgrade()


def test_unreachable_postgres_names_the_url_without_password() -> None:
    db = Database("postgresql://lk:secret@127.0.0.1:1/ops")
    with pytest.raises(
        DatabaseUnavailable, match=r"cannot open the ops database at .*127\.0\.0\.1:1/ops"
    ):
        db.upgrade()
    with pytest.raises(DatabaseUnavailable) as info:
        db.upgrade()
    assert "secret" not in str(info.value)


def test_unopenable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseUnavailable, match="cannot open the ops database"):
        Database(f"sqlite:///{blocker}/sub/ops.db").upgrade()


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="database_url"):
        Database(url)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ops.db'}")
    db.upgrade()
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_since_with_a_utc_offset(db: Database) -> None:
    from datetime import timezone

    store = AuditStore(db, FixedClock(T0 + timedelta(hours=1)))  # 09:00 UTC
    store.record(kind="x", actor="a", subject="s", payload={})
    paris = timezone(timedelta(hours=2))
    assert len(store.list(since=datetime(2026, 11, 27, 10, 30, tzinfo=paris))) == 1  # 08:30 UTC
    assert store.list(since=datetime(2026, 11, 27, 11, 30, tzinfo=paris)) == []  # 09:30 UTC
