"""The drift-to-webhook path on PostgreSQL: claims, guarded state changes and deliveries
against a real server (the MLflow store stays the workspace's own)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper, Settings
from lightkeeper.testing import ANALYST, OPERATOR, OWNER, Recorder, credit_gold
from support import Inbox, log_rows, shifted

END = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_a_drift_alarm_is_delivered_once_and_resolved_on_postgresql(
    home: Path, postgres_url: str, hooks: Recorder, inbox: Inbox
) -> None:
    lk = Lightkeeper(Settings.load({"home": home, "database_url": postgres_url}, environ={}))
    lk.gold.add(
        "credit-gold",
        credit_gold(600),
        owner="risk",
        label_column="defaulted",
        model="credit",
        by=OWNER,
    )
    lk.gold.approve("credit-gold", 1, by=OWNER)
    lk.gate.run("credit", 1, by=ANALYST)
    lk.gate.accept("credit", 1, by=OPERATOR)
    lk.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    try:
        log_rows(lk, shifted(1500, 1), at=END - timedelta(minutes=30))
        lk.drift.run("credit-online", window="1h", end=END, by=OPERATOR)
        [alarm] = lk.alarms.find()
        assert {d.status for d in alarm.deliveries} == {"delivered"} and len(alarm.deliveries) == 5
        assert lk.alarms.deliver(everything=True) == []  # nothing pending: nothing sent twice
        assert len(hooks.bodies("/hook")) == 1 and len(inbox.messages) == 1
        log_rows(lk, shifted(1500, 2), at=END + timedelta(minutes=30))
        lk.drift.run("credit-online", window="1h", end=END + timedelta(hours=1), by=OPERATOR)
        [again] = lk.alarms.find()
        assert (again.id, again.occurrences) == (alarm.id, 2)
        lk.alarms.acknowledge(alarm.id, by=OPERATOR)
        done = lk.alarms.resolve(alarm.id, reason="feed fixed", by=OPERATOR)
        assert done.state == "resolved" and done.pending == 0
        assert json.loads(hooks.bodies("/hook")[-1])["alarm"]["resolution"] == "feed fixed"
        assert lk.alarms.find() == [] and len(lk.alarms.find(state=None)) == 1
    finally:
        lk.close()
