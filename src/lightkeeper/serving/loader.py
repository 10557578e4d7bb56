"""The model loader: keeps what a server serves equal to its deployment's desired state.

A background thread reads the desired state (the newest release) every ``poll`` seconds.
When it changes, the new versions are loaded and warmed up on gold rows off the request
path, and only then swapped in, in one assignment, so a request sees the old plan or the
new one, never half of each. If loading or warm-up fails, the current plan stays, the
readiness detail says why and a ``serving.swap_failed`` event is recorded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightkeeper.errors import first_line
from lightkeeper.events import ServingSwapFailed, ServingSwapped
from lightkeeper.inputs import RowValidator
from lightkeeper.periodic import Periodic
from lightkeeper.serving.batching import Batcher
from lightkeeper.serving.frames import predict_function

if TYPE_CHECKING:
    from collections.abc import Callable

    from lightkeeper.events import EventBus
    from lightkeeper.manifest import Manifest
    from lightkeeper.predictor import Predictor
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import DeployStore, Release
    from lightkeeper.store.gold import GoldStore

log = logging.getLogger(__name__)

WARMUP_ROWS = 32
RETRY_FAILED_SECONDS = 30.0


@dataclass(frozen=True, eq=False)
class Arm:
    """A loaded, warmed-up version: its manifest (logging), row validator and batcher."""

    predictor: Predictor
    manifest: Manifest | None
    warmed_on: int  # gold rows scored during warm-up
    batcher: Batcher
    validator: RowValidator

    @property
    def version(self) -> int:
        """The version number."""
        return self.predictor.version


@dataclass(frozen=True)
class Plan:
    """What a server serves: a champion and an optional challenger on canary or shadow."""

    release_id: int | None = None
    champion: Arm | None = None
    challenger: Arm | None = None
    strategy: str | None = None
    percent: float | None = None

    def versions(self) -> dict[str, int]:
        """Loaded versions by arm."""
        arms = {"champion": self.champion, "challenger": self.challenger}
        return {name: arm.version for name, arm in arms.items() if arm is not None}


class Follower:
    """Follow a deployment's desired state; load, warm up and swap in the background."""

    def __init__(
        self,
        deployment: str,
        *,
        deployments: DeployStore,
        gold: GoldStore,
        registry: Registry,
        bus: EventBus,
        instance_id: str,
        poll: float = 0.5,
        on_swap: Callable[[str], object] | None = None,
    ) -> None:
        self.deployments = deployments
        self.gold = gold
        self.registry = registry
        self.bus = bus
        self.deployment = deployment
        self.instance_id = instance_id
        self.poll = poll
        self.plan = Plan()
        self.detail = "starting"
        self._on_swap = on_swap
        self._model: str | None = None
        self._cache: dict[int, Arm] = {}
        self._failed: tuple[int, float] | None = None  # (release id, when)
        self._db_error: str | None = None
        self._loop = Periodic("lk-follower", poll, self.sync)

    @property
    def ready(self) -> bool:
        """A champion is loaded and warmed up."""
        return self.plan.champion is not None

    # -- the loop ---------------------------------------------------------------------
    def start(self) -> None:
        """Start following in a background thread."""
        self._loop.start()

    def stop(self) -> None:
        """Stop following (the current plan stays loaded)."""
        self._loop.stop()

    def sync(self) -> None:
        """One step: read the desired state and apply it if it changed."""
        try:
            if self._model is None:
                self._model = self.deployments.get(self.deployment).model
            desired = self.deployments.current(self.deployment)
        except Exception as exc:  # the database is down: keep serving what we have
            message = first_line(exc)
            if message != self._db_error:
                log.warning(
                    "%s: cannot read the desired state, serving on: %s", self.deployment, message
                )
                self._db_error = message
            if not self.ready:
                self.detail = f"cannot read the desired state: {message}"
            return
        if self._db_error is not None:
            log.info("%s: desired state readable again", self.deployment)
            self._db_error = None
        if desired is None:
            self.detail = (
                f"{self.deployment} has no release yet: lightkeeper release {self.deployment} V"
            )
            return
        if desired.id == self.plan.release_id:
            return
        failed = self._failed
        if (
            failed
            and failed[0] == desired.id
            and time.monotonic() - failed[1] < RETRY_FAILED_SECONDS
        ):
            return
        self._apply(desired)

    # -- applying a release -----------------------------------------------------------
    def _apply(self, desired: Release) -> None:
        wanted = [v for v in (desired.champion, desired.challenger) if v is not None]
        for version in wanted:
            if version in self._cache:
                continue
            try:
                self._cache[version] = self._load(version)
            except Exception as exc:
                self._refuse(desired, version, exc)
                return
        plan = Plan(
            release_id=desired.id,
            champion=self._cache[desired.champion] if desired.champion is not None else None,
            challenger=self._cache[desired.challenger] if desired.challenger is not None else None,
            strategy=desired.strategy,
            percent=desired.percent,
        )
        previous = self.plan
        self.plan = plan  # the swap: one reference assignment
        self._failed = None
        self.detail = "ready"
        keep = set(wanted) | set(previous.versions().values())
        self._cache = {v: arm for v, arm in self._cache.items() if v in keep}
        log.info(
            "%s: serving release %s (champion %s, challenger %s %s)",
            self.deployment,
            desired.id,
            desired.champion,
            desired.challenger,
            desired.strategy,
        )
        if self._on_swap is not None:
            self._on_swap("ok")
        self._publish(
            ServingSwapped(
                actor=f"serve:{self.instance_id}",
                deployment=self.deployment,
                instance_id=self.instance_id,
                release_id=desired.id,
                champion=desired.champion,
                challenger=desired.challenger,
                strategy=desired.strategy,
            )
        )

    def _load(self, version: int) -> Arm:
        assert self._model is not None
        predictor = self.registry.load(self._model, version)
        manifest = self.registry.manifest(self._model, version)
        predict = predict_function(predictor, manifest)
        rows = self._warmup_rows(manifest)
        if rows:
            try:
                predict(rows)
            except Exception as exc:
                raise RuntimeError(
                    f"warm-up on {len(rows)} gold row(s) failed: {type(exc).__name__}: {exc}"
                ) from exc
        return Arm(
            predictor=predictor,
            manifest=manifest,
            warmed_on=len(rows),
            batcher=Batcher(predict),
            validator=RowValidator(manifest, predictor.feature_names),
        )

    def _warmup_rows(self, manifest: Manifest | None) -> list[dict[str, Any]]:
        if manifest is None or manifest.gate is None:
            return []
        from lightkeeper.gold import load_gold

        gold = self.gold.latest_approved(manifest.gate.gold)
        if gold is None:
            return []
        frame = load_gold(gold)
        columns = [c for c in manifest.feature_names if c in frame.columns]
        sample = frame[columns].head(WARMUP_ROWS)
        return [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in sample.to_dict(orient="records")
        ]

    def _refuse(self, desired: Release, version: int, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {first_line(exc)}"
        serving = self.plan.champion.version if self.plan.champion else None
        first_time = self._failed is None or self._failed[0] != desired.id
        self._failed = (desired.id, time.monotonic())
        where = f"serving version {serving}" if serving is not None else "serving nothing"
        self.detail = f"{where}; release {desired.id} (version {version}) not applied: {message}"
        log.error("%s: %s", self.deployment, self.detail)
        if self._on_swap is not None:
            self._on_swap("failed")
        if first_time:
            self._publish(
                ServingSwapFailed(
                    actor=f"serve:{self.instance_id}",
                    reason=message,
                    deployment=self.deployment,
                    instance_id=self.instance_id,
                    release_id=desired.id,
                    version=version,
                    serving=serving,
                    error=message,
                )
            )

    def _publish(self, event: ServingSwapped | ServingSwapFailed) -> None:
        try:
            self.bus.publish(event)
        except Exception as exc:  # the audit trail is down; serving goes on
            log.warning("%s: cannot record %s: %s", self.deployment, event.kind, first_line(exc))
