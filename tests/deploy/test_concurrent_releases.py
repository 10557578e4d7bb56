"""Releases raced by real processes on one deployment (SQLite file and PostgreSQL): each
caller gets back the record it inserted, and the aliases and audit entry it makes
describe that record, never another process's release."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from lightkeeper.auth import Principal
from lightkeeper.clock import SystemClock
from lightkeeper.deploy.releases import Releases
from lightkeeper.errors import ReleaseRefused
from lightkeeper.events import EventBus
from lightkeeper.registry import Registry
from lightkeeper.store import Database
from lightkeeper.store.audit import AuditStore
from lightkeeper.store.deploy import DeployStore
from lightkeeper.store.gate import GateStore
from racing import race

MODEL = "credit"
DEPLOYMENT = "credit-online"
VERSIONS = 5
PROCESSES = 4
ROUNDS = 60


class AliasRecorder(Registry):
    """The model registry as releases see it: versions 1..VERSIONS exist, and every alias
    the release mirrors to MLflow is recorded at the client. (MLflow itself is not what is
    raced here, and importing it would cost each process seconds.)"""

    def __init__(self) -> None:
        super().__init__("sqlite:///unused-mlflow.db")
        self._client = self  # type: ignore[assignment]
        self.aliases: dict[str, int] = {}
        self.set: list[tuple[str, str]] = []

    @contextmanager
    def _translate(self, model: str | None = None, version: int | None = None) -> Iterator[None]:
        yield  # no MLflow, no MLflow errors to translate

    def get_version(self, name: str, version: int | str) -> Any:
        assert name == MODEL and 1 <= int(version) <= VERSIONS
        return SimpleNamespace(version=int(version))

    def get_model(self, name: str) -> Any:
        return SimpleNamespace(aliases=dict(self.aliases))

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self.aliases[alias] = int(version)
        self.set.append((alias.split("-")[0], version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.aliases.pop(alias, None)


def releasing(start: Callable[[], object], url: str, who: str, offset: int) -> dict[str, Any]:
    """One operator's process: release, canary and roll back, ROUNDS times, as fast as it
    can; every record returned (and the aliases set for it) is reported back."""
    db = Database(url)
    clock = SystemClock()
    registry = AliasRecorder()
    operator = Principal(who, "operator")
    releases = Releases(
        deployments=DeployStore(db, clock),
        gates=GateStore(db, clock),
        registry=registry,
        bus=EventBus(AuditStore(db, clock)),
        whoami=lambda: operator,
    )
    start()
    try:
        made, refused = _release_rounds(releases, registry, who, offset)
    finally:
        db.dispose()
    return {"who": who, "made": made, "refused": refused}


def _release_rounds(
    releases: Releases, registry: AliasRecorder, who: str, offset: int
) -> tuple[list[dict[str, Any]], int]:
    by = Principal(who, "operator")
    made: list[dict[str, Any]] = []
    refused = 0
    for step in range(ROUNDS):
        reason = f"{who} step {step}"
        version = 1 + (offset + step) % VERSIONS
        registry.set.clear()
        try:
            if step % 3 == 0:
                record = releases.release(DEPLOYMENT, version, reason=reason, by=by)
            elif step % 3 == 1:
                record = releases.release(
                    DEPLOYMENT, version, strategy="canary", percent=10, reason=reason, by=by
                )
            else:
                record = releases.rollback(DEPLOYMENT, reason=reason, by=by)
        except ReleaseRefused:  # decided on a state another process changed meanwhile
            refused += 1
            continue
        made.append(
            {
                "id": record.id,
                "actor": record.actor,
                "reason": record.reason,
                "action": record.action,
                "champion": record.champion,
                "challenger": record.challenger,
                "asked": version if step % 3 != 2 else None,
                "strategy": ("direct", "canary", None)[step % 3],
                "aliases": list(registry.set),
            }
        )
    return made, refused


@pytest.mark.both_databases
def test_each_concurrent_release_returns_and_audits_its_own_record(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.upgrade()
        clock = SystemClock()
        gates, store, audit = GateStore(db, clock), DeployStore(db, clock), AuditStore(db, clock)
        for version in range(1, VERSIONS + 1):
            run_id = gates.add_run(
                model=MODEL,
                version=version,
                verdict="passed",
                gold_name=None,
                gold_version=None,
                triggered_by="ana",
                started_at=datetime.now(UTC),
                result={"checks": []},
            )
            gates.add_signoff(
                gates.get(run_id), decision="accepted", actor="olga", role="operator", reason=""
            )
        store.create(DEPLOYMENT, MODEL, "online", actor="olga")

        jobs = [(database_url, f"operator-{n}", n) for n in range(PROCESSES)]
        reports = race(releasing, jobs)

        returned = [made for report in reports for made in report["made"]]
        for report in reports:
            assert report["made"], f"{report['who']} never got a release in ({report['refused']})"
            for made in report["made"]:
                mine = (made["actor"], made["reason"].split(" step ")[0])
                assert mine == (report["who"], report["who"]), made  # its own record
                if made["strategy"] == "direct":
                    assert (made["champion"], made["challenger"]) == (made["asked"], None), made
                elif made["strategy"] == "canary":
                    assert made["challenger"] == made["asked"], made
                expected = [("champion", str(made["champion"]))]
                if made["challenger"] is not None:
                    expected.append(("challenger", str(made["challenger"])))
                assert made["aliases"] == expected, made  # mirrored from its own record (roles)
        ids = [made["id"] for made in returned]
        assert len(ids) == len(set(ids))
        history = {r.id: r for r in store.history(DEPLOYMENT)}
        assert set(ids) == set(history)  # every release in the history went to one caller
        for made in returned:
            release = history[made["id"]]
            assert (release.actor, release.reason, release.action) == (
                made["actor"],
                made["reason"],
                made["action"],
            )

        entries = audit.list(kind="deployment.changed", limit=10_000)
        assert len(entries) == len(history)
        for entry in entries:
            release = history[entry.payload["release_id"]]
            described = {key: entry.payload[key] for key in ("action", "champion", "challenger")}
            assert (entry.actor, entry.reason) == (release.actor, release.reason), entry
            assert described == {
                "action": release.action,
                "champion": release.champion,
                "challenger": release.challenger,
            }, entry
            assert (entry.payload["strategy"], entry.payload["percent"]) == (
                release.strategy,
                release.percent,
            )
    finally:
        db.dispose()
