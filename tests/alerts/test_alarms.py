"""Alarms end to end: a drift check opens one alarm, every sink hears of it (a recording
HTTP server and a real SMTP server on 127.0.0.1), repeats are counted, a clean check
resolves it; a sink that is down keeps its delivery pending and visible until it is back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.alerts.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_ok
from lightkeeper.errors import AlarmNotFound, AlarmStateRefused, InvalidInput, PermissionDenied
from lightkeeper.events import (
    BatchRunFailed,
    BatchRunFinished,
    GateFailed,
    GatePassed,
    RolloutDecided,
)
from lightkeeper.testing import OPERATOR, OWNER, Recorder, credit_gold
from lightkeeper.web.api import build_api
from support import HOOK_SECRET, Inbox, log_rows, shifted

END = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
JIRA = "/rest/api/2/issue"


def drifted_check(lk: Lightkeeper, hours: int) -> None:
    log_rows(lk, shifted(1500, hours), at=END + timedelta(hours=hours - 1))
    lk.drift.run("credit-online", window="1h", end=END + timedelta(hours=hours), by=OPERATOR)


def test_drift_opens_one_alarm_that_every_sink_hears_and_a_clean_check_resolves(
    lk: Lightkeeper, hooks: Recorder, inbox: Inbox
) -> None:
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    assert (alarm.rule, alarm.state, alarm.severity, alarm.occurrences) == (
        "drift",
        "open",
        "warning",
        1,
    )
    assert alarm.title == "Drift on credit-online: income, output of v1"
    assert alarm.dedup_key == "drift:deployment:credit-online"
    assert alarm.runbook is not None and alarm.runbook["code"] == "LK-DRIFT"
    assert alarm.owner["team"] == "risk-ops" and alarm.owner["on_call"] == "oncall@example.com"
    assert [(d.sink, d.status) for d in alarm.deliveries] == [
        ("log", "delivered"),
        ("hook", "delivered"),
        ("chat", "delivered"),
        ("mail", "delivered"),
        ("tickets", "delivered"),
    ]
    # the webhook: signed JSON with model, version, deployment, evidence, runbook
    [(_, headers, body)] = [r for r in hooks.requests if r[0] == "/hook"]
    signature, stamp = headers[SIGNATURE_HEADER.lower()], headers[TIMESTAMP_HEADER.lower()]
    assert signature_ok(HOOK_SECRET, body, signature, stamp)
    assert not signature_ok("another-key", body, signature, stamp)
    assert not signature_ok(HOOK_SECRET, body + b" ", signature, stamp)
    assert not signature_ok(HOOK_SECRET, body, signature, stamp, now=int(stamp) + 3600)  # replayed
    sent = json.loads(body)
    assert sent["event"] == "alarm.opened" and sent["alarm"]["deployment"] == "credit-online"
    assert (sent["alarm"]["model"], sent["alarm"]["version"]) == ("credit", 1)
    assert sent["evidence"]["drifted"] == ["income"] and "first action" in sent["text"]
    assert sent["runbook"]["first_action"].startswith("check the upstream feed")
    [chat] = hooks.bodies("/chat/T000/B000/XXXX")
    assert json.loads(chat)["blocks"][0]["text"]["text"] == alarm.title
    [issue] = hooks.bodies(JIRA)
    fields = json.loads(issue)["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["summary"] == alarm.title
    [mail] = inbox.messages
    assert mail["Subject"] == f"[lightkeeper WARNING] {alarm.title}"
    assert mail["To"] == "oncall@example.com" and "LK-DRIFT" in mail.get_content()
    # the same problem again: counted, nobody paged twice
    drifted_check(lk, 2)
    [again] = lk.alarms.find()
    assert (again.id, again.occurrences, len(again.deliveries)) == (alarm.id, 2, 5)
    assert len(hooks.requests) == 3 and len(inbox.messages) == 1
    # a clean window resolves it, and every sink hears that too
    log_rows(lk, credit_gold(1500, seed=40), at=END + timedelta(hours=2, minutes=5))
    lk.drift.run("credit-online", window="1h", end=END + timedelta(hours=3), by=OPERATOR)
    assert lk.alarms.find() == []
    done = lk.stores.alarms.get(alarm.id)
    assert done.state == "resolved" and done.resolved_by == "lightkeeper"
    assert done.resolution is not None and done.resolution.startswith("auto: no drift")
    resolved = [d for d in done.deliveries if d.message == "resolved"]
    assert [d.status for d in resolved] == ["delivered"] * 5
    assert json.loads(hooks.bodies("/hook")[-1])["event"] == "alarm.resolved"
    [comment] = hooks.bodies(f"{JIRA}/OPS-1/comment")
    assert "[RESOLVED]" in json.loads(comment)["body"]
    assert inbox.messages[-1]["Subject"].startswith("[lightkeeper RESOLVED]")
    kinds = [e.kind for e in lk.audit_entries() if e.kind.startswith("alarm.")]
    assert sorted(kinds) == ["alarm.opened", "alarm.resolved"]


def test_a_threshold_on_the_share_of_drifted_features_keeps_a_rule_quiet(
    lk: Lightkeeper,
) -> None:
    drifted_check(lk, 1)  # one feature of three: the drift-most rule wants half
    assert [a.rule for a in lk.alarms.find(state=None)] == ["drift"]


def test_a_sink_that_is_down_keeps_the_message_pending_until_it_is_back(
    lk: Lightkeeper, hooks: Recorder, cli
) -> None:
    hooks.fail_with = 503
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    pending = {d.sink: d for d in alarm.deliveries if d.status == "pending"}
    assert set(pending) == {"hook", "chat", "tickets"} and alarm.pending == 3
    assert pending["hook"].attempts == 1 and "answered 503" in (pending["hook"].last_error or "")
    assert pending["hook"].next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)
    assert lk.alarms.deliver() == []  # not due yet: backing off
    code, text, _ = cli("alarms", "list")
    assert code == 0 and "Drift on credit-online" in text and text.rstrip().endswith("\t3")
    code, text, _ = cli("alarms", "deliver", "--all")
    assert code == 1 and "failed" in text and "503" in text
    hooks.fail_with = None
    code, text, _ = cli("alarms", "deliver", "--all")
    assert code == 0 and text.count("delivered") == 3
    back = lk.stores.alarms.get(alarm.id)
    assert back.pending == 0 and {d.attempts for d in back.deliveries if d.sink == "hook"} == {3}
    assert len(hooks.bodies("/hook")) == 3 and len(hooks.bodies(JIRA)) == 3
    assert lk.stores.alarms.pending_count() == 0


def test_a_missing_secret_is_named_and_the_delivery_kept(
    lk: Lightkeeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LK_TEST_HOOK_SECRET")
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    [hook] = [d for d in alarm.deliveries if d.sink == "hook"]
    assert hook.status == "pending"
    assert "LK_TEST_HOOK_SECRET (secret_env of sink hook) is not set" in (hook.last_error or "")


def test_ack_and_resolve_by_hand_with_the_cli(lk: Lightkeeper, cli, hooks: Recorder) -> None:
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    code, text, _ = cli("alarms", "show", str(alarm.id))
    assert code == 0 and "LK-DRIFT" in text and "first action" in text and "tickets" in text
    code, text, _ = cli("alarms", "ack", str(alarm.id), "--note", "looking")
    assert code == 0 and "acknowledged" in text
    code, _, err = cli("alarms", "ack", str(alarm.id))
    assert code == 2 and "LK-ALARM-STATE" in err and "acknowledged" in err
    code, text, _ = cli("alarms", "resolve", str(alarm.id), "--reason", "feed fixed")
    assert code == 0 and "feed fixed" in text and "resolved" in text
    code, text, _ = cli("alarms", "list", "--state", "resolved", "--json")
    [shown] = json.loads(text)["alarms"]
    assert shown["resolution"] == "feed fixed" and shown["acknowledged_by"]
    assert json.loads(hooks.bodies("/hook")[-1])["alarm"]["resolution"] == "feed fixed"
    code, _, err = cli("alarms", "resolve", str(alarm.id), "--reason", "again")
    assert code == 2 and "already resolved" in err
    code, _, err = cli("alarms", "show", "999")
    assert code == 2 and "LK-ALARM-NOT-FOUND" in err
    code, _, err = cli("alarms", "list", "--state", "sleeping")
    assert code == 2 and "not an alarm state" in err


def test_refusals(lk: Lightkeeper) -> None:
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    with pytest.raises(PermissionDenied, match="may not alarm manage"):
        lk.alarms.acknowledge(alarm.id, by=OWNER)
    with pytest.raises(InvalidInput, match="needs a reason"):
        lk.alarms.resolve(alarm.id, reason=" ", by=OPERATOR)
    with pytest.raises(AlarmNotFound, match="no alarm 999"):
        lk.alarms.acknowledge(999, by=OPERATOR)
    lk.alarms.resolve(alarm.id, reason="done", by=OPERATOR)
    with pytest.raises(AlarmStateRefused, match="cannot be acknowledged"):
        lk.alarms.acknowledge(alarm.id, by=OPERATOR)


def test_a_failed_gate_opens_an_alarm_that_a_passed_gate_resolves(
    lk: Lightkeeper, hooks: Recorder
) -> None:
    common = {"actor": "ana", "model": "credit", "version": 1, "gate_run_id": 7}
    lk.bus.publish(GateFailed(**common, verdict="failed", failed_checks=["metric:accuracy"]))
    [alarm] = lk.alarms.find()
    assert (alarm.rule, alarm.deployment, alarm.model) == ("gate-failed", None, "credit")
    assert alarm.title == "Gate failed for credit v1: metric:accuracy"
    assert alarm.runbook is not None and alarm.runbook["code"] == "LK-MODEL-ERROR"
    lk.bus.publish(GatePassed(**common, verdict="passed"))
    assert lk.alarms.find() == [] and len(hooks.bodies("/hook")) == 2


def test_the_api_lists_shows_acks_and_resolves(lk: Lightkeeper, serve) -> None:
    drifted_check(lk, 1)
    [alarm] = lk.alarms.find()
    base = serve(build_api(lk))
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as http:
        [listed] = http.get("/alarms").json()["alarms"]
        assert listed["id"] == alarm.id and listed["pending_deliveries"] == 0
        shown = http.get(f"/alarms/{alarm.id}").json()
        assert shown["runbook"]["code"] == "LK-DRIFT" and len(shown["deliveries"]) == 5
        acked = http.post(f"/alarms/{alarm.id}/ack", json={"note": "on it"})
        assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
        again = http.post(f"/alarms/{alarm.id}/ack")
        assert again.status_code == 409 and again.json()["error"]["code"] == "LK-ALARM-STATE"
        refused = http.post(f"/alarms/{alarm.id}/resolve", json={})
        assert refused.status_code == 422
        done = http.post(f"/alarms/{alarm.id}/resolve", json={"reason": "fixed"})
        assert done.status_code == 200 and done.json()["state"] == "resolved"
        assert http.get("/alarms").json()["alarms"] == []
        assert len(http.get("/alarms", params={"state": "all"}).json()["alarms"]) == 1
        assert http.get("/alarms/999").status_code == 404


def test_performance_under_the_rules_level_alarms_and_recovery_resolves(lk: Lightkeeper) -> None:
    rows = credit_gold(400, seed=60)
    at = END - timedelta(hours=1)
    log_rows(lk, rows, at=at)
    ids = [f"r{at:%H%M}-{i}" for i in range(len(rows))]
    wrong = pd.DataFrame({"request_id": ids, "defaulted": 1 - rows["defaulted"]})
    lk.labels.ingest("credit-online", wrong, by=OPERATOR)
    lk.performance.run("credit-online", window="2h", end=END, by=OPERATOR)
    [alarm] = [a for a in lk.alarms.find() if a.rule == "accuracy-low"]
    assert alarm.severity == "critical" and "(measured)" in alarm.title
    right = wrong.assign(defaulted=rows["defaulted"])
    lk.labels.ingest("credit-online", right, by=OPERATOR)
    lk.performance.run("credit-online", window="2h", end=END, by=OPERATOR)
    assert [a for a in lk.alarms.find() if a.rule == "accuracy-low"] == []


def test_a_rolled_back_canary_and_a_failed_batch_run_alarm(lk: Lightkeeper) -> None:
    lk.bus.publish(
        RolloutDecided(
            actor="controller",
            reason="challenger error rate 9% is above the allowed 5%",
            deployment="credit-online",
            model="credit",
            decision="rollback",
            challenger=1,
            champion=1,
            evidence={"divergence": 0.01},
        )
    )
    failed = {"actor": "olga", "deployment": "credit-online", "run_id": 4, "partition": "p"}
    lk.bus.publish(BatchRunFailed(**failed, error="InputUnavailable: gone", resumable=True))
    by_rule = {a.rule: a for a in lk.alarms.find()}
    assert set(by_rule) == {"canary-back", "batch-failed"}
    assert by_rule["canary-back"].title == "Canary v1 of credit-online rolled back"
    summary = by_rule["canary-back"].evidence["summary"]
    assert summary == "challenger error rate 9% is above the allowed 5%"
    assert by_rule["batch-failed"].severity == "critical"
    done = {k: v for k, v in failed.items() if k != "partition"}
    lk.bus.publish(
        BatchRunFinished(**done, partition="p", rows_in=1, rows_out=1, rows_rejected=0, versions={})
    )
    assert [a.rule for a in lk.alarms.find()] == ["canary-back"]  # resolved by hand only
